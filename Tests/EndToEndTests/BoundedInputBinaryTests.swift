import Foundation
import Testing

/// Hostile and odd inputs through the built binaries: the 10-line alias bomb, input the ETL can make nothing of,
/// byte-order marks and long lines (checked against the Python reference).
@Suite("Bounded inputs, end to end")
struct BoundedInputBinaryTests {
    static let urlA = "https://www.vid.example/watch?v=AAAAAAAAAAA"

    static func video(_ id: String, title: String = "Python tips") -> String {
        "{\"url\": \"https://vid.example/\(id)\", \"title\": \"\(title)\", \"description\": \"learn python\", "
            + "\"channel\": \"Py\", \"duration_s\": 300, \"views\": 1000, \"published\": \"2024-01-01T00:00:00Z\"}"
    }

    static func judgment(_ query: String, _ id: String, label: String = "2", at: String = "2024-06-01T00:00:00Z") -> String {
        "{\"query\": \"\(query)\", \"video_url\": \"https://www.vid.example/watch?v=\(id)\", \"label\": \(label), "
            + "\"judged_at\": \"\(at)\"}"
    }

    @Test("the 10-line alias bomb in a profile: every stage refuses it at once, exit 2, in bounded memory")
    func aliasBomb() throws {
        let repo = try ScratchRepository()
        defer { repo.remove() }
        var bomb = ["l0: &l0 [" + Array(repeating: "\"lol\"", count: 9).joined(separator: ",") + "]"]
        for level in 1..<9 {
            bomb.append("l\(level): &l\(level) [" + Array(repeating: "*l\(level - 1)", count: 9).joined(separator: ",") + "]")
        }
        bomb.append("bomb: *l8")
        var dev = try String(contentsOfFile: repo.root + "/environments/dev.yaml", encoding: .utf8)
        if !dev.hasSuffix("\n") { dev += "\n" }
        let line = dev.split(separator: "\n", omittingEmptySubsequences: false).count
        try repo.write("environments/dev.yaml", dev + bomb.joined(separator: "\n") + "\n")
        for stage in [
            ["env", "list"], ["env", "check", "--env", "test"], ["etl", "--env", "test"], ["models", "list", "--env", "test"],
        ] {
            let started = Date()
            // At most 2 GiB of address space and 30 s: before the fix the bomb grew without bound.
            let run = try repo.run(
                "/bin/sh", ["-c", "ulimit -v 2097152; exec timeout 30 \"$0\" \"$@\"", Binaries.folder + "/tandem"] + stage)
            #expect(run.status == 2, "\(stage): \(run.status) \(run.stderr)")
            #expect(Date().timeIntervalSince(started) < 10, "\(stage)")
            #expect(run.stderr.contains("environments/dev.yaml:\(line):5: "), "\(run.stderr)")
            #expect(run.stderr.contains("anchors and aliases are not supported"), "\(run.stderr)")
        }
    }

    @Test("an ETL whose judgments are all bad exits 1 naming what is wrong, and the previous version stays the latest")
    func allBad() throws {
        let repo = try ScratchRepository()
        defer { repo.remove() }
        #expect(try repo.run("tandem-etl", ["--env", "test"]).status == 0)
        try repo.write("bad/videos.jsonl", Self.video("AAAAAAAAAAA") + "\n")
        try repo.write(
            "bad/judgments.jsonl",
            [Self.judgment("python", "AAAAAAAAAAA", label: "1e999"), Self.judgment("python", "AAAAAAAAAAA", label: "\"3\"")]
                .joined(separator: "\n") + "\n")
        let run = try repo.run("tandem-etl", ["--env", "test", "--input", "bad", "--json"])
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stdout.isEmpty)
        #expect(run.stderr.contains("relevance_v1@1 stays the latest"), "\(run.stderr)")
        #expect(run.stderr.contains("judgments.jsonl:1: missing_field: label: 1e999 is not a JSON integer"), "\(run.stderr)")
        let tables = try repo.run("tandem-features", ["list", "--env", "test"])
        #expect(tables.stdout.contains("relevance_v1@1") && !tables.stdout.contains("relevance_v1@2"), "\(tables.stdout)")
        // The sample's quarantine, with details, is still the latest silver version's.
        let quarantine = try repo.run("tandem-features", ["quarantine", "--env", "test", "--json", "--limit", "500"])
        let lines = try #require(try JSONSerialization.jsonObject(with: Data(quarantine.stdout.utf8)) as? [[String: Any]])
        #expect(!lines.isEmpty)
        #expect(lines.allSatisfy { ($0["detail"] as? String)?.isEmpty == false }, "\(lines.prefix(3))")
        #expect(!lines.contains { ($0["file"] as? String)?.contains("/bad/") == true })
        let text = try repo.run("tandem-features", ["quarantine", "--env", "test"])
        #expect(text.stdout.contains(": bad_json: "), "\(text.stdout.prefix(400))")
    }

    @Test("byte-order marks, a line over 1 MiB and odd values: the ETL and the Python reference agree")
    func referenceAgreesOnEdges() throws {
        let repo = try ScratchRepository(withFixtures: false)
        defer { repo.remove() }
        let bom = "\u{FEFF}"
        let ids = ["AAAAAAAAAAA", "BBBBBBBBBBB", "CCCCCCCCCCC"]
        try repo.write("data/videos.jsonl", bom + ids.map { Self.video($0) }.joined(separator: "\n") + "\n")
        let long = Self.judgment(String(repeating: "python ", count: 150_000), "AAAAAAAAAAA")
        let judgments = [
            Self.judgment("python", "AAAAAAAAAAA"), Self.judgment("python tips", "BBBBBBBBBBB", label: "3"),
            Self.judgment("learn", "CCCCCCCCCCC", label: "1") + "\r", long,
            Self.judgment("python", "BBBBBBBBBBB", label: "1e999"), Self.judgment("python", "CCCCCCCCCCC", label: "\"3\""),
            Self.judgment("python", "CCCCCCCCCCC", at: "2026-02-30T00:00:00Z"), "",
            Self.judgment("tips", "AAAAAAAAAAA", label: "0"),
        ]
        try repo.write("data/judgments.jsonl", bom + judgments.joined(separator: "\n"))
        let etl = try repo.run(
            "tandem-etl",
            ["--env", "dev", "--input", "data", "--export-silver", "out", "--export-gold", "out/gold.jsonl", "--json"])
        #expect(etl.status == 0, "\(etl.stderr)")
        try etl.stdout.write(toFile: repo.root + "/out/report.json", atomically: true, encoding: .utf8)
        let report = try json(etl.stdout)
        let quarantine = try #require(report["quarantine"] as? [String: [String: Any]])
        #expect(
            quarantine["judgments"]?["quarantined"] as? [String: Int] == [
                "bad_json": 2, "missing_field": 3, "label_out_of_range": 0, "unknown_video": 0,
            ])
        #expect(quarantine["videos"]?["valid"] as? Int == 3)
        let reference = try Binaries.run(
            "/usr/bin/env", ["python3", Binaries.repository + "/Tests/Reference/reference_etl.py", "data", "ref"], in: repo.root)
        #expect(reference.status == 0, "\(reference.stderr)")
        let compare = try Binaries.run(
            "/usr/bin/env", ["python3", Binaries.repository + "/Tests/Reference/compare.py", "ref", "out"], in: repo.root)
        #expect(compare.status == 0, "\(compare.stdout)\(compare.stderr)")
        #expect(compare.stdout.contains("quarantine report identical"), "\(compare.stdout)")

        // Input with no valid judgment: both refuse it, and count the same.
        try repo.write("none/videos.jsonl", Self.video("AAAAAAAAAAA") + "\n")
        try repo.write("none/judgments.jsonl", bom + long + "\n" + Self.judgment("x", "AAAAAAAAAAA", label: "7") + "\n")
        #expect(try repo.run("tandem-etl", ["--env", "dev", "--input", "none"]).status == 1)
        let refusal = try Binaries.run(
            "/usr/bin/env", ["python3", Binaries.repository + "/Tests/Reference/reference_etl.py", "none", "ref2"],
            in: repo.root)
        #expect(refusal.status == 1, "\(refusal.stderr)")
        #expect(!FileManager.default.fileExists(atPath: repo.root + "/ref2/gold.jsonl"))
    }
}
