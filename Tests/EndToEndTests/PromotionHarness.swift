import Foundation
import TandemTestSupport
import Testing

/// A scratch repository for promotions: a bare remote (`origin`) with `main` and `production` (made from main:
/// prod's rules are read from it), a feature branch whose model is registered in test (its lock file committed),
/// and the test environment's ETL done.
struct PromotionRepository {
    let repo: ScratchRepository
    let remote: String
    var root: String { repo.root }

    /// A template built once per test process and copied for each test (ETL and training take seconds).
    nonisolated(unsafe) static var template: (String, String)?
    static let lock = NSLock()

    static func make() throws -> PromotionRepository {
        lock.lock()
        defer { lock.unlock() }
        if template == nil {
            let repo = try ScratchRepository()
            try FileManager.default.copyItem(atPath: Binaries.repository + "/models", toPath: repo.root + "/models")
            try? FileManager.default.removeItem(atPath: repo.root + "/models/relevance-ranker.lock.json")
            try repo.write(".gitignore", ".tandem/\n")
            // The inference test's p99 budget, for machines as loaded as a parallel test run (a process can be off
            // the CPU for tens of milliseconds); PromotionBinaryTests.latencyBudget checks a budget that fails.
            let prod = repo.root + "/environments/prod.yaml"
            try String(contentsOfFile: prod, encoding: .utf8).replacingOccurrences(
                of: "latency_budget_ms: 50", with: "latency_budget_ms: 2000"
            ).write(toFile: prod, atomically: true, encoding: .utf8)
            let remote = repo.root + "-remote.git"
            try git(["init", "-q", "-b", "main"], in: repo.root)
            try git(["add", "-A"], in: repo.root)
            try git(["-c", "user.name=dev", "-c", "user.email=dev@x", "commit", "-qm", "init"], in: repo.root)
            try git(["init", "-q", "--bare", remote], in: repo.root)
            try git(["remote", "add", "origin", remote], in: repo.root)
            try git(["push", "-q", "origin", "main", "main:production"], in: repo.root)
            #expect(try repo.run("tandem-etl", ["--env", "test"]).status == 0)
            try git(["checkout", "-q", "-b", "feature/a"], in: repo.root)
            let train = try repo.run(
                // A deliberately weak first champion (one slow epoch), so the better branch of the tests wins clearly
                // on the 40 test queries of the sample data.
                "tandem-train", ["--env", "test", "--set", "training.max_epochs=1", "--set", "training.learning_rate=0.0003"],
                environment: ["TANDEM_ACTOR": "dana"])
            #expect(train.status == 0, "\(train.stderr)")
            template = (repo.root, remote)
        }
        guard let (root, remote) = template else { throw CocoaError(.fileNoSuchFile) }
        let copy = NSTemporaryDirectory() + "tandem-promo-\(UUID().uuidString)"
        try FileManager.default.copyItem(atPath: root, toPath: copy)
        try FileManager.default.copyItem(atPath: remote, toPath: copy + "-remote.git")
        try git(["remote", "set-url", "origin", copy + "-remote.git"], in: copy)
        return PromotionRepository(repo: ScratchRepositoryAt(copy), remote: copy + "-remote.git")
    }

    @discardableResult
    static func git(_ arguments: [String], in folder: String) throws -> String {
        let run = try Binaries.run("/usr/bin/env", ["git"] + arguments, in: folder)
        guard run.status == 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: run.stderr]) }
        return run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func git(_ arguments: [String]) throws -> String { try Self.git(arguments, in: root) }

    func promote(_ arguments: [String], as actor: String, environment: [String: String] = [:]) throws -> Run {
        var env = environment
        env["TANDEM_ACTOR"] = actor
        env["TANDEM_FLUSH_SECONDS"] = "0"
        return try repo.run("tandem-promote", arguments, environment: env)
    }

    func start(_ branch: String = "feature/a", as actor: String = "dana") throws -> (Run, String) {
        let run = try promote(["start", "--env", "test", "--branch", branch, "--json"], as: actor)
        let id = (try? json(run.stdout)["id"] as? String) ?? ""
        return (run, id)
    }

    /// Commits an edit of a file on the remote's production branch (as a release manager would, through a
    /// temporary worktree: the checkout stays as it is) and returns the new head.
    @discardableResult
    func commitOnProduction(_ file: String, message: String, _ edit: (String) -> String) throws -> String {
        let folder = root + "-production"
        try git(["fetch", "-q", "origin", "production"])
        try git(["worktree", "add", "-q", "--detach", folder, "FETCH_HEAD"])
        defer {
            _ = try? git(["worktree", "remove", "--force", folder])
            try? FileManager.default.removeItem(atPath: folder)
        }
        let path = folder + "/" + file
        try edit(try String(contentsOfFile: path, encoding: .utf8)).write(toFile: path, atomically: true, encoding: .utf8)
        try Self.git(["-c", "user.name=alice", "-c", "user.email=a@x", "commit", "-qam", message], in: folder)
        try Self.git(["push", "-q", "origin", "HEAD:production"], in: folder)
        return try Self.git(["rev-parse", "HEAD"], in: folder)
    }

    /// The production head every scratch repository starts with (main's).
    func initialProduction() throws -> String { try git(["rev-parse", "main"]) }

    /// The remote's production head, or "" when the branch does not exist there.
    func productionHead() throws -> String {
        let out = try git(["ls-remote", "origin", "refs/heads/production"])
        return String(out.split(separator: "\t").first ?? "")
    }

    /// The version prod's champion alias points at, or nil.
    func champion() throws -> Int? {
        let run = try repo.run("tandem-models", ["show", "--env", "prod", "relevance-ranker@champion", "--json"])
        guard run.status == 0 else { return nil }
        return try json(run.stdout)["version"] as? Int
    }

    func remove() {
        repo.remove()
        try? FileManager.default.removeItem(atPath: remote)
    }
}

/// A scratch repository at a given folder.
func ScratchRepositoryAt(_ root: String) -> ScratchRepository {
    ScratchRepository(existing: root)
}

extension ScratchRepository {
    init(existing root: String) { self.root = root }
}

/// The same operations for async tests, run off the cooperative pool (they wait for child processes for
/// seconds; on a 2-core machine the pool has two threads, which every other suite's async tests share).
extension PromotionRepository {
    static func make() async throws -> PromotionRepository { try await offPool { try PromotionRepository.make() } }

    @discardableResult
    static func git(_ arguments: [String], in folder: String) async throws -> String {
        try await offPool { try PromotionRepository.git(arguments, in: folder) }
    }

    func git(_ arguments: [String]) async throws -> String { try await offPool { try self.git(arguments) } }

    func promote(_ arguments: [String], as actor: String, environment: [String: String] = [:]) async throws -> Run {
        try await offPool { try self.promote(arguments, as: actor, environment: environment) }
    }

    func start(_ branch: String = "feature/a", as actor: String = "dana") async throws -> (Run, String) {
        try await offPool { try self.start(branch, as: actor) }
    }

    func productionHead() async throws -> String { try await offPool { try self.productionHead() } }

    @discardableResult
    func commitOnProduction(_ file: String, message: String, _ edit: @escaping @Sendable (String) -> String) async throws
        -> String
    {
        try await offPool { try self.commitOnProduction(file, message: message, edit) }
    }

    func initialProduction() async throws -> String { try await offPool { try self.initialProduction() } }

    func champion() async throws -> Int? { try await offPool { try self.champion() } }
}

extension ScratchRepository {
    func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:], removing: [String] = [])
        async throws -> Run
    {
        try await offPool { try self.run(executable, arguments, environment: environment, removing: removing) }
    }
}
