import Foundation
import TandemTestSupport
import Testing

/// The gate comes from the protected side: prod's approvals, approvers, policy and protection are read from the
/// production branch, never from the checkout or the branch being promoted (docs/security.md, "The gate").
@Suite("prod's gate, read from the production branch, end to end", .serialized)
struct GateBinaryTests {
    /// The first release of feature/a, approved by alice: prod's champion is version 1.
    func firstRelease(_ r: PromotionRepository) async throws {
        let (started, id) = try await r.start()
        #expect(started.status == 4, "\(started.stdout)\(started.stderr)")
        let approved = try await r.promote(["approve", "--env", "test", id], as: "alice")
        #expect(approved.status == 0, "\(approved.stdout)\(approved.stderr)")
        #expect(try await r.champion() == 1)
    }

    /// Rewrites a file of the checkout (not committed).
    func edit(_ r: PromotionRepository, _ file: String, _ change: (String) -> String) throws {
        let path = r.root + "/" + file
        try change(try String(contentsOfFile: path, encoding: .utf8)).write(toFile: path, atomically: true, encoding: .utf8)
    }

    func history(_ r: PromotionRepository) async throws -> String {
        let run = try await r.repo.run("tandem-models", ["history", "--env", "prod"])
        #expect(run.status == 0, "\(run.stderr)")
        return run.stdout
    }

    @Test("a branch that switches off approvals in its own environments/prod.yaml still needs production's; the report shows it")
    func branchCannotOpenTheGate() async throws {
        let r = try await PromotionRepository.make()
        defer { r.remove() }
        // The branch's own prod profile: no approvals, no approvers, any first release passes, any loss is a gain.
        try edit(r, "environments/prod.yaml") {
            $0.replacingOccurrences(of: "  required: 1", with: "  required: 0")
                .replacingOccurrences(of: "  approvers: [alice, bob, release-bot]", with: "  approvers: []")
                .replacingOccurrences(of: "  first_release: require_approval", with: "  first_release: pass")
                .replacingOccurrences(of: "  min_improvement: 0.005", with: "  min_improvement: -1")
        }
        try await r.git(["-c", "user.name=mallory", "-c", "user.email=m@x", "commit", "-qam", "no gate"])
        let (started, id) = try await r.start(as: "mallory")
        #expect(started.status == 4, "\(started.stdout)\(started.stderr)")
        let doc = try json(started.stdout)
        #expect(doc["state"] as? String == "awaiting_approval")
        let changes = doc["gate_changes"] as? [String] ?? []
        for change in [
            "approvals.required 1 → 0", "approvals.approvers [alice, bob, release-bot] → []",
            "policy.first_release require_approval → pass", "policy.min_improvement 0.005 → -1.0",
        ] {
            #expect(changes.contains(change), "\(changes)")
        }
        let report = doc["report"] as? String ?? ""
        #expect(report.contains("Gate: this branch changes environments/prod.yaml (production@"), "\(report)")
        #expect(report.contains("• approvals.required 1 → 0"), "\(report)")
        #expect(try await r.champion() == nil)
        #expect(try await r.productionHead() == (try await r.initialProduction()))

        let status = try await r.promote(["status", "--env", "test", id], as: "mallory")
        #expect(status.status == 4)
        #expect(status.stdout.contains("approvals: 0 of 1 from alice, bob, release-bot (not mallory)"), "\(status.stdout)")
        // The requester cannot approve, and the branch's empty approver list lets nobody else in.
        #expect(try await r.promote(["approve", "--env", "test", id], as: "mallory").status == 2)
        let eve = try await r.promote(["approve", "--env", "test", id], as: "eve")
        #expect(eve.status == 2)
        #expect(eve.stderr.contains("'eve' is not an approver of prod (production@"), "\(eve.stderr)")
        #expect(try await r.champion() == nil)

        let approved = try await r.promote(["approve", "--env", "test", id], as: "alice")
        #expect(approved.status == 0, "\(approved.stdout)\(approved.stderr)")
        #expect(try await r.champion() == 1)
        #expect(try await history(r).contains("approved_by=alice"))
    }

    @Test("protected: false in the checkout cannot delete prod's champion; an approver can move prod's aliases, audited")
    func checkoutCannotUnprotect() async throws {
        let r = try await PromotionRepository.make()
        defer { r.remove() }
        try await firstRelease(r)
        try edit(r, "environments/prod.yaml") {
            $0.replacingOccurrences(of: "protected: true", with: "protected: false")
                .replacingOccurrences(of: "  approvers: [alice, bob, release-bot]", with: "  approvers: [eve]")
        }
        let deleted = try await r.repo.run(
            "tandem-models", ["alias", "--env", "prod", "relevance-ranker", "champion", "--delete"],
            environment: ["TANDEM_ACTOR": "eve"])
        #expect(deleted.status == 2, "\(deleted.stdout)\(deleted.stderr)")
        #expect(deleted.stderr.contains("'eve' is not an approver of prod (production@"), "\(deleted.stderr)")
        #expect(try await r.champion() == 1)
        let copied = try await r.repo.run(
            "tandem-models", ["copy", "--env", "prod", "--from", "test", "relevance-ranker@1"],
            environment: ["TANDEM_ACTOR": "eve"])
        #expect(copied.status == 2, "\(copied.stdout)\(copied.stderr)")
        #expect(copied.stderr.contains("written only by the promotion engine"), "\(copied.stderr)")

        let moved = try await r.repo.run(
            "tandem-models", ["alias", "--env", "prod", "relevance-ranker", "challenger", "1"],
            environment: ["TANDEM_ACTOR": "alice"])
        #expect(moved.status == 0, "\(moved.stdout)\(moved.stderr)")
        let log = try await history(r)
        #expect(log.contains("  alice  alias.set  relevance-ranker@challenger"), "\(log)")
        #expect(!log.contains("  eve  "), "\(log)")
    }

    @Test("TANDEM_ACTOR=eve tandem promote rollback --env prod is refused; an approver rolls back, audited")
    func rollbackNeedsAnApprover() async throws {
        let r = try await PromotionRepository.make()
        defer { r.remove() }
        try await firstRelease(r)
        // A second, better branch: prod runs version 2, version 1 is previous.
        try await PromotionRepository.git(["checkout", "-q", "main"], in: r.root)
        try await PromotionRepository.git(["checkout", "-q", "-b", "feature/b"], in: r.root)
        try edit(r, "models/relevance.yaml") { $0.replacingOccurrences(of: "learning_rate: 0.001", with: "learning_rate: 0.003") }
        try await r.git(["-c", "user.name=dev", "-c", "user.email=d@x", "commit", "-qam", "faster"])
        #expect(try await r.repo.run("tandem-train", ["--env", "test"], environment: ["TANDEM_ACTOR": "erin"]).status == 0)
        let (second, id2) = try await r.start("feature/b", as: "erin")
        #expect(second.status == 4, "\(second.stdout)\(second.stderr)")
        #expect(try await r.promote(["approve", "--env", "test", id2], as: "bob").status == 0)
        #expect(try await r.champion() == 2)
        let head = try await r.productionHead()

        let eve = try await r.promote(["rollback", "--env", "prod"], as: "eve")
        #expect(eve.status == 2, "\(eve.stdout)\(eve.stderr)")
        #expect(eve.stderr.contains("'eve' is not an approver of prod (production@"), "\(eve.stderr)")
        #expect(eve.stderr.contains("only an approver may roll back a protected environment"), "\(eve.stderr)")
        // Listing herself in the checkout's profile changes nothing.
        try edit(r, "environments/prod.yaml") {
            $0.replacingOccurrences(of: "  approvers: [alice, bob, release-bot]", with: "  approvers: [eve]")
                .replacingOccurrences(of: "protected: true", with: "protected: false")
        }
        #expect(try await r.promote(["rollback", "--env", "prod"], as: "eve").status == 2)
        #expect(try await r.champion() == 2)
        #expect(try await r.productionHead() == head)

        let alice = try await r.promote(["rollback", "--env", "prod"], as: "alice")
        #expect(alice.status == 0, "\(alice.stdout)\(alice.stderr)")
        #expect(try await r.champion() == 1)
        let log = try await history(r)
        #expect(log.contains("  alice  promotion.rolled_back  relevance-ranker@1"), "\(log)")
        #expect(log.contains("production_branch=production"), "\(log)")
    }

    @Test("a second promotion of the same model waits (exit 4) while the first is in flight, then starts after recover")
    func concurrencyRefusalWaits() async throws {
        let r = try await PromotionRepository.make()
        defer { r.remove() }
        let (_, first) = try await r.start()
        let crashed = try await r.promote(
            ["approve", "--env", "test", first], as: "alice", environment: ["TANDEM_CRASH_AFTER": "lock"])
        #expect(crashed.status != 0)
        let (blocked, _) = try await r.start(as: "erin")
        #expect(blocked.status == 4, "\(blocked.stdout)\(blocked.stderr)")
        #expect(blocked.stderr.contains("\(first) is promoting relevance-ranker into prod (promoting)"), "\(blocked.stderr)")
        #expect(blocked.stderr.contains("one promotion per model at a time"), "\(blocked.stderr)")
        // recover finishes or undoes the interrupted one; then the second starts and advances on bob's approval.
        let recovered = try await r.promote(["recover", "--env", "test", "--json"], as: "alice")
        #expect(recovered.status == 0, "\(recovered.stderr)")
        let (again, second) = try await r.start(as: "erin")
        #expect(again.status == 4 && !second.isEmpty, "\(again.stdout)\(again.stderr)")
        let advanced = try await r.promote(["approve", "--env", "test", second], as: "bob")
        #expect(advanced.status == 0, "\(advanced.stdout)\(advanced.stderr)")
        #expect(try await r.champion() == 1)
    }

    @Test("an undone promotion says what it left in prod's registry, and prod's audit log records it")
    func undoneIsHonest() async throws {
        let r = try await PromotionRepository.make()
        defer { r.remove() }
        // A tag of the name the promotion will use, on another commit: the promotion is undone after its copy.
        try await r.git([
            "-c", "user.name=dev", "-c", "user.email=d@x", "tag", "-a", "tandem/prod/relevance-ranker/v1", "main", "-m", "x",
        ])
        let (_, id) = try await r.start()
        #expect(try await r.promote(["approve", "--env", "test", id], as: "alice").status == 2)
        let status = try json(try await r.promote(["status", "--env", "test", id, "--json"], as: "alice").stdout)
        #expect(status["state"] as? String == "failed")
        #expect(status["target_version"] as? Int == 1, "\(status)")
        let reason = status["reason"] as? String ?? ""
        #expect(reason.hasPrefix("promotion undone: production and the champion of prod are unchanged"), "\(reason)")
        #expect(reason.contains("prod's registry keeps relevance-ranker@1"), "\(reason)")
        let list = try json(
            try await r.repo.run("tandem-models", ["show", "--env", "prod", "relevance-ranker@1", "--json"]).stdout)
        #expect(list["copied_from"] as? String == "test:relevance-ranker@1", "\(list)")
        let log = try await history(r)
        #expect(log.contains("promotion.undone  relevance-ranker@1"), "\(log)")
        #expect(log.contains("promotion=\(id)"), "\(log)")
    }

    @Test("a first promotion without a production branch is refused (exit 2), with how to create it, nothing recorded")
    func noProductionBranch() async throws {
        let r = try await PromotionRepository.make()
        defer { r.remove() }
        try await r.git(["push", "-q", "origin", "--delete", "production"])
        let (run, _) = try await r.start()
        #expect(run.status == 2, "\(run.stdout)\(run.stderr)")
        #expect(run.stderr.contains("prod has no production branch yet"), "\(run.stderr)")
        #expect(run.stderr.contains("git push origin main:production"), "\(run.stderr)")
        let list = try await r.promote(["list", "--env", "test"], as: "dana")
        #expect(list.stdout.contains("no promotions yet"), "\(list.stdout)")
    }

    @Test("a branch that points git.production_branch at a branch it controls is refused once prod has been promoted")
    func branchCannotMoveProduction() async throws {
        let r = try await PromotionRepository.make()
        defer { r.remove() }
        try await firstRelease(r)
        // "evil" has a self-consistent prod profile with no gate (any challenger passes, nobody approves), and is
        // pushed: read from there, the same version would be promoted again with no approval.
        try await r.git(["checkout", "-q", "-b", "evil", "feature/a"])
        try edit(r, "environments/prod.yaml") {
            $0.replacingOccurrences(of: "production_branch: production", with: "production_branch: evil")
                .replacingOccurrences(of: "  required: 1", with: "  required: 0")
                .replacingOccurrences(of: "  min_improvement: 0.005", with: "  min_improvement: -1")
                .replacingOccurrences(of: "      max_regression: 0.01", with: "      max_regression: 1")
        }
        try await r.git(["-c", "user.name=mallory", "-c", "user.email=m@x", "commit", "-qam", "my production"])
        try await r.git(["push", "-q", "origin", "evil"])
        let (run, _) = try await r.start("evil", as: "mallory")
        #expect(run.status == 2, "\(run.stdout)\(run.stderr)")
        #expect(run.stderr.contains("prod's registry records promotions to production branch 'production'"), "\(run.stderr)")
        #expect(try await r.champion() == 1)
    }
}
