import Foundation
import Testing

/// The polars reference that `tandem-bench etl --references` times beside Tandem must compute what
/// Tandem computes, or the ratio means nothing: the same quarantine counts, silver, history and gold features on
/// generated data with malformed lines and earlier observations of every video.
@Suite("The ETL's polars reference agrees with Tandem")
struct ETLReferenceEngineTests {
    /// `TANDEM_REQUIRE_ETL_REFERENCES=1` (as `.ci/run` sets) makes missing polars or orjson a failure.
    static let required = ProcessInfo.processInfo.environment["TANDEM_REQUIRE_ETL_REFERENCES"] == "1"
    static let available: Bool = {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", "import polars, orjson"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return false }
        p.waitUntilExit()
        return p.terminationStatus == 0
    }()

    @Test(
        "with 3 earlier observations per video, each reference's silver, history and gold equal Tandem's",
        .enabled(
            if: available || required,
            "python3 with polars and orjson is not installed (pip install polars orjson; TANDEM_REQUIRE_ETL_REFERENCES=1 requires them)"
        ),
        arguments: ["polars"])
    func agreement(engine: String) throws {
        #expect(Self.available, "TANDEM_REQUIRE_ETL_REFERENCES=1 but python3 cannot import polars and orjson")
        let repo = try ScratchRepository(withFixtures: false)
        defer { repo.remove() }
        let gen = try repo.run(
            "tandem-fixtures", ["generate", "--queries", "150", "--seed", "7", "--history", "3", "--out", "data"])
        #expect(gen.status == 0, "\(gen.stderr)")
        let etl = try repo.run(
            "tandem-etl",
            ["--env", "dev", "--input", "data", "--export-silver", "out", "--export-gold", "out/gold.jsonl", "--json"])
        #expect(etl.status == 0, "\(etl.stderr)")
        try etl.stdout.write(toFile: repo.root + "/out/report.json", atomically: true, encoding: .utf8)
        // The references observe lines without observed_at at Tandem's ingestion time: the current versions' start.
        let history = try String(contentsOfFile: repo.root + "/out/silver_video_history.jsonl", encoding: .utf8)
        let current = try #require(history.split(separator: "\n").first { $0.contains(#""valid_to":null"#) })
        let version = try #require(try JSONSerialization.jsonObject(with: Data(current.utf8)) as? [String: Any])
        let ingestedAt = try #require(version["observed_at"] as? String)
        #expect(history.split(separator: "\n").count > 3 * 300, "earlier observations are in the history")

        let reference = try Binaries.run(
            "/usr/bin/env",
            [
                "python3", Binaries.repository + "/Tests/Reference/\(engine)_etl.py", "data", "ref", "--threads", "2",
                "--ingested-at", ingestedAt, "--jsonl",
            ], in: repo.root)
        #expect(reference.status == 0, "\(reference.stderr)")
        let timing = try #require(
            try JSONSerialization.jsonObject(
                with: Data((reference.stdout.split(separator: "\n").last ?? "").utf8)) as? [String: Any])
        #expect(timing["engine"] as? String == engine)
        #expect((timing["seconds"] as? Double ?? 0) > 0)
        let compare = try Binaries.run(
            "/usr/bin/env", ["python3", Binaries.repository + "/Tests/Reference/compare.py", "ref", "out"], in: repo.root)
        #expect(compare.status == 0, "\(compare.stdout)\(compare.stderr)")
        #expect(compare.stdout.contains("silver_video_history.jsonl identical"))
        #expect(compare.stdout.contains(" rows, 0 differ"), "\(compare.stdout)")
    }
}
