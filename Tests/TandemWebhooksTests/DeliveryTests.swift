import Foundation
import TandemHTTP
import TandemProfiles
import TandemTestSupport
import Testing

@testable import TandemWebhooks

let githubToken = "ghp_TESTTOKEN1234567890"
let webhookSecret = "whsec_" + Data("a 24-byte signing secret".utf8).base64EncodedString()

func event(_ type: String, promotion: String = "p1", summary: String = "NDCG@10 +0.012, 95% CI [+0.004, +0.020]") -> WebhookEvent
{
    WebhookEvent(
        type: type, promotionID: promotion, environment: "prod", state: "testing",
        commit: "0123456789abcdef0123456789abcdef01234567",
        branch: "feature/x", model: "relevance-ranker", modelVersion: 3, reportDigest: "ab12", summary: summary,
        link: "https://ci.example/p1", time: "2026-11-28T12:00:00Z")
}

/// A generic (Standard Webhooks) notifier of every event, signed with the secret in $S.
func genericNotifier(_ name: String, _ url: String) -> NotifierSettings {
    NotifierSettings(name: name, kind: .generic, url: url, urlEnv: nil, secretEnv: "S", events: ["*"])
}

func profile(reporter: ReporterSettings, notifiers: [NotifierSettings] = []) throws -> Profile {
    var p = try ProfileSet.decodeSingle(
        """
        roots: {features: file://f, registry: file://r, compute: local://}
        git: {production_branch: main}
        approvals: {required: 0, approvers: []}
        policy: {primary_metric: ndcg@10, min_improvement: 0, confidence: 0.95}
        """, name: "prod", file: "environments/prod.yaml")
    p.reporter = reporter
    p.notifiers = notifiers
    return p
}

struct Harness {
    let folder = NSTemporaryDirectory() + "tandem-outbox-\(UUID().uuidString)"
    let outbox: Outbox
    let deliverer: Deliverer

    init(environment: [String: String], timeout: Double = 10, secretVariables: [String] = []) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        outbox = try Outbox(root: folder)
        var policy = RetryPolicy()
        policy.baseDelay = 0.05
        policy.maxDelay = 1.5
        policy.maxAttempts = 4
        deliverer = Deliverer(
            outbox: outbox, transport: CurlTransport(), policy: policy, environment: environment,
            secretVariables: secretVariables)
        deliverer.requestTimeout = timeout
    }

    func remove() { try? FileManager.default.removeItem(atPath: folder) }
}

@Suite("Webhook delivery against a real receiver on 127.0.0.1", .serialized)
struct DeliveryTests {
    @Test("GitHub commit statuses arrive with GitHub's exact shape; the token never reaches storage")
    func github() async throws {
        let receiver = try Receiver(environment: ["GITHUB_TOKEN": githubToken])
        defer { receiver.stop() }
        let h = try Harness(environment: ["GITHUB_TOKEN": githubToken])
        defer { h.remove() }
        let reporter = ReporterSettings(
            kind: .github, api: receiver.base + "/github", repository: "acme/ranker",
            context: "tandem/promotion/prod", tokenEnv: "GITHUB_TOKEN")
        let long = String(repeating: "x", count: 300)
        try h.outbox.enqueue(
            MessageFactory.messages(for: event("promotion.requested"), profile: try profile(reporter: reporter), now: "t"))
        try h.outbox.enqueue(
            MessageFactory.messages(
                for: event("promotion.promoted", summary: long), profile: try profile(reporter: reporter), now: "t"))
        let summary = try await h.deliverer.flush(deadline: 120)
        #expect(summary.delivered == 2)
        let requests = try receiver.requests()
        #expect(requests.map { $0["answer"] as? Int } == [201, 201])
        #expect(
            requests.first?["path"] as? String == "/github/repos/acme/ranker/statuses/0123456789abcdef0123456789abcdef01234567")
        let bodies = requests.compactMap {
            ($0["body"] as? String).flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        }
        #expect(bodies.map { $0["state"] as? String } == ["pending", "success"])
        #expect(
            bodies.allSatisfy {
                $0["context"] as? String == "tandem/promotion/prod" && $0["target_url"] as? String == "https://ci.example/p1"
            })
        #expect((bodies.last?["description"] as? String)?.count == 140)
        let stored = try String(contentsOfFile: h.outbox.path, encoding: .isoLatin1)
        #expect(!stored.contains(githubToken))
    }

    @Test("a signed generic event verifies with an independent Standard Webhooks verifier; a wrong secret is rejected")
    func signed() async throws {
        let receiver = try Receiver(environment: ["WEBHOOK_SECRET": webhookSecret])
        defer { receiver.stop() }
        let notifier = NotifierSettings(
            name: "events", kind: .generic, url: receiver.base + "/signed/hook", urlEnv: nil,
            secretEnv: "SECRET", events: ["*"])
        let good = try Harness(environment: ["SECRET": webhookSecret])
        defer { good.remove() }
        try good.outbox.enqueue(
            MessageFactory.messages(
                for: event("promotion.evaluated"), profile: try profile(reporter: .init(kind: .none), notifiers: [notifier]),
                now: "t"))
        #expect(try await good.deliverer.flush(deadline: 120).delivered == 1)
        // A rotation: the old and the new secret both sign; the receiver knows one of them.
        let other = "whsec_" + Data("another secret, rotated out".utf8).base64EncodedString()
        let rotating = try Harness(environment: ["SECRET": other + " " + webhookSecret])
        defer { rotating.remove() }
        try rotating.outbox.enqueue(
            MessageFactory.messages(
                for: event("promotion.promoted"), profile: try profile(reporter: .init(kind: .none), notifiers: [notifier]),
                now: "t"))
        #expect(try await rotating.deliverer.flush(deadline: 120).delivered == 1)
        let wrong = try Harness(environment: ["SECRET": other])
        defer { wrong.remove() }
        try wrong.outbox.enqueue(
            MessageFactory.messages(
                for: event("promotion.failed"), profile: try profile(reporter: .init(kind: .none), notifiers: [notifier]),
                now: "t"))
        let summary = try await wrong.deliverer.flush(deadline: 120)
        #expect(summary.dead == 1)
        let requests = try receiver.requests()
        #expect(requests.map { $0["answer"] as? Int } == [204, 204, 401])
        let headers = requests[1]["headers"] as? [String: String] ?? [:]
        #expect(headers["webhook-signature"]?.split(separator: " ").count == 2)
        #expect(headers["webhook-id"] == (try rotating.outbox.list()).first?.message.id)
        let body = try #require(requests[0]["body"] as? String)
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
        for key in ["type", "promotion_id", "environment", "state", "commit", "model", "model_version", "report_digest", "time"] {
            #expect(doc[key] != nil, "generic event lacks \(key)")
        }
    }

    @Test("receiver down while a promotion runs, then up: every message arrives exactly once by id, in order")
    func outage() async throws {
        let port = unusedLocalPort()
        let h = try Harness(environment: [:])
        defer { h.remove() }
        let notifier = { (base: String) in
            genericNotifier("team", base + "/flaky/x")
        }
        let types = [
            "promotion.requested", "promotion.evaluated", "promotion.awaiting_approval", "promotion.approved",
            "promotion.promoted",
        ]
        var env = ["S": webhookSecret]
        _ = env
        let deliverer = Deliverer(
            outbox: h.outbox, transport: CurlTransport(), policy: h.deliverer.policy, environment: ["S": webhookSecret])
        // The endpoint is down: messages are stored and retried, none lost.
        for t in types {
            try h.outbox.enqueue(
                MessageFactory.messages(
                    for: event(t),
                    profile: try profile(reporter: .init(kind: .none), notifiers: [notifier("http://127.0.0.1:\(port)")]),
                    now: "t"))
        }
        let down = try await deliverer.flush(deadline: 0.3)
        #expect(down.delivered == 0)
        #expect(try h.outbox.counts()["pending"] == 5)
        // Up again: a receiver on that port (the messages' URL is fixed), flaky on first tries.
        let receiver = try ReceiverOnPort(port: port)
        defer { receiver.stop() }
        var policy = h.deliverer.policy
        policy.maxAttempts = 50
        let again = Deliverer(outbox: h.outbox, transport: CurlTransport(), policy: policy, environment: ["S": webhookSecret])
        let up = try await again.flush(deadline: 120)
        #expect(up.delivered == 5)
        let accepted = try receiver.requests().filter { $0["answer"] as? Int == 200 }
        let ids = accepted.compactMap { ($0["headers"] as? [String: String])?["webhook-id"] }
        #expect(Set(ids).count == 5 && ids.count == 5)
        let order = accepted.compactMap {
            ($0["body"] as? String).flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }?["type"]
                as? String
        }
        #expect(order == types)
        env = [:]
    }

    @Test("a permanently failing endpoint ends in the dead letters without blocking others; 429 Retry-After is honoured")
    func deadLetters() async throws {
        let receiver = try Receiver(environment: ["GITHUB_TOKEN": githubToken])
        defer { receiver.stop() }
        let h = try Harness(
            environment: ["GITHUB_TOKEN": githubToken, "S": webhookSecret], secretVariables: ["GITHUB_TOKEN", "S"])
        defer { h.remove() }
        let p = try profile(
            reporter: .init(kind: .github, api: receiver.base + "/github", repository: "acme/ranker", tokenEnv: "GITHUB_TOKEN"),
            notifiers: [
                genericNotifier("broken", receiver.base + "/reject/x"),
                genericNotifier("down", receiver.base + "/fail500/x"),
                genericNotifier("busy", receiver.base + "/throttle/x"),
            ])
        try h.outbox.enqueue(MessageFactory.messages(for: event("promotion.requested"), profile: p, now: "t"))
        try h.outbox.enqueue(MessageFactory.messages(for: event("promotion.evaluated"), profile: p, now: "t"))
        let started = Date()
        let summary = try await h.deliverer.flush(deadline: 120)
        #expect(summary.pending == 0)
        let all = try h.outbox.list()
        let byDestination = Dictionary(grouping: all, by: { $0.message.destination })
        #expect(byDestination["github"]?.allSatisfy { $0.delivery.state == "delivered" } == true)
        #expect(byDestination["busy"]?.allSatisfy { $0.delivery.state == "delivered" } == true)
        let broken = byDestination["broken"] ?? []
        #expect(broken.allSatisfy { $0.delivery.state == "dead" && $0.delivery.attempts == 1 && $0.delivery.lastStatus == 400 })
        #expect(broken.first?.delivery.lastResponse == "{\"message\": \"bad request\"}")
        let down = byDestination["down"] ?? []
        #expect(down.allSatisfy { $0.delivery.state == "dead" && $0.delivery.attempts == 4 && $0.delivery.lastStatus == 500 })
        #expect(
            down.allSatisfy {
                !($0.delivery.lastResponse ?? "").contains(githubToken) && ($0.delivery.lastResponse ?? "").contains("***")
            })
        // Two 429s with Retry-After: 1 for the first busy message: at least two seconds of waiting.
        #expect(Date().timeIntervalSince(started) >= 2)
        #expect(try h.outbox.list(state: "dead").count == 4)
        try h.outbox.retry(id: broken[0].message.id)
        #expect(try h.outbox.counts()["pending"] == 1)
    }

    @Test("a crash between enqueue and delivery loses nothing; a hung receiver times out and is retried")
    func crashAndHang() async throws {
        let receiver = try Receiver()
        defer { receiver.stop() }
        let folder: String
        do {
            let h = try Harness(environment: ["S": webhookSecret])
            folder = h.folder
            try h.outbox.enqueue(
                MessageFactory.messages(
                    for: event("promotion.requested"),
                    profile: try profile(
                        reporter: .init(kind: .none),
                        notifiers: [
                            genericNotifier("n", receiver.base + "/ok/x")
                        ]),
                    now: "t"))
        }
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // A new process opens the same outbox: the message is there and gets delivered.
        let reopened = try Outbox(root: folder)
        let deliverer = Deliverer(outbox: reopened, transport: CurlTransport(), environment: ["S": webhookSecret])
        #expect(try await deliverer.flush(deadline: 120).delivered == 1)

        let hung = try Harness(environment: ["S": webhookSecret], timeout: 1)
        defer { hung.remove() }
        try hung.outbox.enqueue(
            MessageFactory.messages(
                for: event("promotion.requested"),
                profile: try profile(
                    reporter: .init(kind: .none),
                    notifiers: [
                        genericNotifier("n", receiver.base + "/hang/x")
                    ]),
                now: "t"))
        let summary = try await hung.deliverer.flush(deadline: 1.5)
        #expect(summary.delivered == 0)
        let entry = try #require(try hung.outbox.list().first)
        #expect(entry.delivery.state == "pending")
        #expect((entry.delivery.lastError ?? "").contains("Timeout") || (entry.delivery.lastError ?? "").contains("timed out"))
    }

    @Test("a Slack notifier gets text and blocks; GitLab statuses use PRIVATE-TOKEN and GitLab's states")
    func slackAndGitLab() async throws {
        let receiver = try Receiver(environment: ["GITLAB_TOKEN": "glpat-TOKEN123"])
        defer { receiver.stop() }
        let h = try Harness(environment: ["GITLAB_TOKEN": "glpat-TOKEN123", "SLACK_URL": receiver.base + "/slack/T000/B000/XXXX"])
        defer { h.remove() }
        let p = try profile(
            reporter: .init(
                kind: .gitlab, api: receiver.base + "/gitlab/api/v4", project: "group/ranker", tokenEnv: "GITLAB_TOKEN"),
            notifiers: [
                .init(name: "team", kind: .slack, url: nil, urlEnv: "SLACK_URL", secretEnv: nil, events: ["promotion.failed"])
            ])
        try h.outbox.enqueue(MessageFactory.messages(for: event("promotion.requested"), profile: p, now: "t"))
        try h.outbox.enqueue(MessageFactory.messages(for: event("promotion.failed"), profile: p, now: "t"))
        #expect(try await h.deliverer.flush(deadline: 120).delivered == 3)
        let requests = try receiver.requests()
        #expect(requests.map { $0["answer"] as? Int }.sorted { ($0 ?? 0) < ($1 ?? 0) } == [200, 201, 201])
        let gitlab = requests.filter { ($0["path"] as? String)?.hasPrefix("/gitlab/") == true }
        #expect(gitlab.count == 2)
        #expect(
            gitlab.allSatisfy { ($0["path"] as? String)?.hasPrefix("/gitlab/api/v4/projects/group%2Franker/statuses/") == true })
        let states = gitlab.compactMap {
            ($0["body"] as? String).flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }?["state"]
                as? String
        }
        #expect(states == ["running", "failed"])
        let stored = try h.outbox.list()
        #expect(stored.allSatisfy { $0.message.url?.contains("/slack/") != true })
    }
}

/// A receiver on a given port (for the outage test), using the same script.
final class ReceiverOnPort {
    let process = Process()
    let log = NSTemporaryDirectory() + "tandem-receiver-\(UUID().uuidString).jsonl"

    init(port: Int) throws {
        FileManager.default.createFile(atPath: log, contents: nil)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", "-c",
            """
            import runpy, sys, http.server
            sys.argv = ["webhook_receiver.py", "\(log)"]
            original = http.server.ThreadingHTTPServer.__init__
            def init(self, address, handler, *a, **k):
                original(self, ("127.0.0.1", \(port)), handler, *a, **k)
            http.server.ThreadingHTTPServer.__init__ = init
            runpy.run_path("\(Receiver.script)", run_name="__main__")
            """,
        ]
        process.standardOutput = Pipe()
        try process.run()
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = UInt16(port).bigEndian
            let ok = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            close(fd)
            if ok == 0 { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
    }

    func stop() {
        // SIGKILL: a process spawned from a dispatch worker thread inherits its blocked signals, SIGTERM included.
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    func requests() throws -> [[String: Any]] {
        try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }
}

@Suite("Webhook delivery: connection resets", .serialized)
struct ResetTests {
    @Test("a receiver that resets the connection is retried, then dead-lettered; other endpoints are not held up")
    func reset() async throws {
        let receiver = try Receiver()
        defer { receiver.stop() }
        let h = try Harness(environment: ["S": webhookSecret])
        defer { h.remove() }
        let p = try profile(
            reporter: .init(kind: .none),
            notifiers: [
                genericNotifier("resetting", receiver.base + "/reset/x"),
                genericNotifier("fine", receiver.base + "/ok/x"),
            ])
        try h.outbox.enqueue(MessageFactory.messages(for: event("promotion.requested"), profile: p, now: "t"))
        let summary = try await h.deliverer.flush(deadline: 120)
        #expect(summary.delivered == 1)
        #expect(summary.dead == 1)
        let dead = try #require(try h.outbox.list(state: "dead").first)
        #expect(dead.message.destination == "resetting")
        #expect(dead.delivery.attempts == 4)
        #expect(dead.delivery.lastStatus == nil)
        // libcurl itself retries once when a kept-alive connection turns out dead, so the receiver sees 4 or more.
        #expect(try receiver.requests().filter { $0["answer"] as? String == "reset" }.count >= 4)

    }
}
