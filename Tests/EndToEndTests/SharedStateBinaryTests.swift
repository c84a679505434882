import Foundation
import TandemCore
import TandemTestSupport
import Testing

/// Runners that share nothing but the remote, the shared roots and a PostgreSQL state root: each is a clone of its
/// own, as CI's fresh runners are.
struct SharedRunners {
    let repo: ScratchRepository
    let remote: String
    let shared: String
    let server: PostgresServer
    let receiver: Receiver
    /// The state root's database.
    let databaseName: String
    var env: [String: String]

    /// A repository whose test and prod registries live in `shared` (absolute: the storage every runner reaches), whose
    /// state root is a fresh database of `server`, and whose notifiers and reporter send to `receiver`.
    init(server: PostgresServer) throws {
        self.server = server
        repo = try ScratchRepository()
        remote = repo.root + "-remote.git"
        shared = repo.root + "-shared"
        receiver = try Receiver(environment: ["GITHUB_TOKEN": "ghs_test", "WEBHOOK_SECRET": notifySecret])
        let state = try server.database()
        databaseName = try PostgresLocation.parse(state).database
        try FileManager.default.copyItem(atPath: Binaries.repository + "/models", toPath: repo.root + "/models")
        try repo.write(".gitignore", ".tandem/\n")
        for name in ["test", "prod"] {
            let path = repo.root + "/environments/\(name).yaml"
            var text = try String(contentsOfFile: path, encoding: .utf8)
            // The registries are shared (as an MLflow server would be); the features are each runner's own: the
            // runner that approves has run no ETL.
            text = text.replacingOccurrences(of: "file://.tandem/\(name)/registry", with: "file://\(shared)/\(name)/registry")
                .replacingOccurrences(of: "https://api.github.com", with: receiver.base + "/github")
                .replacingOccurrences(of: "latency_budget_ms: 50", with: "latency_budget_ms: 2000")
                .replacingOccurrences(of: "https://hooks.acme-search.example/tandem", with: receiver.base + "/signed/release")
            if name == "test" {
                text = text.replacingOccurrences(
                    of: "  registry: file://\(shared)/test/registry\n",
                    with: "  registry: file://\(shared)/test/registry\n  state: \(state)\n")
            }
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        }
        env = [
            "TANDEM_FLUSH_SECONDS": "0", PostgresServer.passwordVariable: server.password, "GITHUB_TOKEN": "ghs_test",
            "SLACK_RANKING_WEBHOOK_URL": receiver.base + "/slack", "TANDEM_WEBHOOK_SECRET": notifySecret,
        ]
        try git(["init", "-q", "-b", "main"], in: repo.root)
        try git(["add", "-A"], in: repo.root)
        try git(["-c", "user.name=dev", "-c", "user.email=dev@x", "commit", "-qm", "shared roots"], in: repo.root)
        try PromotionRepository.git(["init", "-q", "--bare", remote], in: repo.root)
        try git(["remote", "add", "origin", remote], in: repo.root)
        try git(["push", "-q", "origin", "main", "main:production"], in: repo.root)
    }

    func git(_ arguments: [String], in directory: String) throws { try PromotionRepository.git(arguments, in: directory) }

    /// A fresh runner: a clone of the remote, on `branch`.
    func runner(_ name: String, branch: String = "main") throws -> String {
        let folder = repo.root + "-\(name)"
        try PromotionRepository.git(["clone", "-q", "-b", "main", remote, folder], in: repo.root)
        try git(["config", "user.name", name], in: folder)
        try git(["config", "user.email", "\(name)@x"], in: folder)
        if branch != "main" { try git(["checkout", "-q", branch], in: folder) }
        return folder
    }

    func run(_ stage: String, _ arguments: [String], in folder: String, as actor: String, extra: [String: String] = [:])
        throws -> Run
    {
        var e = env
        e["TANDEM_ACTOR"] = actor
        for (k, v) in extra { e[k] = v }
        return try Binaries.run(stage, arguments, in: folder, environment: e)
    }

    /// Runner A: the ETL, a training on `branch` (lock file committed and pushed), and `promote start`; the id.
    func startPromotion(branch: String) throws -> String {
        let a = try runner("a-\(branch.replacingOccurrences(of: "/", with: "-"))")
        let etl = try run("tandem-etl", ["--env", "test"], in: a, as: "dana")
        #expect(etl.status == 0, "\(etl.stdout)\(etl.stderr)")
        try git(["checkout", "-q", "-b", branch], in: a)
        let train = try run("tandem-train", ["--env", "test", "--batch", "--set", "training.max_epochs=1"], in: a, as: "dana")
        #expect(train.status == 0, "\(train.stdout)\(train.stderr)")
        try git(["push", "-q", "origin", branch], in: a)
        let start = try run("tandem-promote", ["start", "--env", "test", "--branch", branch, "--json"], in: a, as: "dana")
        #expect(start.status == 4, "\(start.stdout)\(start.stderr)")
        return (try? ModelLanesJSON.id(start.stdout)) ?? ""
    }

    func remove() {
        receiver.stop()
        repo.remove()
        for suffix in ["-remote.git", "-shared"] { try? FileManager.default.removeItem(atPath: repo.root + suffix) }
        let parent = (repo.root as NSString).deletingLastPathComponent
        let base = (repo.root as NSString).lastPathComponent
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? [] where entry.hasPrefix(base + "-") {
            try? FileManager.default.removeItem(atPath: parent + "/" + entry)
        }
    }

    /// What the state database answers to `sql`.
    func query(_ sql: String) throws -> String {
        try server.psql(sql, database: databaseName).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A promotion's state as the database holds it.
    func state(_ id: String) throws -> String {
        try query("SELECT body::json->>'state' FROM tandem_promotions WHERE id = '\(id)'")
    }
}

@Suite(
    "Promotion state on PostgreSQL, shared by runners that share nothing else", .enabled(if: PostgresServer.enabled), .serialized)
struct SharedStateBinaryTests {
    @Test("one runner starts a promotion, another approves it, a third flushes: each message once, prod consistent")
    func threeRunners() async throws {
        try await offPool {
            let s = try SharedRunners(server: try PostgresServer.require())
            defer { s.remove() }
            let id = try s.startPromotion(branch: "feature/m")
            #expect(id.hasPrefix("p-"))
            #expect(try s.state(id) == "awaiting_approval")
            // Runner B sees the promotion A started (the state is not in any checkout).
            let b = try s.runner("b", branch: "feature/m")
            let status = try s.run("tandem-promote", ["status", "--env", "test", id], in: b, as: "bob")
            #expect(status.status == 4 && status.stdout.contains("awaiting_approval"), "\(status.stdout)\(status.stderr)")
            let approve = try s.run("tandem-promote", ["approve", "--env", "test", id], in: b, as: "bob")
            #expect(approve.status == 0, "\(approve.stdout)\(approve.stderr)")
            #expect(try s.state(id) == "promoted")
            // Runner C flushes what A and B enqueued, and checks prod from the remote's production branch.
            let c = try s.runner("c")
            let pending = try s.run("tandem-notify", ["list", "--env", "test"], in: c, as: "ci")
            #expect(pending.stdout.contains("promotion.promoted"), "\(pending.stdout)\(pending.stderr)")
            let flush = try s.run("tandem-notify", ["flush", "--env", "test", "--wait", "20"], in: c, as: "ci")
            #expect(flush.status == 0, "\(flush.stdout)\(flush.stderr)")
            let again = try s.run("tandem-notify", ["flush", "--env", "test", "--wait", "0"], in: c, as: "ci")
            #expect(again.stdout.contains("delivered 0"), "\(again.stdout)")
            let requests = try s.receiver.requests()
            let ids = requests.compactMap { ($0["headers"] as? [String: String])?["webhook-id"] }
            #expect(!ids.isEmpty && Set(ids).count == ids.count, "every signed message once: \(ids)")
            #expect(try s.query("SELECT count(*) FROM tandem_outbox WHERE state <> 'delivered'") == "0")
            #expect(
                try s.query("SELECT count(*) FROM tandem_outbox") == String(requests.count),
                "as many requests as messages, whichever runner sent them")
            #expect(requests.allSatisfy { ($0["answer"] as? Int).map { $0 < 300 } ?? false }, "\(requests)")
            let paths = requests.compactMap { $0["path"] as? String }
            #expect(paths.contains { $0.hasPrefix("/slack") } && paths.contains { $0.hasPrefix("/github") }, "\(paths)")
            let check = try s.run("tandem-promote", ["check", "--env", "prod"], in: c, as: "ci")
            #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
            // Nothing of the state is in any checkout.
            for folder in [b, c] {
                #expect(!FileManager.default.fileExists(atPath: folder + "/.tandem/test/registry/promotions.sqlite"))
            }
        }
    }

    @Test(
        "a runner killed mid-promotion is recovered from another clone: before publishing, undone; after, finished",
        arguments: ["merge", "publish"])
    func killedRunner(step: String) async throws {
        try await offPool {
            let s = try SharedRunners(server: try PostgresServer.require())
            defer { s.remove() }
            let id = try s.startPromotion(branch: "feature/k")
            let b = try s.runner("b", branch: "feature/k")
            let killed = try s.run(
                "tandem-promote", ["approve", "--env", "test", id], in: b, as: "bob", extra: ["TANDEM_CRASH_AFTER": step])
            #expect(killed.status == 9 || killed.status == 137 || killed.status != 0, "killed after \(step)")
            #expect(try s.state(id) == "promoting")
            let d = try s.runner("d")
            let recover = try s.run("tandem-promote", ["recover", "--env", "test"], in: d, as: "ci")
            #expect(recover.status == 0, "\(recover.stdout)\(recover.stderr)")
            #expect(try s.state(id) == (step == "merge" ? "failed" : "promoted"), "\(recover.stdout)")
            let check = try s.run("tandem-promote", ["check", "--env", "prod"], in: d, as: "ci")
            #expect(check.status == 0, "prod consistent after recovering from \(step): \(check.stdout)\(check.stderr)")
            // The lock is free: a second promotion of the model can start.
            let list = try s.run("tandem-promote", ["list", "--env", "test"], in: d, as: "ci")
            #expect(list.stdout.contains(id), "\(list.stdout)")
        }
    }

    @Test("PostgreSQL restarted in the middle of a promotion's steps: the approving runner reconnects and finishes it")
    func restartMidPromotion() async throws {
        try await offPool {
            let server = try PostgresServer()
            let s = try SharedRunners(server: server)
            defer { s.remove() }
            let id = try s.startPromotion(branch: "feature/r")
            let b = try s.runner("b", branch: "feature/r")
            let marker = b + "/paused"
            var env = s.env
            env["TANDEM_ACTOR"] = "bob"
            env["TANDEM_PAUSE_AFTER"] = "merge"
            env["TANDEM_PAUSE_SECONDS"] = "4"
            env["TANDEM_PAUSE_MARKER"] = marker
            let approve = Process()
            approve.executableURL = URL(fileURLWithPath: Binaries.folder + "/tandem-promote")
            approve.arguments = ["approve", "--env", "test", id]
            var full = ProcessInfo.processInfo.environment
            full["TANDEM_ENV"] = nil
            for (k, v) in env { full[k] = v }
            approve.environment = full
            approve.currentDirectoryURL = URL(fileURLWithPath: b)
            approve.standardOutput = FileHandle.nullDevice
            approve.standardError = FileHandle.nullDevice
            try approve.run()
            let deadline = Date().addingTimeInterval(120)
            while !FileManager.default.fileExists(atPath: marker) && approve.isRunning && Date() < deadline {
                Thread.sleep(forTimeInterval: 0.05)
            }
            #expect(FileManager.default.fileExists(atPath: marker), "the promotion reached its pause after merge")
            try server.restart()
            approve.waitUntilExit()
            #expect(approve.terminationStatus == 0, "the promotion carried on after the restart")
            #expect(try s.state(id) == "promoted")
            let c = try s.runner("c")
            let check = try s.run("tandem-promote", ["check", "--env", "prod"], in: c, as: "ci")
            #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        }
    }
}
