import Foundation
import TandemCore
import TandemTestSupport
import Testing

@testable import TandemFeatures
@testable import TandemLakehouse

@Suite("ETL: honest failure, byte-order marks and long lines")
struct ETLHonestInputTests {
    static let a = "AAAAAAAAAAA"
    static let urlA = "https://www.vid.example/watch?v=AAAAAAAAAAA"

    @Test("input whose every judgment is bad fails with exit 1, and the previous version stays the latest")
    func allBadInput() throws {
        let h = try ETLHarness(videos: [ETLHarness.video(Self.a)], judgments: [ETLHarness.judgment("python", Self.urlA)])
        defer { h.remove() }
        let first = try h.run()
        #expect(first.featureTable == "relevance_v1@1")
        let store = try h.store()
        let silverBefore = try store.latestSilver()

        try h.write(
            videos: [ETLHarness.video(Self.a)],
            judgments: [
                "{broken", ETLHarness.judgment("python", Self.urlA, label: "\"3\""),
                ETLHarness.judgment("python", Self.urlA, label: "9"),
            ])
        do {
            _ = try h.run()
            Issue.record("an input with no valid judgment was registered")
        } catch {
            #expect((error as? any TandemError)?.exitStatus == .verdictNo, "\(error)")
            let text = "\(error)"
            #expect(text.contains("3 judgment lines, quarantined bad_json 1, label_out_of_range 1, missing_field 1"), "\(text)")
            #expect(text.contains("relevance_v1@1 stays the latest"), "\(text)")
            #expect(text.contains("judgments.jsonl:2: missing_field: label: \"3\" is a string, not an integer"), "\(text)")
        }
        #expect(try store.featureTables().map(\.reference) == ["relevance_v1@1"])
        #expect(try store.latestSilver()?.id == silverBefore?.id)

        // Valid judgments of videos that were all quarantined: no silver judgment either.
        try h.write(
            videos: [ETLHarness.video(Self.a, views: -1)], judgments: [ETLHarness.judgment("python", Self.urlA)])
        let refusal = #expect(throws: (any Error).self) { try h.run() }
        #expect((refusal as? any TandemError)?.exitStatus == .verdictNo)
        #expect(try store.featureTables().count == 1)
    }

    @Test("a UTF-8 byte-order mark at the start of a file is not part of its first line")
    func byteOrderMark() throws {
        let h = try ETLHarness(videos: [], judgments: [])
        defer { h.remove() }
        let bom = "\u{FEFF}"
        let judgment = ETLHarness.judgment("python", Self.urlA)
        try (bom + ETLHarness.video(Self.a) + "\n").write(toFile: h.input + "/videos.jsonl", atomically: true, encoding: .utf8)
        try (bom + judgment + "\n" + judgment + "\n").write(
            toFile: h.input + "/judgments.jsonl", atomically: true, encoding: .utf8)
        let report = try h.run()
        #expect(report.quarantine.videos.quarantined.values.allSatisfy { $0 == 0 })
        #expect(report.quarantine.judgments.quarantined.values.allSatisfy { $0 == 0 })
        #expect(report.quarantine.judgments.valid == 2)
        let store = try h.store()
        let files = try store.bronzeFiles()
        let line = try store.bronzeLine(file: files[1].id, line: 1)
        #expect(line.content == Array(judgment.utf8))
        #expect(line.entry.offset == 3)
        // A file that holds only a byte-order mark is empty.
        try bom.write(toFile: h.input + "/videos.jsonl", atomically: true, encoding: .utf8)
        let empty = #expect(throws: (any Error).self) { try h.run() }
        #expect(empty.map { "\($0)".contains("videos.jsonl: the file is empty") } == true)
    }

    @Test("a line longer than 1 MiB is bad_json, in its place, and the lines after it keep their numbers")
    func longLine() throws {
        let long = ETLHarness.judgment(String(repeating: "python ", count: 150_000), Self.urlA)
        #expect(long.utf8.count > 1 << 20)
        let h = try ETLHarness(
            videos: [ETLHarness.video(Self.a)],
            judgments: [ETLHarness.judgment("first", Self.urlA), long, ETLHarness.judgment("third", Self.urlA)])
        defer { h.remove() }
        let report = try h.run(exportSilver: true)
        #expect(report.quarantine.judgments.quarantined["bad_json"] == 1)
        #expect(report.quarantine.judgments.silverJudgments == 2)
        #expect(report.inputs["judgments"]?.lines == 3)
        let quarantined = try h.store().quarantinedLines()
        #expect(quarantined.map(\.lineNumber) == [2])
        #expect(quarantined.first.map { $0.content.count <= 4096 } == true)
        let store = try h.store()
        let bronze = try store.bronzeLine(file: try store.bronzeFiles()[1].id, line: 2)
        #expect(bronze.content == Array(long.utf8))
        #expect(
            try store.bronzeLine(file: try store.bronzeFiles()[1].id, line: 3).content
                == Array(ETLHarness.judgment("third", Self.urlA).utf8))
        #expect(try h.exported("silver/silver_judgments.jsonl").compactMap { $0["query"] as? String } == ["first", "third"])
    }

    @Test("a file that is one endless line is read in bounded memory")
    func endlessLine() throws {
        let h = try ETLHarness(videos: [ETLHarness.video(Self.a)], judgments: [ETLHarness.judgment("python", Self.urlA)])
        defer { h.remove() }
        // A valid line, then 160 MiB with no newline (sparse: zeros after a text head the reader checks as UTF-8).
        let path = h.input + "/judgments.jsonl"
        let head = ETLHarness.judgment("python", Self.urlA) + "\n{\"query\": \"" + String(repeating: "x", count: 8192)
        try head.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(truncate(path, 160 << 20) == 0)
        let (report, growth) = try peakMemoryGrowth { try h.run() }
        #expect(growth < 64 << 20, "grew by \(growth >> 20) MiB at its peak")
        #expect(report.quarantine.judgments.quarantined["bad_json"] == 1)
        #expect(report.quarantine.judgments.silverJudgments == 1)
    }
}
