import Foundation
import Testing

@Suite("tandem etl, end to end")
struct ETLBinaryTests {
    @Test("the ETL on the fixtures registers relevance_v1@1; a second run changes nothing; features list shows it")
    func etlOnFixtures() throws {
        let repo = try ScratchRepository()
        defer { repo.remove() }
        let first = try repo.run("tandem", ["etl", "--env", "test", "--json"])
        #expect(first.status == 0, "\(first.stderr)")
        let report = try json(first.stdout)
        #expect(report["feature_table"] as? String == "relevance_v1@1")
        let quarantine = try #require(report["quarantine"] as? [String: [String: Any]])
        let judgments = try #require(quarantine["judgments"])
        #expect(Set(judgments.keys) == ["lines_total", "quarantined", "valid", "duplicates_dropped", "silver_judgments"])
        let reasons = try #require(judgments["quarantined"] as? [String: Int])
        #expect(Set(reasons.keys) == ["bad_json", "missing_field", "label_out_of_range", "unknown_video"])
        #expect(reasons.values.allSatisfy { $0 > 0 }, "the fixtures hold every kind of dirty line")
        #expect(
            Set(try #require(quarantine["videos"]?["quarantined"] as? [String: Int]).keys) == [
                "bad_json", "missing_field", "bad_url",
            ])

        let second = try json(try repo.run("tandem-etl", ["--env", "test", "--json"]).stdout)
        #expect(second["feature_table"] as? String == "relevance_v1@1")
        #expect(second["feature_table_unchanged"] as? Bool == true)
        #expect((second["rows"] as? [String: Any])?["bronze_lines_appended"] as? Int == 0)

        let list = try repo.run("tandem", ["features", "list", "--env", "test"])
        #expect(list.status == 0)
        #expect(list.stdout.contains("relevance_v1@1"))
        let show = try json(try repo.run("tandem-features", ["show", "--env", "test", "relevance_v1@1", "--json"]).stdout)
        #expect((show["schema"] as? [Any])?.count == 56)
        #expect((show["lineage"] as? [String: Any])?["inputs"] != nil)
    }

    @Test("a missing input file exits 2 naming it, and writes nothing")
    func missingInput() throws {
        let repo = try ScratchRepository()
        defer { repo.remove() }
        let run = try repo.run("tandem-etl", ["--env", "test", "--input", repo.root + "/nowhere"])
        #expect(run.status == 2)
        #expect(run.stderr.contains("\(repo.root)/nowhere/videos.jsonl: no such file"))
        let list = try repo.run("tandem-features", ["list", "--env", "test"])
        #expect(list.stdout.contains("no feature table versions") || list.status == 2)
    }

    @Test("a stage for test refuses to write into a root stamped by prod (exit 2, naming both)")
    func isolation() throws {
        let repo = try ScratchRepository()
        defer { repo.remove() }
        try repo.write(
            ".tandem/shared/.tandem-root.json",
            #"{"environment": "prod", "role": "features", "created_at": "2026-01-01T00:00:00Z"}"#)
        let test = try String(contentsOfFile: repo.root + "/environments/test.yaml", encoding: .utf8)
        try repo.write(
            "environments/test.yaml", test.replacingOccurrences(of: "file://.tandem/test/features", with: "file://.tandem/shared")
        )
        let run = try repo.run("tandem-etl", ["--env", "test"])
        #expect(run.status == 2)
        #expect(run.stderr.contains("belongs to environment 'prod'"))
        #expect(run.stderr.contains("a stage for 'test' refuses to write into it"))
    }

    @Test("the fixtures generator is deterministic and the ETL agrees with the Python reference of docs/data-contract.md")
    func referenceAgreement() throws {
        let repo = try ScratchRepository(withFixtures: false)
        defer { repo.remove() }
        let gen = try repo.run("tandem-fixtures", ["generate", "--queries", "120", "--seed", "99", "--out", "data"])
        #expect(gen.status == 0, "\(gen.stderr)")
        let again = try repo.run("tandem", ["fixtures", "generate", "--queries", "120", "--seed", "99", "--out", "data2"])
        #expect(again.status == 0)
        for name in ["videos.jsonl", "judgments.jsonl"] {
            #expect(FileManager.default.contentsEqual(atPath: repo.root + "/data/" + name, andPath: repo.root + "/data2/" + name))
        }
        let etl = try repo.run(
            "tandem-etl",
            ["--env", "dev", "--input", "data", "--export-silver", "out", "--export-gold", "out/gold.jsonl", "--json"])
        #expect(etl.status == 0, "\(etl.stderr)")
        try (etl.stdout).write(toFile: repo.root + "/out/report.json", atomically: true, encoding: .utf8)
        let reference = try Binaries.run(
            "/usr/bin/env", ["python3", Binaries.repository + "/Tests/Reference/reference_etl.py", "data", "ref"], in: repo.root)
        #expect(reference.status == 0, "\(reference.stderr)")
        let compare = try Binaries.run(
            "/usr/bin/env", ["python3", Binaries.repository + "/Tests/Reference/compare.py", "ref", "out"], in: repo.root)
        #expect(compare.status == 0, "\(compare.stdout)\(compare.stderr)")
        #expect(compare.stdout.contains("silver_judgments.jsonl identical"))
    }
}
