import Foundation
import TandemTestSupport
import Testing

/// Three models owned by two teams in one repository (different kinds and feature subsets), promoted into one prod
/// and rolled back in turn through the stage binaries, on real git repositories: after every step
/// `tandem promote check --env prod` finds every lane holding (docs/models.md).
private let relevance = "relevance-ranker"
private let popularity = "popularity-ranker"
private let freshness = "freshness-ranker"

@Suite("Model lanes, end to end: three models, two teams, one prod")
struct ModelLanesBinaryTests {

    /// The discovery team's two models: a linear ranker over 4 features and a small MLP over 8, owned by erin and
    /// frank, with a policy of their own; relevance-ranker keeps prod's approvers (alice, bob, release-bot) and policy.
    static let popularityYAML = """
        model: popularity-ranker
        kind: linear
        features:
          set: relevance_v1
          names: [log1p_views, bm25_title, overlap_title_frac, all_q_in_title]
        owners:
          team: discovery
          approvers: [erin, frank]
          policy:              # the team ships any challenger that passes the tests (lanes, not quality, are tested)
            min_improvement: -1
            guardrails: []
        training:
          max_epochs: 8
          learning_rate: 0.01
          seed: 11
        """
    static let freshnessYAML = """
        model: freshness-ranker
        kind: mlp
        features:
          set: relevance_v1
          names: [bm25_title, bm25_desc, overlap_title, overlap_desc, q_len, title_len, log1p_views, exact_phrase_title]
        owners:
          team: discovery
          approvers: [erin, frank]
          approvals: 1
          policy:
            min_improvement: -1
            guardrails: []
        training:
          hidden: [16]
          max_epochs: 8
          seed: 13
        """

    final class World: @unchecked Sendable {
        let repo: ScratchRepository
        let remote: String
        var root: String { repo.root }

        init() throws {
            repo = try ScratchRepository()
            remote = repo.root + "-remote.git"
            try FileManager.default.copyItem(atPath: Binaries.repository + "/models", toPath: root + "/models")
            try? FileManager.default.removeItem(atPath: root + "/models/relevance-ranker.lock.json")
            try repo.write("models/popularity.yaml", ModelLanesBinaryTests.popularityYAML)
            try repo.write("models/freshness.yaml", ModelLanesBinaryTests.freshnessYAML)
            try repo.write("src/shared.txt", "shared\n")
            try repo.write(".gitignore", ".tandem/\n")
            let prod = root + "/environments/prod.yaml"
            try String(contentsOfFile: prod, encoding: .utf8).replacingOccurrences(
                of: "latency_budget_ms: 50", with: "latency_budget_ms: 2000"
            ).write(toFile: prod, atomically: true, encoding: .utf8)
            try git(["init", "-q", "-b", "main"])
            try git(["add", "-A"])
            try git(["-c", "user.name=dev", "-c", "user.email=dev@x", "commit", "-qm", "three models"])
            try PromotionRepository.git(["init", "-q", "--bare", remote], in: root)
            try git(["remote", "add", "origin", remote])
            try git(["push", "-q", "origin", "main", "main:production"])
            let etl = try repo.run("tandem-etl", ["--env", "test"])
            #expect(etl.status == 0, "\(etl.stderr)")
        }

        @discardableResult
        func git(_ arguments: [String]) throws -> String { try PromotionRepository.git(arguments, in: root) }

        func run(_ binary: String, _ arguments: [String], as actor: String = "dana") throws -> Run {
            try repo.run(binary, arguments, environment: ["TANDEM_ACTOR": actor, "TANDEM_FLUSH_SECONDS": "0"])
        }

        /// A branch from production's head (fetched), with `model` trained on it (its lock file committed) and an
        /// optional change to a shared file.
        func branch(_ name: String, model: String, weak: Bool, shared: String? = nil) throws {
            try git(["fetch", "-q", "origin", "production"])
            try git(["checkout", "-q", "-b", name, "FETCH_HEAD"])
            if let shared {
                try repo.write("src/shared.txt", shared)
                try git(["-c", "user.name=dev", "-c", "user.email=dev@x", "commit", "-qam", "shared: \(name)"])
            }
            let settings =
                weak
                ? ["--set", "training.max_epochs=1", "--set", "training.learning_rate=0.00001"]
                : ["--set", "training.seed=\(name.count + 100)"]
            let train = try run("tandem-train", ["--env", "test", "--model", model, "--batch"] + settings)
            #expect(train.status == 0, "\(name): \(train.stdout)\(train.stderr)")
        }

        /// Starts the promotion of `branch` (its model found from the lock file it changed) and returns its id.
        func start(_ branch: String) throws -> String {
            let run = try self.run("tandem-promote", ["start", "--env", "test", "--branch", branch, "--json"])
            #expect(run.status == 4, "\(branch): \(run.stdout)\(run.stderr)")
            let id = (try? json(run.stdout)["id"] as? String) ?? ""
            #expect(!id.isEmpty, "\(branch): \(run.stdout)\(run.stderr)")
            return id
        }

        func approve(_ id: String, as actor: String) throws -> Run {
            try run("tandem-promote", ["approve", "--env", "test", id], as: actor)
        }

        func champion(_ model: String) throws -> Int? {
            let run = try self.run("tandem-models", ["show", "--env", "prod", "\(model)@champion", "--json"])
            guard run.status == 0 else { return nil }
            return try json(run.stdout)["version"] as? Int
        }

        func champions() throws -> [String: Int] {
            var out: [String: Int] = [:]
            for m in [relevance, popularity, freshness] { out[m] = try champion(m) }
            return out
        }

        func productionHead() throws -> String {
            String(try git(["ls-remote", "origin", "refs/heads/production"]).split(separator: "\t").first ?? "")
        }

        /// `tandem promote check --env prod` holds for every model.
        func expectLanesHold(_ step: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
            let check = try run("tandem-promote", ["check", "--env", "prod", "--json"], as: "alice")
            #expect(check.status == 0, "\(step): \(check.stdout)\(check.stderr)", sourceLocation: sourceLocation)
        }

        func remove() {
            repo.remove()
            try? FileManager.default.removeItem(atPath: remote)
        }
    }

    @Test("12 interleaved promotions and rollbacks of three models: every lane holds after every step")
    func interleaved() async throws {
        try await offPool {
            let w = try World()
            defer { w.remove() }
            let models = try w.run("tandem-models", ["list", "--env", "test", "--json"])
            #expect(models.status == 0 && models.stdout.contains("\"team\" : \"discovery\""), "\(models.stdout)")
            // Three first releases, each approved by its own approvers; the other team's are refused.
            try w.branch("feature/rel-1", model: relevance, weak: true)
            let rel1 = try w.start("feature/rel-1")
            #expect(try w.approve(rel1, as: "bob").status == 0)
            try w.expectLanesHold("rel-1")
            try w.branch("feature/pop-1", model: popularity, weak: true)
            let pop1 = try w.start("feature/pop-1")
            let alice = try w.approve(pop1, as: "alice")
            #expect(alice.status == 2 && alice.stderr.contains("for popularity-ranker (owners.approvers"), "\(alice.stderr)")
            #expect(try w.approve(pop1, as: "erin").status == 0)
            try w.expectLanesHold("pop-1")
            try w.branch("feature/fresh-1", model: freshness, weak: true)
            let fresh1 = try w.start("feature/fresh-1")
            #expect(try w.approve(fresh1, as: "frank").status == 0)
            try w.expectLanesHold("fresh-1")
            #expect(try w.champions() == [relevance: 1, popularity: 1, freshness: 1])

            // Two models at once: both wait for approval, approved in the other order.
            try w.branch("feature/rel-2", model: relevance, weak: false)
            try w.branch("feature/pop-2", model: popularity, weak: false)
            let rel2 = try w.start("feature/rel-2")
            let pop2 = try w.start("feature/pop-2")
            #expect(try w.approve(pop2, as: "frank").status == 0)
            try w.expectLanesHold("pop-2")
            #expect(try w.approve(rel2, as: "bob").status == 0)
            try w.expectLanesHold("rel-2")
            #expect(try w.champions() == [relevance: 2, popularity: 2, freshness: 1])

            // Rolling back one model leaves the others: popularity back to 1, relevance stays at 2.
            let refused = try w.run("tandem-promote", ["rollback", "--env", "prod", "--model", popularity], as: "alice")
            #expect(refused.status == 2, "\(refused.stderr)")
            let popBack = try w.run("tandem-promote", ["rollback", "--env", "prod", "--model", popularity], as: "erin")
            #expect(popBack.status == 0, "\(popBack.stdout)\(popBack.stderr)")
            try w.expectLanesHold("rollback pop")
            #expect(try w.champions() == [relevance: 2, popularity: 1, freshness: 1])
            let relBack = try w.run("tandem-promote", ["rollback", "--env", "prod", "--model", relevance], as: "bob")
            #expect(relBack.status == 0, "\(relBack.stdout)\(relBack.stderr)")
            try w.expectLanesHold("rollback rel")
            #expect(try w.champions() == [relevance: 1, popularity: 1, freshness: 1])

            // freshness changes a shared file; a later relevance promotion changes it again.
            try w.branch("feature/fresh-2", model: freshness, weak: false, shared: "shared by freshness\n")
            let fresh2 = try w.start("feature/fresh-2")
            #expect(try w.approve(fresh2, as: "erin").status == 0)
            try w.expectLanesHold("fresh-2")
            try w.branch("feature/rel-3", model: relevance, weak: false, shared: "shared by relevance\n")
            let rel3 = try w.start("feature/rel-3")
            #expect(try w.approve(rel3, as: "alice").status == 0)
            try w.expectLanesHold("rel-3")
            #expect(try w.champions() == [relevance: 3, popularity: 1, freshness: 2])

            // Undoing freshness-2 now conflicts with relevance-3 in src/shared.txt: refused, nothing changed.
            let head = try w.productionHead()
            let conflict = try w.run("tandem-promote", ["rollback", "--env", "prod", "--model", freshness], as: "frank")
            #expect(conflict.status == 1, "\(conflict.stdout)\(conflict.stderr)")
            #expect(conflict.stderr.contains("src/shared.txt") && conflict.stderr.contains("nothing was changed"))
            #expect(try w.productionHead() == head)
            #expect(try w.champions() == [relevance: 3, popularity: 1, freshness: 2])
            try w.expectLanesHold("refused rollback")

            // Once relevance-3 is rolled back, freshness-2 rolls back cleanly.
            #expect(try w.run("tandem-promote", ["rollback", "--env", "prod", "--model", relevance], as: "bob").status == 0)
            try w.expectLanesHold("rollback rel-3")
            #expect(try w.run("tandem-promote", ["rollback", "--env", "prod", "--model", freshness], as: "frank").status == 0)
            try w.expectLanesHold("rollback fresh-2")
            #expect(try w.champions() == [relevance: 1, popularity: 1, freshness: 1])
            try w.git(["fetch", "-q", "origin", "production"])
            #expect(try w.git(["show", "FETCH_HEAD:src/shared.txt"]) == "shared")

            // A branch that adds its author to its model's approvers: production's owners judge it, and the
            // report shows the change.
            try w.branch("feature/pop-owners", model: popularity, weak: false)
            try w.repo.write(
                "models/popularity.yaml",
                ModelLanesBinaryTests.popularityYAML.replacingOccurrences(of: "[erin, frank]", with: "[erin, frank, mallory]"))
            try w.git(["-c", "user.name=dev", "-c", "user.email=dev@x", "commit", "-qam", "let mallory approve"])
            let own = try w.start("feature/pop-owners")
            let status = try w.run("tandem-promote", ["status", "--env", "test", own])
            #expect(
                status.stdout.contains(
                    "owners of popularity-ranker: approvals.approvers [erin, frank] → [erin, frank, mallory]"),
                "\(status.stdout)")
            #expect(try w.approve(own, as: "mallory").status == 2)
            #expect(try w.run("tandem-promote", ["reject", "--env", "test", own, "--reason", "not yet"], as: "erin").status == 1)

            // A branch that changes two models' files is refused at start, nothing recorded.
            try w.branch("feature/both", model: popularity, weak: false)
            try w.repo.write("models/freshness.yaml", ModelLanesBinaryTests.freshnessYAML + "\n# tuned\n")
            try w.git(["-c", "user.name=dev", "-c", "user.email=dev@x", "commit", "-qam", "touch freshness too"])
            let both = try w.run("tandem-promote", ["start", "--env", "test", "--branch", "feature/both"])
            #expect(both.status == 1 && both.stderr.contains("freshness-ranker"), "\(both.stdout)\(both.stderr)")
        }
    }
}
