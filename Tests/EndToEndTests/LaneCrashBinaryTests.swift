import Foundation
import TandemTestSupport
import Testing

/// Two models' promotions interleaved on real git and SQLite, the first one's process killed (SIGKILL) after a
/// journal step: recover, the second goes on, and `tandem promote check --env prod` finds both lanes holding.
@Suite("Two interleaved promotions, one killed mid-step, end to end")
struct LaneCrashBinaryTests {
    /// Steps on both sides of the commit point (the publication of the production branch).
    @Test(
        "SIGKILL after a journal step of relevance-ranker's promotion while popularity-ranker's waits: both lanes hold",
        arguments: ["lock", "merge", "publish", "aliases"])
    func killedBeside(step: String) async throws {
        let r = try await PromotionRepository.make()
        defer { r.remove() }
        try await offPool {
            // A second model on its own branch from main: its config and lock file only.
            try r.git(["checkout", "-q", "-b", "feature/p", "main"])
            try r.repo.write(
                "models/popularity.yaml",
                "model: popularity-ranker\nkind: linear\nfeatures:\n  names: [log1p_views, bm25_title, overlap_title_frac]\n"
                    + "training:\n  max_epochs: 2\n")
            try r.git(["add", "models/popularity.yaml"])
            try r.git(["-c", "user.name=dev", "-c", "user.email=dev@x", "commit", "-qm", "popularity-ranker"])
            let train = try r.repo.run(
                "tandem-train", ["--env", "test", "--batch", "--model", "popularity-ranker"],
                environment: ["TANDEM_ACTOR": "dana"])
            #expect(train.status == 0, "\(train.stderr)")
        }
        let (_, a) = try await r.start("feature/a")
        let (started, p) = try await r.start("feature/p")
        #expect(started.status == 4 && !p.isEmpty, "\(started.stdout)\(started.stderr)")
        let crashed = try await r.promote(
            ["approve", "--env", "test", a], as: "alice", environment: ["TANDEM_CRASH_AFTER": step])
        #expect(crashed.status != 0, "killed after \(step)")
        // While the killed promotion holds prod's promoting lock, the other model's waits with its approval kept.
        let waiting = try await r.promote(["approve", "--env", "test", p], as: "bob")
        #expect(waiting.status == 4 && waiting.stderr.contains("prod is being promoted by \(a)"), "\(step): \(waiting.stderr)")
        let recovered = try await r.promote(["recover", "--env", "test"], as: "alice")
        #expect(recovered.status == 0, "\(step): \(recovered.stderr)")
        let advanced = try await r.promote(["advance", "--env", "test", p], as: "bob")
        #expect(advanced.status == 0, "\(step): \(advanced.stdout)\(advanced.stderr)")
        let check = try await r.promote(["check", "--env", "prod"], as: "alice")
        #expect(check.status == 0, "\(step): \(check.stdout)\(check.stderr)")
        let committed = ["publish", "aliases"].contains(step)
        #expect(try await r.champion() == (committed ? 1 : nil), "\(step)")
        #expect(check.stdout.contains("ok    popularity-ranker: champion @1, lock @1"), "\(step): \(check.stdout)")
    }
}
