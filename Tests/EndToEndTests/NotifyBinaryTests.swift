import Foundation
import TandemCore
import TandemPostgres
import TandemTestSupport
import TandemWebhooks
import Testing

/// A signing secret for the test messages (Standard Webhooks, `whsec_` + base64).
let notifySecret = "whsec_" + Data("a 24-byte signing secret".utf8).base64EncodedString()

/// A scratch repository whose test environment has an outbox (created by a first, empty flush, which also stamps
/// the registry root), and that outbox.
func repositoryWithOutbox() throws -> (ScratchRepository, Outbox) {
    let repo = try ScratchRepository(withFixtures: false)
    let first = try repo.run("tandem-notify", ["flush", "--env", "test", "--wait", "0"])
    #expect(first.status == 0, "\(first.stderr)")
    return (repo, try Outbox(root: repo.root + "/.tandem/test/registry"))
}

/// `count` signed generic messages in `streams` streams, to `url` (or to the URL in $HOOK_URL when nil).
func signedMessages(_ count: Int, streams: Int, url: String?) -> [OutboxMessage] {
    (0..<count).map { i in
        OutboxMessage(
            stream: "p\(i % streams)/events", destination: "events", kind: "generic", eventType: "promotion.requested",
            url: url.map { $0 + "/p\(i % streams)" }, urlEnv: url == nil ? "HOOK_URL" : nil, secretEnv: "S",
            headers: ["Content-Type": "application/json"], body: "{\"n\":\(i)}", createdAt: "t")
    }
}

/// Starts a stage binary without waiting for it; its output goes to files.
func spawn(_ repo: ScratchRepository, _ executable: String, _ arguments: [String], environment: [String: String]) throws
    -> Process
{
    let process = Process()
    process.executableURL = URL(fileURLWithPath: Binaries.folder + "/" + executable)
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    env["TANDEM_ENV"] = nil
    for (k, v) in environment { env[k] = v }
    process.environment = env
    process.currentDirectoryURL = URL(fileURLWithPath: repo.root)
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    return process
}

/// A TCP port that accepts connections into its backlog and never answers: a request sent there hangs.
final class BlackHole {
    let fd: Int32
    let port: Int

    init() {
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        listen(s, 16)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(s, $0, &length) }
        }
        fd = s
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(fd) }
}

@Suite("tandem notify, end to end against a real receiver", .serialized)
struct NotifyBinaryTests {
    @Test("three `tandem notify flush` at the same time deliver each of 18 messages once, in order per stream")
    func parallelFlushers() async throws {
        let (repo, outbox) = try await offPool { try repositoryWithOutbox() }
        defer { repo.remove() }
        let receiver = try Receiver()
        defer { receiver.stop() }
        // A receiver that takes 0.2 s per message, so the three flushers overlap for seconds.
        try outbox.enqueue(signedMessages(18, streams: 6, url: receiver.base + "/slow"))
        let statuses = try await offPool {
            let flushers = try (0..<3).map { _ in
                try spawn(repo, "tandem-notify", ["flush", "--env", "test", "--wait", "60"], environment: ["S": notifySecret])
            }
            for f in flushers { f.waitUntilExit() }
            return flushers.map(\.terminationStatus)
        }
        #expect(statuses == [0, 0, 0])
        let requests = try receiver.requests()
        let ids = requests.compactMap { ($0["headers"] as? [String: String])?["webhook-id"] }
        #expect(ids.count == 18, "\(ids.count) POSTs for 18 messages")
        #expect(Set(ids).count == 18)
        #expect(try outbox.list().allSatisfy { $0.delivery.state == "delivered" && $0.delivery.attempts == 1 })
        for stream in 0..<6 {
            let order = requests.filter { $0["path"] as? String == "/slow/p\(stream)" }.compactMap {
                ($0["body"] as? String).flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Int] }?["n"]
            }
            #expect(order == order.sorted(), "stream \(stream) out of order: \(order)")
        }
    }

    @Test("a flusher killed (SIGKILL) while sending leaves its claim to expire; the next flush then delivers the message")
    func killedFlusher() async throws {
        let (repo, outbox) = try await offPool { try repositoryWithOutbox() }
        defer { repo.remove() }
        try await killFlusherThenRedeliver(repo, outbox, environment: [:])
    }

    /// Kills (SIGKILL) a `tandem notify flush` of `repo` while it sends `outbox`'s one message into a black hole, then
    /// checks that the next flush waits for the dead flusher's lease and delivers the message once.
    func killFlusherThenRedeliver(_ repo: ScratchRepository, _ outbox: any DeliveryQueue, environment: [String: String])
        async throws
    {
        let receiver = try Receiver(environment: ["WEBHOOK_SECRET": notifySecret])
        defer { receiver.stop() }
        let hole = BlackHole()
        try outbox.enqueue(signedMessages(1, streams: 1, url: nil))
        var lease = ["TANDEM_OUTBOX_LEASE_SECONDS": "6", "S": notifySecret]
        lease.merge(environment) { _, given in given }
        var first = lease
        first["HOOK_URL"] = "http://127.0.0.1:\(hole.port)/signed/x"
        let stuck = try spawn(repo, "tandem-notify", ["flush", "--env", "test", "--wait", "60"], environment: first)
        // Wait for its claim (its request then hangs in the black hole), and kill it.
        var claim: DeliveryState?
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if let d = try outbox.list(state: nil, limit: 10).first?.delivery, d.claimedUntil != nil {
                claim = d
                break
            }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        kill(stuck.processIdentifier, SIGKILL)
        stuck.waitUntilExit()
        let claimed = try #require(claim, "the flusher never claimed the message")
        #expect(claimed.claimedBy?.contains(":\(stuck.processIdentifier):") == true, "\(String(describing: claimed.claimedBy))")
        let listed = try await repo.run("tandem-notify", ["list", "--env", "test"], environment: environment)
        #expect(listed.stdout.contains("being sent by"), "\(listed.stdout)")

        // The next flush waits for the dead flusher's lease, then delivers, once, to the endpoint it has.
        var next = lease
        next["HOOK_URL"] = receiver.base + "/signed/x"
        let flush = try await repo.run("tandem-notify", ["flush", "--env", "test", "--wait", "30"], environment: next)
        #expect(flush.status == 0, "\(flush.stdout)\(flush.stderr)")
        #expect(Date().timeIntervalSince1970 >= (claimed.claimedUntil ?? 0) - 0.1, "delivered before the lease ended")
        #expect(try receiver.requests().map { $0["answer"] as? Int } == [204])
        let stored = try #require(try outbox.list(state: nil, limit: 10).first)
        #expect(stored.delivery.state == "delivered" && stored.delivery.claimedBy == nil)
    }

    @Test("a token with a newline is refused before any request, naming the variable and never its value")
    func headerInjection() async throws {
        let (repo, outbox) = try await offPool { try repositoryWithOutbox() }
        defer { repo.remove() }
        let token = "ghp_TESTTOKEN1234567890"
        let receiver = try Receiver(environment: ["GITHUB_TOKEN": token])
        defer { receiver.stop() }
        try outbox.enqueue([
            OutboxMessage(
                stream: "p1/github", destination: "github", kind: "github", eventType: "promotion.requested",
                url: receiver.base + "/github/repos/acme/ranker/statuses/0123456789abcdef", urlEnv: nil,
                tokenEnv: "GITHUB_TOKEN", authStyle: "bearer", headers: ["Content-Type": "application/json"],
                body: "{\"state\":\"pending\",\"context\":\"tandem\",\"description\":\"x\"}", createdAt: "t")
        ])
        let injected = token + "\r\nX-Injected: yes"
        let flush = try await repo.run(
            "tandem-notify", ["flush", "--env", "test", "--wait", "5"], environment: ["GITHUB_TOKEN": injected])
        #expect(flush.status == 2, "\(flush.stdout)\(flush.stderr)")
        #expect(flush.stderr.contains("$GITHUB_TOKEN holds a line break"), "\(flush.stderr)")
        #expect(!(flush.stdout + flush.stderr).contains(token) && !(flush.stdout + flush.stderr).contains("X-Injected"))
        let sent = try receiver.requests()
        #expect(sent.isEmpty, "a request was sent: \(sent)")
        let check = try await repo.run("tandem-env", ["check", "test"], environment: ["GITHUB_TOKEN": injected])
        #expect(check.stdout.contains("FAIL reporter.token_env: $GITHUB_TOKEN holds a line break"), "\(check.stdout)")
        #expect(!check.stdout.contains(token))
        // Fixed, it is sent, with one Authorization header and nothing injected.
        let fixed = try await repo.run(
            "tandem-notify", ["flush", "--env", "test", "--wait", "5"], environment: ["GITHUB_TOKEN": token])
        #expect(fixed.status == 0, "\(fixed.stdout)\(fixed.stderr)")
        let headers = try receiver.requests().first?["headers"] as? [String: String] ?? [:]
        #expect(headers["authorization"] == "Bearer " + token && headers["x-injected"] == nil)
    }

    @Test(
        "on a PostgreSQL state root too, a flusher killed (SIGKILL) while sending leaves its claim to expire; another delivers once",
        .enabled(if: PostgresServer.enabled))
    func killedFlusherOnPostgres() async throws {
        let server = try PostgresServer.require()
        let url = try server.database()
        let repo = try ScratchRepository(withFixtures: false)
        defer { repo.remove() }
        let test = repo.root + "/environments/test.yaml"
        try String(contentsOfFile: test, encoding: .utf8).replacingOccurrences(
            of: "  registry: file://.tandem/test/registry\n", with: "  registry: file://.tandem/test/registry\n  state: \(url)\n"
        ).write(toFile: test, atomically: true, encoding: .utf8)
        let password = [PostgresServer.passwordVariable: server.password]
        let first = try await repo.run("tandem-notify", ["flush", "--env", "test", "--wait", "0"], environment: password)
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        let outbox = PostgresOutbox(
            try PostgresState(try PostgresLocation.parse(url), environment: "test", variables: server.environment))
        try await killFlusherThenRedeliver(repo, outbox, environment: password)
    }
}
