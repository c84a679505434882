import Foundation
import TandemTestSupport
import Testing

@Suite("A model on several feature views: a second team's view in YAML alone, joined with a subset of relevance_v1")
struct SeveralViewsBinaryTests {
    static let freshnessView = """
        view: freshness_v1
        entity: video
        owner: discovery-team
        description: How popular and how long a video is.
        features:
          - name: log_views
            expr: log1p(video.views)
            description: log(1 + views)
          - name: log_duration
            expr: log1p(video.duration_s)
            description: log(1 + duration in seconds)

        """
    static let freshModel = """
        model: fresh-ranker
        kind: mlp
        features:
          views: [relevance_v1, freshness_v1]
          names: [bm25_title, bm25_desc, overlap_title, q_len, freshness_v1.log_views, freshness_v1.log_duration]
        owners:
          team: discovery
          approvers: [alice]
        training:
          hidden: [32]
          max_epochs: 4
          learning_rate: 0.003

        """

    @Test("trained on the joined views, served through both views' plans, promoted with both in its feature contract")
    func trainServePromote() async throws {
        let r = try await PromotionRepository.make()
        defer { r.remove() }
        // A branch of its own (a promotion moves one model), from the production branch.
        _ = try await r.git(["fetch", "-q", "origin"])
        _ = try await r.git(["checkout", "-q", "-b", "feature/fresh", "origin/production"])
        try r.repo.write("features/freshness_v1.yaml", Self.freshnessView)
        try r.repo.write("models/fresh.yaml", Self.freshModel)
        _ = try await r.git(["add", "-A"])
        _ = try await r.git(["-c", "user.name=dev", "-c", "user.email=dev@x", "commit", "-qm", "fresh-ranker"])
        // Not built yet: the training says how to build it.
        let early = try await r.repo.run("tandem-train", ["--env", "test", "--model", "fresh-ranker", "--no-lock"])
        #expect(early.status == 2 && early.stderr.contains("tandem etl --feature-set freshness_v1"), "\(early.stderr)")
        let etl = try await r.repo.run("tandem-etl", ["--env", "test", "--feature-set", "freshness_v1", "--json"])
        #expect(etl.status == 0, "\(etl.stderr)")
        #expect(try json(etl.stdout)["silver_unchanged"] as? Bool == true)

        let train = try await r.repo.run("tandem-train", ["--env", "test", "--model", "fresh-ranker", "--json"])
        #expect(train.status == 0, "\(train.stderr)")
        let trained = try json(train.stdout)
        #expect(trained["feature_table"] as? String == "relevance_v1@1")
        #expect(trained["joined_tables"] as? [String] == ["freshness_v1@1"])

        // Served: a held-out query's candidates through both views' plans.
        let rows = try await r.repo.run("tandem-features", ["get", "--env", "test", "--output", "rows.jsonl"])
        #expect(rows.status == 0, "\(rows.stderr)")
        let first = try String(contentsOfFile: r.root + "/rows.jsonl", encoding: .utf8).split(separator: "\n").prefix(2)
            .compactMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let request: [String: Any] = ["query": first[0]["query"] ?? "", "candidates": first.map { $0["video_url"] ?? "" }]
        try r.repo.write(
            "requests.jsonl", String(decoding: try JSONSerialization.data(withJSONObject: request), as: UTF8.self) + "\n")
        let score = try await r.repo.run(
            "tandem-evaluate", ["score", "--env", "test", "--model", "fresh-ranker@1", "--input", "requests.jsonl"])
        #expect(score.status == 0, "\(score.stderr)")
        let ranked = try json(score.stdout)["ranked"] as? [[String: Any]]
        #expect(
            ranked?.count == 2 && ranked?.allSatisfy { ($0["score"] as? Double)?.isFinite == true } == true, "\(score.stdout)")
        let gold = try await r.repo.run("tandem-evaluate", ["gold", "--env", "test", "--model", "fresh-ranker@1", "--json"])
        #expect(gold.status == 0, "\(gold.stderr)")
        #expect((try json(gold.stdout)["metrics"] as? [String: Double])?["ndcg@10"] != nil)

        // Promoted: the integration tests (the training pipeline builds both views; the inference pipeline's
        // scores equal the offline ones; the feature gate checks both views) and a first release.
        let started = try await r.promote(
            ["start", "--env", "test", "--branch", "feature/fresh", "--model", "fresh-ranker", "--json"], as: "dana")
        #expect(started.status == 4, "\(started.stdout)\(started.stderr)")
        let doc = try json(started.stdout)
        let tests = doc["tests"] as? [[String: Any]]
        #expect(tests?.map { $0["passed"] as? Bool } == [true, true, true], "\(tests ?? [])")
        #expect((tests?.last?["detail"] as? String)?.contains("freshness_v1@1") == true)
        let id = try #require(doc["id"] as? String)
        let approved = try await r.promote(["approve", "--env", "test", id, "--as", "alice"], as: "alice")
        #expect(approved.status == 0, "\(approved.stdout)\(approved.stderr)")
        let champion = try await r.repo.run("tandem-models", ["show", "--env", "prod", "fresh-ranker@champion", "--json"])
        #expect(champion.status == 0, "\(champion.stderr)")

        // As of now: the same tables, even after freshness_v1 was built on other input (another silver).
        let gen = try await r.repo.run("tandem-fixtures", ["generate", "--queries", "30", "--seed", "5", "--out", "other"])
        #expect(gen.status == 0, "\(gen.stderr)")
        let other = try await r.repo.run(
            "tandem-etl", ["--env", "test", "--feature-set", "freshness_v1", "--input", "other", "--json"])
        #expect(other.status == 0, "\(other.stderr)")
        #expect(try json(other.stdout)["feature_table"] as? String == "freshness_v1@2")
        try await Task.sleep(for: .seconds(1.1))
        let now = ISO8601DateFormatter().string(from: Date())
        let asOf = try await r.repo.run(
            "tandem-train", ["--env", "test", "--model", "fresh-ranker", "--as-of", now, "--no-register", "--json"])
        #expect(asOf.status == 0, "\(asOf.stderr)")
        #expect(try json(asOf.stdout)["joined_tables"] as? [String] == ["freshness_v1@1"])
        // A config naming one view with views: --as-of pins it there.
        try r.repo.write("models/one.yaml", "model: one-ranker\nkind: linear\nfeatures:\n  views: [relevance_v1]\n")
        let one = try await r.repo.run(
            "tandem-train", ["--env", "test", "--model", "one-ranker", "--as-of", now, "--no-register", "--json"])
        #expect(one.status == 0, "\(one.stderr)")
        try FileManager.default.removeItem(atPath: r.root + "/models/one.yaml")
    }

    @Test("features.views is checked: a bad entry, a view named twice, set beside views")
    func badViews() throws {
        let repo = try ScratchRepository()
        defer { repo.remove() }
        for (views, says) in [
            ("[relevance_v1, fresh@x]", "is not a view name or NAME@TABLE_VERSION"),
            ("[relevance_v1, relevance_v1]", "names relevance_v1 twice"),
            ("[]", "features.views is empty"),
        ] {
            try repo.write(
                "models/m.yaml", "model: m\nkind: linear\nfeatures:\n  views: \(views)\n")
            let run = try repo.run("tandem-train", ["--env", "test", "--model", "m", "--no-lock"])
            #expect(run.status == 2 && run.stderr.contains("models/m.yaml:4:") && run.stderr.contains(says), "\(run.stderr)")
        }
        try repo.write("models/m.yaml", "model: m\nkind: linear\nfeatures:\n  set: relevance_v1\n  views: [relevance_v1]\n")
        let both = try repo.run("tandem-train", ["--env", "test", "--model", "m", "--no-lock"])
        #expect(both.status == 2 && both.stderr.contains("set and table cannot be given with it"), "\(both.stderr)")
    }
}
