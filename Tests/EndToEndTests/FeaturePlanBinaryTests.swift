import Foundation
import TandemTestSupport
import Testing

@Suite("tandem features plan and apply: views change by new versions, never in place")
struct FeaturePlanBinaryTests {
    @Test("plan shows new, changed and unchanged views and the models still on an earlier version; apply records them")
    func planAndApply() async throws {
        let (repo, _) = try await registeredRepository()
        defer { repo.remove() }
        #expect(try await repo.run("tandem-models", ["alias", "--env", "test", "relevance-ranker", "champion", "1"]).status == 0)
        let clean = try await repo.run("tandem-features", ["plan", "--env", "test"])
        #expect(clean.status == 0 && clean.stdout.contains("= relevance_v1@1  unchanged"), "\(clean.stdout)\(clean.stderr)")

        // A changed definition of relevance_v1 and a second team's new view.
        let declared = try String(contentsOfFile: Binaries.repository + "/features/relevance_v1.yaml", encoding: .utf8)
        try repo.write(
            "features/relevance_v1.yaml",
            declared.replacingOccurrences(of: "bm25(qd, title, k1=1.2, b=0.75)", with: "bm25(qd, title, k1=1.4, b=0.75)"))
        try repo.write(
            "features/freshness_v1.yaml",
            """
            view: freshness_v1
            entity: video
            owner: discovery-team
            description: How popular a video is.
            features:
              - name: log_views
                expr: log1p(video.views)
                description: log(1 + views)

            """)
        let plan = try await repo.run("tandem-features", ["plan", "--env", "test", "--json"])
        #expect(plan.status == 1, "\(plan.stderr)")
        let entries = try #require(try JSONSerialization.jsonObject(with: Data(plan.stdout.utf8)) as? [[String: Any]])
        let byView = Dictionary(uniqueKeysWithValues: entries.map { ($0["view"] as? String ?? "", $0) })
        #expect(byView["freshness_v1"]?["action"] as? String == "create")
        let changed = try #require(byView["relevance_v1"])
        #expect(
            changed["action"] as? String == "new_version" && changed["version"] as? Int == 2 && changed["latest"] as? Int == 1)
        #expect(
            changed["changed_lines"] as? [String]
                == [
                    "- feature bm25_title = bm25(qd, title, k1=1.2, b=0.75)",
                    "+ feature bm25_title = bm25(qd, title, k1=1.4, b=0.75)",
                ])
        #expect(changed["used_by"] as? [String] == ["test:relevance-ranker@1 [champion] computes relevance_v1@1"])

        let apply = try await repo.run("tandem-features", ["apply", "--env", "test"])
        #expect(apply.status == 0 && apply.stdout.contains("2 view version(s) recorded"), "\(apply.stdout)\(apply.stderr)")
        let again = try await repo.run("tandem-features", ["plan", "--env", "test"])
        #expect(again.status == 0 && again.stdout.contains("= relevance_v1@2") && again.stdout.contains("= freshness_v1@1"))
        let definitions = try json(
            try await repo.run("tandem-features", ["definitions", "relevance_v1", "--env", "test", "--json"]).stdout)
        let versions = try #require(definitions["versions"] as? [[String: Any]])
        #expect(versions.map { $0["version"] as? Int } == [1, 2])
        #expect(versions[0]["digest"] as? String != versions[1]["digest"] as? String)
        // What version 1 computed, and version 2.
        for (n, k1) in [(1, "k1=1.2"), (2, "k1=1.4")] {
            let shown = try await repo.run(
                "tandem-features", ["definitions", "relevance_v1", "--env", "test", "--version", "\(n)", "--json"])
            #expect(shown.status == 0, "\(shown.stderr)")
            let normalized = try json(shown.stdout)["normalized"] as? String ?? ""
            #expect(normalized.contains("feature bm25_title = bm25(qd, title, \(k1), b=0.75)"), "\(normalized)")
        }

        // The ETL builds with the version apply recorded.
        let etl = try await repo.run("tandem-etl", ["--env", "test", "--json"])
        #expect(etl.status == 0, "\(etl.stderr)")
        #expect(try json(etl.stdout)["feature_table"] as? String == "relevance_v1@2")
    }

    @Test("a view whose entity changed is refused by plan and apply, naming the file; nothing is recorded")
    func entityChangeRefused() async throws {
        let repo = try await trainedRepository()
        defer { repo.remove() }
        let view = """
            view: freshness_v1
            entity: ENTITY
            owner: discovery-team
            description: How popular a video is.
            features:
              - name: log_views
                expr: log1p(video.views)
                description: log(1 + views)

            """
        try repo.write("features/freshness_v1.yaml", view.replacingOccurrences(of: "ENTITY", with: "video"))
        #expect(try await repo.run("tandem-features", ["apply", "--env", "test"]).status == 0)
        try repo.write("features/freshness_v1.yaml", view.replacingOccurrences(of: "ENTITY", with: "query_video"))
        let plan = try await repo.run("tandem-features", ["plan", "--env", "test"])
        #expect(plan.status == 1 && plan.stdout.contains("! freshness_v1  refused: features/freshness_v1.yaml"), "\(plan.stdout)")
        let apply = try await repo.run("tandem-features", ["apply", "--env", "test"])
        #expect(apply.status == 2 && apply.stderr.contains("a view's entity cannot change"), "\(apply.stderr)")
        // Nor does the ETL record it, before building anything.
        let etl = try await repo.run("tandem-etl", ["--env", "test", "--feature-set", "freshness_v1"])
        #expect(etl.status == 2 && etl.stderr.contains("a view's entity cannot change"), "\(etl.stderr)")
        let definitions = try json(
            try await repo.run("tandem-features", ["definitions", "freshness_v1", "--env", "test", "--json"]).stdout)
        #expect((definitions["versions"] as? [[String: Any]])?.count == 1)
    }

    @Test("a recorded version rewritten behind Tandem's back: plan and apply exit 3 and record nothing")
    func tamperedVersion() async throws {
        let repo = try await trainedRepository()
        defer { repo.remove() }
        let database = repo.root + "/.tandem/test/features/lakehouse.sqlite"
        let run = try Binaries.run(
            "/usr/bin/env",
            [
                "sqlite3", database,
                "DROP TRIGGER feature_view_versions_immutable; "
                    + "UPDATE feature_view_versions SET source = replace(source, 'k1=1.2', 'k1=1.3') WHERE version = 1",
            ])
        #expect(run.status == 0, "sqlite3: \(run.stderr)")
        let plan = try await repo.run("tandem-features", ["plan", "--env", "test"])
        #expect(plan.status == 3 && plan.stderr.contains("relevance_v1@1"), "\(plan.stderr)")
        #expect(try await repo.run("tandem-features", ["apply", "--env", "test"]).status == 3)
    }
}
