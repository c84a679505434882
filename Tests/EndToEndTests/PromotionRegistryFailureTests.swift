import Foundation
import TandemCore
import TandemTestSupport
import Testing

/// A prod registry that fails while a promotion is under way: the promotion stops with exit 3 at its evaluation
/// and prod is left as it was. A failure is never read as "no champion, first release".
@Suite("tandem promote against a prod registry that fails during the evaluation", .serialized)
struct PromotionRegistryFailureTests {
    /// The first release of feature/a, approved: prod's champion is version 1.
    func firstRelease(_ r: PromotionRepository) async throws {
        let (started, id) = try await r.start()
        #expect(started.status == 4, "\(started.stdout)\(started.stderr)")
        let approved = try await r.promote(["approve", "--env", "test", id, "--as", "alice"], as: "alice")
        #expect(approved.status == 0, "\(approved.stdout)\(approved.stderr)")
        #expect(try await r.champion() == 1)
    }

    /// Starts a promotion of feature/a and runs `damage` as soon as its integration-test job has started (the job
    /// takes seconds and never reads prod; the evaluation after it is the promotion's first read of prod).
    func startDamaging(_ r: PromotionRepository, _ damage: @escaping @Sendable () throws -> Void) async throws -> (Run, String) {
        let logs = r.root + "/.tandem/jobs/test/logs"
        @Sendable func integrationJobs() -> Int {
            ((try? FileManager.default.contentsOfDirectory(atPath: logs)) ?? []).filter {
                $0.hasPrefix("itest-") && $0.hasSuffix(".out")
            }.count
        }
        let before = integrationJobs()
        async let started = r.start()
        let damaged: Bool = try await offPool {
            let deadline = Date().addingTimeInterval(300)
            while integrationJobs() <= before && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
            guard integrationJobs() > before else { return false }
            try damage()
            return true
        }
        let run = try await started
        #expect(damaged, "the promotion's integration-test job never started: \(run.0.stdout)\(run.0.stderr)")
        return run
    }

    /// The state of the newest promotion (a promotion stopped by an error prints no JSON, so not its id either).
    func newestState(_ r: PromotionRepository) async throws -> String? {
        let list = try await r.promote(["list", "--env", "test", "--json"], as: "dana")
        let all = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
        #expect(all.count == 2)
        return all.first?["state"] as? String
    }

    func sqlite(_ database: String, _ query: String) throws -> String {
        let run = try ChildProcess.run("sqlite3", [database, query])
        #expect(run.termination.succeeded, "\(run.stderr)")
        return run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test(
        "a real MLflow prod registry stopped in the middle of a promotion: exit 3, prod unchanged",
        .enabled(if: MLflowServer.enabled))
    func mlflowStopped() async throws {
        let r = try await PromotionRepository.make()
        defer { r.remove() }
        let server = try await offPool { try MLflowServer() }
        defer { server.stop() }
        // prod's registry is on MLflow: production's profile says so (the promotion writes there) and so does the
        // checkout's (what `tandem models show --env prod` reads).
        let base = server.base
        try await r.commitOnProduction("environments/prod.yaml", message: "prod's registry on MLflow") {
            $0.replacingOccurrences(of: "file://.tandem/prod/registry", with: "mlflow+" + base)
        }
        let profile = r.root + "/environments/prod.yaml"
        try String(contentsOfFile: profile, encoding: .utf8).replacingOccurrences(
            of: "file://.tandem/prod/registry", with: "mlflow+" + base
        ).write(toFile: profile, atomically: true, encoding: .utf8)
        try await firstRelease(r)
        let head = try await r.productionHead()
        let aliases = "SELECT name || '@' || alias || '=' || version FROM registered_model_aliases ORDER BY alias"
        let versions = "SELECT COUNT(*) FROM model_versions"
        #expect(try sqlite(server.database, aliases) == "relevance-ranker@champion=1")

        let (run, _) = try await startDamaging(r) { server.stop() }
        #expect(run.status == 3, "\(run.stdout)\(run.stderr)")
        #expect(run.stderr.contains("unreachable"), "\(run.stderr)")
        #expect(!run.stdout.contains("first release"))
        #expect(try await newestState(r) == "evaluating")
        // Prod as it was: its branch, and (read from the stopped server's store) its versions and aliases.
        #expect(try await r.productionHead() == head)
        #expect(try sqlite(server.database, aliases) == "relevance-ranker@champion=1")
        #expect(try sqlite(server.database, versions) == "1")
    }

    enum Damage: String, CaseIterable, Sendable {
        /// registry.sqlite (and its WAL) removed; the artifacts stay.
        case database
        /// The root's ownership stamp removed.
        case stamp
        /// The champion alias left pointing at a version that is gone.
        case versions
        /// registry.sqlite overwritten with bytes that are not SQLite.
        case garbage
    }

    @Test("a file prod registry damaged in the middle of a promotion: exit 3, never a first release", arguments: Damage.allCases)
    func fileRegistryDamaged(_ damage: Damage) async throws {
        let r = try await PromotionRepository.make()
        defer { r.remove() }
        try await firstRelease(r)
        let head = try await r.productionHead()
        let registry = r.root + "/.tandem/prod/registry"
        let (run, _) = try await startDamaging(r) {
            let fm = FileManager.default
            switch damage {
            case .database:
                for suffix in ["", "-wal", "-shm"] { try? fm.removeItem(atPath: registry + "/registry.sqlite" + suffix) }
            case .stamp:
                try fm.removeItem(atPath: registry + "/.tandem-root.json")
            case .versions:
                _ = try ChildProcess.run("sqlite3", [registry + "/registry.sqlite", "DELETE FROM model_versions"])
            case .garbage:
                for suffix in ["-wal", "-shm"] { try? fm.removeItem(atPath: registry + "/registry.sqlite" + suffix) }
                try Data(repeating: 0x5A, count: 8192).write(to: URL(fileURLWithPath: registry + "/registry.sqlite"))
            }
        }
        #expect(run.status == 3, "\(run.stdout)\(run.stderr)")
        #expect(!run.stdout.contains("first release"))
        #expect(try await newestState(r) == "evaluating")
        #expect(try await r.productionHead() == head)
        switch damage {
        case .database:
            #expect(run.stderr.contains("registry.sqlite is missing"), "\(run.stderr)")
            #expect(!FileManager.default.fileExists(atPath: registry + "/registry.sqlite"))
        case .stamp:
            #expect(run.stderr.contains("no ownership stamp"), "\(run.stderr)")
            #expect(!FileManager.default.fileExists(atPath: registry + "/.tandem-root.json"))
        case .versions:
            #expect(run.stderr.contains("relevance-ranker@champion points at version 1"), "\(run.stderr)")
        case .garbage:
            #expect(run.stderr.contains("cannot open the database"), "\(run.stderr)")
        }
    }
}
