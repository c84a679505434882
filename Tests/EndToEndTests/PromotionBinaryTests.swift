import Foundation
import TandemTestSupport
import Testing

@Suite("tandem promote, end to end on real git repositories", .serialized)
struct PromotionBinaryTests {
    @Test("start → testing → evaluating → awaiting approval → approve → promoted; a better branch wins; rollback returns")
    func lifecycle() async throws {
        let r = try await PromotionRepository.make()
        defer { r.remove() }
        let (started, id) = try await r.start()
        #expect(started.status == 4, "\(started.stderr)")
        let doc = try json(started.stdout)
        #expect(doc["state"] as? String == "awaiting_approval")
        #expect((doc["tests"] as? [[String: Any]])?.map { $0["passed"] as? Bool } == [true, true, true])
        #expect(
            (doc["tests"] as? [[String: Any]])?.map { $0["name"] as? String }
                == ["training pipeline", "inference pipeline", "feature parity"])
        #expect(doc["decision"] as? String == "pass")
        #expect((doc["report"] as? String)?.contains("first release") == true)

        let approved = try await r.promote(["approve", "--env", "test", id, "--as", "alice"], as: "alice")
        #expect(approved.status == 0, "\(approved.stdout)\(approved.stderr)")
        #expect(approved.stdout.hasPrefix("promotion \(id): promoted"))
        let featureHead = try await r.git(["rev-parse", "feature/a"])
        // production: the branch's commit, plus the lock file naming prod's version.
        let firstRelease = try await r.productionHead()
        #expect(try await r.git(["rev-parse", "\(firstRelease)^"]) == featureHead)
        #expect(try await r.champion() == 1)
        #expect(try await r.git(["ls-remote", "--tags", "origin"]).contains("refs/tags/tandem/prod/relevance-ranker/v1"))

        // The statuses it sent (or would send): GitHub's shape, pending then success, on the promoted commit.
        let outbox = try await r.repo.run("tandem-notify", ["list", "--env", "test", "--all", "--json"])
        let messages = try #require(try JSONSerialization.jsonObject(with: Data(outbox.stdout.utf8)) as? [[String: Any]])
        let statuses = messages.compactMap { $0["message"] as? [String: Any] }.filter { $0["kind"] as? String == "github" }
        #expect(statuses.count >= 4)
        #expect(statuses.allSatisfy { ($0["url"] as? String)?.hasSuffix("/statuses/\(featureHead)") == true })
        let states = statuses.compactMap { ($0["body"] as? String).flatMap { try? json($0)["state"] as? String } }
        #expect(states.first == "pending" && states.last == "success")

        // A second branch that trains better beats the champion, is approved and promoted.
        try await PromotionRepository.git(["checkout", "-q", "main"], in: r.root)
        try await PromotionRepository.git(["checkout", "-q", "-b", "feature/b"], in: r.root)
        let config = try String(contentsOfFile: r.root + "/models/relevance.yaml", encoding: .utf8)
        try config.replacingOccurrences(of: "learning_rate: 0.001", with: "learning_rate: 0.003")
            .write(toFile: r.root + "/models/relevance.yaml", atomically: true, encoding: .utf8)
        try await PromotionRepository.git(
            ["-c", "user.name=dev", "-c", "user.email=d@x", "commit", "-qam", "faster"], in: r.root)
        #expect(try await r.repo.run("tandem-train", ["--env", "test"], environment: ["TANDEM_ACTOR": "erin"]).status == 0)
        let (second, id2) = try await r.start("feature/b", as: "erin")
        #expect(second.status == 4, "\(second.stdout)")
        let report = try json(second.stdout)["report"] as? String ?? ""
        #expect(report.contains("vs champion prod:relevance-ranker@1"))
        #expect(report.contains("95% CI ["))
        #expect(try await r.promote(["approve", "--env", "test", id2], as: "bob").status == 0)
        #expect(try await r.champion() == 2)
        let merged = try await r.productionHead()
        #expect(try await r.git(["merge-base", "--is-ancestor", featureHead, merged]).isEmpty)

        let rollback = try await r.promote(["rollback", "--env", "prod", "--json"], as: "alice")
        #expect(rollback.status == 0, "\(rollback.stderr)")
        #expect(try await r.champion() == 1)
        let reverted = try await r.productionHead()
        #expect(
            try await r.git(["rev-parse", "\(reverted)^{tree}"]) == (try await r.git(["rev-parse", "\(firstRelease)^{tree}"])))
        #expect(try await r.git(["merge-base", "--is-ancestor", merged, reverted]).isEmpty, "history is never rewritten")
        let history = try await r.repo.run("tandem-models", ["history", "--env", "prod"])
        #expect(history.status == 0)
        #expect(history.stdout.contains("promotion.rolled_back"))
        #expect(history.stdout.contains("audit chain intact"))
    }

    @Test("the lock file on production names prod's version, models verify --env prod passes there, events say prod's version")
    func productionLock() async throws {
        let r = try await PromotionRepository.make()
        defer { r.remove() }
        // A second training on the branch: the branch's lock names test@2, which becomes prod@1.
        let train = try await r.repo.run(
            "tandem-train", ["--env", "test", "--set", "training.max_epochs=1"], environment: ["TANDEM_ACTOR": "dana"])
        #expect(train.status == 0, "\(train.stderr)")
        let branchLock = try json(try await r.git(["show", "feature/a:models/relevance-ranker.lock.json"]))
        #expect(branchLock["environment"] as? String == "test" && branchLock["version"] as? Int == 2)
        let (started, id) = try await r.start()
        #expect(started.status == 4, "\(started.stderr)")
        let approved = try await r.promote(["approve", "--env", "test", id], as: "alice")
        #expect(approved.status == 0, "\(approved.stdout)\(approved.stderr)")
        #expect(try await r.champion() == 1)

        let lock = try json(try await r.git(["show", "production:models/relevance-ranker.lock.json"]))
        #expect(lock["environment"] as? String == "prod", "\(lock)")
        #expect(lock["version"] as? Int == 1, "\(lock)")
        #expect(lock["artifact_digest"] as? String == branchLock["artifact_digest"] as? String)
        // The production branch holds the branch's code (its head is the promoted commit plus the lock).
        let featureHead = try await r.git(["rev-parse", "feature/a"])
        #expect(try await r.git(["merge-base", "--is-ancestor", featureHead, "production"]).isEmpty)
        #expect(try await r.git(["diff", "--name-only", featureHead, "production"]) == "models/relevance-ranker.lock.json")

        try await PromotionRepository.git(["checkout", "-q", "production"], in: r.root)
        let verify = try await r.repo.run("tandem-models", ["verify", "--env", "prod"])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        #expect(verify.stdout.contains("agree on relevance-ranker@1"))

        // The promoted event: prod's version, with where it came from; Slack's text and GitHub's status alike.
        let outbox = try await r.repo.run("tandem-notify", ["list", "--env", "test", "--all", "--json"])
        let messages = try #require(try JSONSerialization.jsonObject(with: Data(outbox.stdout.utf8)) as? [[String: Any]])
        let promoted = messages.compactMap { $0["message"] as? [String: Any] }.filter {
            $0["event_type"] as? String == "promotion.promoted"
        }
        let bodies = Dictionary(
            promoted.map { ($0["kind"] as? String ?? "", $0["body"] as? String ?? "") }, uniquingKeysWith: { a, _ in a })
        let generic = try json(try #require(bodies["generic"]))
        #expect(generic["model_version"] as? Int == 1, "\(generic)")
        #expect(generic["source_version"] as? Int == 2 && generic["source_environment"] as? String == "test")
        let slack = try json(try #require(bodies["slack"]))["text"] as? String ?? ""
        #expect(slack.hasPrefix("promotion.promoted: relevance-ranker@1 in prod (from test:relevance-ranker@2)"), "\(slack)")
        #expect(!slack.contains("@2 in prod"))
        let status = try json(try #require(bodies["github"]))["description"] as? String ?? ""
        #expect(status.hasPrefix("promoted: relevance-ranker@1 in prod"), "\(status)")
    }

    @Test("a promotion whose tag already exists fails without deleting that tag, leaving nothing of it on prod's version")
    func existingTag() async throws {
        let r = try await PromotionRepository.make()
        defer { r.remove() }
        // Someone's tag of the name the promotion will use, on another commit.
        try await PromotionRepository.git(
            [
                "-c", "user.name=dev", "-c", "user.email=d@x", "tag", "-a", "tandem/prod/relevance-ranker/v1", "main", "-m",
                "not yours",
            ],
            in: r.root)
        let before = try await r.git(["rev-parse", "tandem/prod/relevance-ranker/v1"])
        let (_, id) = try await r.start()
        let approved = try await r.promote(["approve", "--env", "test", id], as: "alice")
        #expect(approved.status == 2, "\(approved.stdout)\(approved.stderr)")
        #expect(approved.stderr.contains("tag tandem/prod/relevance-ranker/v1 already exists on another commit"))
        #expect(try await r.git(["tag", "-l", "tandem/prod/relevance-ranker/v1"]) == "tandem/prod/relevance-ranker/v1")
        #expect(try await r.git(["rev-parse", "tandem/prod/relevance-ranker/v1"]) == before, "the existing tag is kept")
        let status = try json(try await r.promote(["status", "--env", "test", id, "--json"], as: "alice").stdout)
        #expect(status["state"] as? String == "failed")
        #expect(try await r.productionHead() == (try await r.initialProduction()))
        #expect(try await r.champion() == nil)
        // The version copied into prod stays (not champion), with nothing naming the undone promotion; the
        // promotion says so rather than "nothing changed".
        let reason = status["reason"] as? String ?? ""
        #expect(reason.contains("prod's registry keeps relevance-ranker@1, copied from test:relevance-ranker@1"), "\(reason)")
        #expect(!reason.contains("nothing changed"), "\(reason)")
        let show = try await r.repo.run("tandem-models", ["show", "--env", "prod", "relevance-ranker@1", "--json"])
        #expect(show.status == 0, "\(show.stderr)")
        let version = try json(show.stdout)
        #expect(!show.stdout.contains(id), "\(version)")
        #expect((version["tags"] as? [String: String] ?? [:]).isEmpty, "\(version)")
    }

    @Test("a merge that resolved lock-file conflicts has Tandem's message, without git's # Conflicts: lines")
    func mergeMessage() async throws {
        let r = try await PromotionRepository.make()
        defer { r.remove() }
        // production exists, diverged from the branch, with a lock file of its own: the merge conflicts on it.
        try await PromotionRepository.git(["checkout", "-q", "-b", "production", "main"], in: r.root)
        try r.repo.write("models/relevance-ranker.lock.json", "{\"environment\" : \"prod\", \"version\" : 9}\n")
        try await PromotionRepository.git(["add", "models/relevance-ranker.lock.json"], in: r.root)
        try await PromotionRepository.git(
            ["-c", "user.name=dev", "-c", "user.email=d@x", "commit", "-qm", "an older lock"], in: r.root)
        try await PromotionRepository.git(["push", "-q", "origin", "production"], in: r.root)
        try await PromotionRepository.git(["checkout", "-q", "feature/a"], in: r.root)
        let (_, id) = try await r.start()
        let approved = try await r.promote(["approve", "--env", "test", id], as: "alice")
        #expect(approved.status == 0, "\(approved.stdout)\(approved.stderr)")
        let head = try await r.productionHead()
        #expect(try await r.git(["rev-list", "--parents", "-n", "1", head]).split(separator: " ").count == 3, "a merge commit")
        let message = try await r.git(["log", "-1", "--format=%B", head])
        #expect(message.hasPrefix("Promote feature/a with relevance-ranker@1 to prod (\(id))"), "\(message)")
        #expect(!message.contains("Conflicts"), "\(message)")
        #expect(!message.split(separator: "\n").contains { $0.hasPrefix("#") }, "\(message)")
        let lock = try json(try await r.git(["show", "\(head):models/relevance-ranker.lock.json"]))
        #expect(lock["environment"] as? String == "prod" && lock["version"] as? Int == 1, "\(lock)")
    }

    @Test("an inference pipeline over its p99 latency budget fails the promotion's tests, exit 1")
    func latencyBudget() async throws {
        let r = try await PromotionRepository.make()
        defer { r.remove() }
        // prod's budget is production's (a release manager's commit there), not the branch's.
        try await r.commitOnProduction("environments/prod.yaml", message: "a budget no pipeline meets") {
            $0.replacingOccurrences(of: "latency_budget_ms: 2000", with: "latency_budget_ms: 0.001")
        }
        let (started, _) = try await r.start()
        #expect(started.status == 1, "\(started.stdout)\(started.stderr)")
        let doc = try json(started.stdout)
        #expect(doc["state"] as? String == "failed")
        #expect((doc["tests"] as? [[String: Any]])?.map { $0["passed"] as? Bool } == [true, false, true])
        #expect((doc["reason"] as? String)?.contains("is over the budget of 0.00 ms") == true, "\(doc["reason"] ?? "")")
    }

    @Test("approvals: not the requester, only listed approvers, only as yourself")
    func approvals() async throws {
        let r = try await PromotionRepository.make()
        defer { r.remove() }
        let (_, id) = try await r.start(as: "alice")
        let own = try await r.promote(["approve", "--env", "test", id], as: "alice")
        #expect(own.status == 2)
        #expect(own.stderr.contains("'alice' requested promotion \(id) and cannot approve it"))
        let stranger = try await r.promote(["approve", "--env", "test", id], as: "mallory")
        #expect(stranger.status == 2)
        #expect(stranger.stderr.contains("'mallory' is not an approver of prod"))
        let impostor = try await r.promote(["approve", "--env", "test", id, "--as", "bob"], as: "mallory")
        #expect(impostor.status == 2)
        #expect(impostor.stderr.contains("--as bob is not you"))
        let status = try await r.promote(["status", "--env", "test", id], as: "bob")
        #expect(status.status == 4)
        #expect(try await r.champion() == nil)
        let rejected = try await r.promote(["reject", "--env", "test", id, "--reason", "not this week"], as: "bob")
        #expect(rejected.status == 1)
        #expect(rejected.stdout.contains("rejected by bob: not this week"))
        #expect(try await r.productionHead() == (try await r.initialProduction()))
    }

    @Test("a new commit on the branch voids earlier approvals")
    func staleApproval() async throws {
        let r = try await PromotionRepository.make()
        defer { r.remove() }
        try await r.commitOnProduction("environments/prod.yaml", message: "two approvals") {
            $0.replacingOccurrences(of: "  required: 1", with: "  required: 2")
        }
        let (started, id) = try await r.start()
        // production changed its rule after the branch forked: that is not the branch's change.
        #expect((try json(started.stdout)["gate_changes"] as? [String]) == [], "\(started.stdout)")
        #expect(try await r.promote(["approve", "--env", "test", id], as: "alice").status == 4)
        try "more\n".write(toFile: r.root + "/NOTES.md", atomically: true, encoding: .utf8)
        try await PromotionRepository.git(["add", "NOTES.md"], in: r.root)
        try await PromotionRepository.git(["-c", "user.name=dev", "-c", "user.email=d@x", "commit", "-qm", "notes"], in: r.root)
        let advanced = try await r.promote(["advance", "--env", "test", id], as: "bob")
        #expect(advanced.status == 4)
        #expect(advanced.stdout.contains("approved by alice"))
        #expect(advanced.stdout.contains("(void: the evidence changed)"))
        #expect(advanced.stdout.contains("approvals: 0 of 2"))
        #expect(try await r.promote(["approve", "--env", "test", id], as: "bob").status == 4)
        #expect(try await r.promote(["approve", "--env", "test", id], as: "alice").status == 0)
        // production (which moved with the rule's commit) holds the branch's new head.
        let featureHead = try await r.git(["rev-parse", "feature/a"])
        #expect(try await r.git(["merge-base", "--is-ancestor", featureHead, try await r.productionHead()]).isEmpty)
    }

    @Test("a merge conflict fails the promotion with nothing changed in prod")
    func conflict() async throws {
        let r = try await PromotionRepository.make()
        defer { r.remove() }
        // production already exists, with a different README than the branch's.
        try await PromotionRepository.git(["checkout", "-q", "-b", "production", "main"], in: r.root)
        try "production only\n".write(toFile: r.root + "/README.md", atomically: true, encoding: .utf8)
        try await PromotionRepository.git(["add", "README.md"], in: r.root)
        try await PromotionRepository.git(
            ["-c", "user.name=dev", "-c", "user.email=d@x", "commit", "-qm", "prod readme"], in: r.root)
        try await PromotionRepository.git(["push", "-q", "origin", "production"], in: r.root)
        try await PromotionRepository.git(["checkout", "-q", "feature/a"], in: r.root)
        try "feature readme\n".write(toFile: r.root + "/README.md", atomically: true, encoding: .utf8)
        try await PromotionRepository.git(["add", "README.md"], in: r.root)
        try await PromotionRepository.git(
            ["-c", "user.name=dev", "-c", "user.email=d@x", "commit", "-qm", "feature readme"], in: r.root)
        let before = try await r.productionHead()
        let (_, id) = try await r.start()
        let approved = try await r.promote(["approve", "--env", "test", id], as: "alice")
        #expect(approved.status == 1)
        #expect(approved.stderr.contains("conflicts in README.md"))
        let status = try await r.promote(["status", "--env", "test", id], as: "alice")
        #expect(status.stdout.hasPrefix("promotion \(id): failed"))
        #expect(status.stdout.contains("production and the champion of prod are unchanged"), "\(status.stdout)")
        #expect(status.stdout.contains("prod's registry keeps relevance-ranker@1"), "\(status.stdout)")
        #expect(try await r.productionHead() == before)
        #expect(try await r.champion() == nil)
        #expect(!(try await r.git(["tag"])).contains("tandem/prod"))
    }

    @Test("an unreachable prod registry stops the promotion with exit 3 and changes nothing")
    func unreachableRegistry() async throws {
        let r = try await PromotionRepository.make()
        defer { r.remove() }
        let head = try await r.commitOnProduction("environments/prod.yaml", message: "a registry nobody can create") {
            $0.replacingOccurrences(of: "file://.tandem/prod/registry", with: "file:///proc/tandem-prod-registry")
        }
        let (run, _) = try await r.start()
        #expect(run.status == 3, "\(run.stdout)\(run.stderr)")
        #expect(run.stderr.contains("/proc/tandem-prod-registry: cannot create"), "\(run.stderr)")
        #expect(try await r.productionHead() == head)
    }

    /// Kills the promoting process (SIGKILL) right after each journal step, runs `recover`, and checks that
    /// prod's branch and champion are both the new pair or both the old pair, and the audit log is intact.
    @Test(
        "a crash after each journal step is recovered: prod is all old or all new",
        arguments: ["lock", "copy_version", "merge", "tag", "publish", "branch", "aliases", "finish"])
    func crashRecovery(step: String) async throws {
        let r = try await PromotionRepository.make()
        defer { r.remove() }
        let (_, id) = try await r.start()
        let crashed = try await r.promote(
            ["approve", "--env", "test", id], as: "alice", environment: ["TANDEM_CRASH_AFTER": step])
        #expect(crashed.status != 0, "the process was killed after \(step)")
        // A second promotion of the same model waits (exit 4) while the first is in flight: one lane per model.
        let (blocked, _) = try await r.start(as: "erin")
        #expect(blocked.status == 4, "\(step): \(blocked.stderr)")
        #expect(blocked.stderr.contains("\(id) is promoting relevance-ranker into prod (promoting)"), "\(blocked.stderr)")
        let recovered = try await r.promote(["recover", "--env", "test", "--json"], as: "alice")
        #expect(recovered.status == 0, "\(recovered.stderr)")
        let status = try json(try await r.promote(["status", "--env", "test", id, "--json"], as: "alice").stdout)
        let state = status["state"] as? String
        let head = try await r.productionHead()
        let champion = try await r.champion()
        let featureHead = try await r.git(["rev-parse", "feature/a"])
        if state == "promoted" {
            let promoted = head.isEmpty ? "" : try await r.git(["rev-parse", "\(head)^"])
            #expect(
                promoted == featureHead && champion == 1,
                "\(step): promoted but branch \(head) champion \(String(describing: champion))")
        } else {
            #expect(state == "failed", "\(step): \(String(describing: state))")
            #expect(
                head == (try await r.initialProduction()) && champion == nil,
                "\(step): undone but branch \(head) champion \(String(describing: champion))")
            // What the undo says is what prod holds: the copied version, once the copy ran.
            let reason = status["reason"] as? String ?? ""
            let versions = try await r.repo.run("tandem-models", ["list", "--env", "prod", "--json"])
            if step == "lock" {
                #expect(reason.contains("nothing changed in prod"), "\(step): \(reason)")
                #expect(!versions.stdout.contains("\"version\" : 1"), "\(step): \(versions.stdout)")
            } else {
                #expect(reason.contains("prod's registry keeps relevance-ranker@1"), "\(step): \(reason)")
                #expect(!reason.contains("nothing changed"), "\(step): \(reason)")
            }
        }
        let expectedPromoted = ["publish", "branch", "aliases", "finish"].contains(step)
        #expect((state == "promoted") == expectedPromoted, "\(step) → \(String(describing: state))")
        let history = try await r.repo.run("tandem-models", ["history", "--env", "test"])
        #expect(history.stdout.contains("audit chain intact"))
        #expect(history.stdout.contains("promotion.\(state ?? "")"))
    }
}
