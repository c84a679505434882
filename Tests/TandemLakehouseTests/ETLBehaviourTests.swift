import Foundation
import TandemCore
import Testing

@testable import TandemFeatures
@testable import TandemLakehouse

@Suite("ETL behaviour")
struct ETLBehaviourTests {
    static let a = "AAAAAAAAAAA"
    static let b = "BBBBBBBBBBB"
    static let urlA = "https://www.vid.example/watch?v=AAAAAAAAAAA"
    static let urlB = "https://www.vid.example/watch?v=BBBBBBBBBBB"

    @Test("each rejection reason is counted, in the order of precedence of docs/data-contract.md")
    func rejectionReasons() throws {
        let h = try ETLHarness(
            videos: [
                ETLHarness.video(Self.a), ETLHarness.video(Self.b),
                "{not json", ETLHarness.video("CCCCCCCCCCC", views: -1),
                ETLHarness.video("DDDDDDDDDDD", url: "https://other.example/DDDDDDDDDDD"),
                ETLHarness.video("EEEEEEEEEEE", duration: 1).replacingOccurrences(
                    of: "\"duration_s\": 1", with: "\"duration_s\": 1.5"),
            ],
            judgments: [
                ETLHarness.judgment("python", Self.urlA),
                "{\"query\": \"x\",}",
                ETLHarness.judgment("python", Self.urlA, label: "NaN"),
                ETLHarness.judgment("python", Self.urlA, label: "\"2\""),
                ETLHarness.judgment("python", Self.urlA, label: "2.0"),
                ETLHarness.judgment("python", Self.urlA, label: "true"),
                ETLHarness.judgment(" \\t\\u3000 ", Self.urlA),
                ETLHarness.judgment("python", Self.urlA, at: "2024-02-30T00:00:00Z"),
                ETLHarness.judgment("python", Self.urlA, label: "4"),
                ETLHarness.judgment("python", Self.urlA, label: "-1"),
                ETLHarness.judgment("python", Self.urlA, label: "99999999999999999999999"),
                ETLHarness.judgment("python", "https://www.vid.example/watch?v=ZZZZZZZZZZZ"),
                ETLHarness.judgment("python", "https://nope.example/watch?v=AAAAAAAAAAA"),
                // precedence: a missing field beats an out-of-range label; an out-of-range label beats an unknown video
                ETLHarness.judgment("   ", Self.urlA, label: "9"),
                ETLHarness.judgment("python", "https://nope.example/x", label: "9"),
                "",
            ])
        defer { h.remove() }
        let report = try h.run()
        let j = report.quarantine.judgments
        #expect(j.linesTotal == 16)
        #expect(j.quarantined == ["bad_json": 3, "missing_field": 6, "label_out_of_range": 4, "unknown_video": 2])
        #expect(j.valid == 1)
        #expect(j.silverJudgments == 1)
        let v = report.quarantine.videos
        #expect(v.quarantined == ["bad_json": 1, "missing_field": 2, "bad_url": 1])
        #expect(v.silverVideos == 2)
        let lines = try h.store().quarantinedLines(limit: 100)
        #expect(lines.count == 19)
        #expect(lines.contains { $0.kind == "judgments" && $0.lineNumber == 2 && $0.reason == .badJSON })
        #expect(lines.contains { $0.kind == "videos" && $0.lineNumber == 5 && $0.reason == .badURL })
    }

    @Test("duplicates keep the latest judged_at; ties go to the later line; URL and query variants are one key")
    func deduplication() throws {
        let h = try ETLHarness(
            videos: [ETLHarness.video(Self.a), ETLHarness.video(Self.b)],
            judgments: [
                ETLHarness.judgment("Python", Self.urlA, label: "1", at: "2024-06-02T00:00:00Z"),
                ETLHarness.judgment("PYTHON ", "http://vid.example/AAAAAAAAAAA/", label: "3", at: "2024-06-01T00:00:00Z"),
                ETLHarness.judgment(
                    "python", "https://m.vid.example/watch?si=x&v=AAAAAAAAAAA#t=1", label: "2",
                    at: "2024-06-02T00:00:00.000Z"),
                ETLHarness.judgment("ｐｙｔｈｏｎ", Self.urlB, label: "0", at: "2024-06-01T00:00:00.9Z"),
                ETLHarness.judgment("python", Self.urlB, label: "3", at: "2024-06-01T00:00:00.1Z"),
            ])
        defer { h.remove() }
        let report = try h.run(exportSilver: true)
        #expect(report.quarantine.judgments.valid == 5)
        #expect(report.quarantine.judgments.duplicatesDropped == 3)
        let silver = try h.exported("silver/silver_judgments.jsonl")
        #expect(silver.count == 2)
        #expect(silver[0]["video_url"] as? String == Self.urlA)
        #expect(silver[0]["label"] as? Int == 2)  // a tie at 2024-06-02T00:00:00: the later line wins
        #expect(silver[0]["judged_at"] as? String == "2024-06-02T00:00:00Z")
        #expect(silver[1]["label"] as? Int == 0)  // .9 beats .1 within the same second
        #expect(Set(silver[0].keys) == ["query", "video_url", "label", "judged_at"])
        let videos = try h.exported("silver/silver_videos.jsonl")
        #expect(Set(videos[0].keys) == ["video_url", "title", "description", "channel", "duration_s", "views", "published"])
    }

    @Test("silver judgments sort by (query, video_url) in code-point order")
    func codePointOrder() throws {
        let h = try ETLHarness(
            videos: [ETLHarness.video(Self.a), ETLHarness.video(Self.b)],
            judgments: ["éclair", "zebra", "apple", "Zebra b", "a b"].flatMap { q in
                [ETLHarness.judgment(q, Self.urlB), ETLHarness.judgment(q, Self.urlA)]
            })
        defer { h.remove() }
        _ = try h.run(exportSilver: true)
        let rows = try h.exported("silver/silver_judgments.jsonl").map {
            [($0["query"] as? String) ?? "", ($0["video_url"] as? String) ?? ""]
        }
        let sorted = rows.sorted {
            $0[0] != $1[0]
                ? $0[0].unicodeScalars.lexicographicallyPrecedes($1[0].unicodeScalars)
                : $0[1].unicodeScalars.lexicographicallyPrecedes($1[1].unicodeScalars)
        }
        #expect(rows == sorted)
        #expect(
            rows.map { $0[0] } == ["a b", "a b", "apple", "apple", "zebra", "zebra", "zebra b", "zebra b", "éclair", "éclair"])
    }

    @Test("bronze keeps every line as read, with its number and digest, and detects an altered copy")
    func bronzeLines() throws {
        let lines = [ETLHarness.judgment("q", Self.urlA), "{broken", "", ETLHarness.judgment("r", Self.urlA)]
        let h = try ETLHarness(videos: [ETLHarness.video(Self.a)], judgments: lines)
        defer { h.remove() }
        _ = try h.run()
        let store = try h.store()
        let files = try store.bronzeFiles()
        #expect(files.map(\.kind) == ["videos", "judgments"])
        #expect(files[1].source.hasSuffix("/input/judgments.jsonl"))
        for (n, text) in lines.enumerated() {
            let line = try store.bronzeLine(file: files[1].id, line: n + 1)
            #expect(line.content == Array(text.utf8))
            #expect(ContentDigest.hex(line.entry.digest) == ContentDigest.sha256Hex(text))
        }
        let copy = h.root + "/bronze/judgments/\(files[1].digest).jsonl"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: copy))
        bytes[2] = UInt8(ascii: "X")
        try bytes.write(to: URL(fileURLWithPath: copy))
        #expect(throws: (any Error).self) { try store.bronzeLine(file: files[1].id, line: 1) }
    }

    @Test("videos: the last line of a duplicate canonical URL wins")
    func videoDuplicates() throws {
        let h = try ETLHarness(
            videos: [
                ETLHarness.video(Self.a, title: "First"),
                ETLHarness.video(Self.a, title: "Second", url: "http://vid.example/AAAAAAAAAAA"),
            ],
            judgments: [ETLHarness.judgment("q", Self.urlA)])
        defer { h.remove() }
        let report = try h.run(exportSilver: true)
        #expect(report.quarantine.videos.duplicatesDropped == 1)
        #expect(try h.exported("silver/silver_videos.jsonl").first?["title"] as? String == "Second")
    }

    @Test("a final newline does not start a line; a file without one keeps its last line")
    func lineSplitting() throws {
        let h = try ETLHarness(
            videos: [ETLHarness.video(Self.a)], judgments: [ETLHarness.judgment("q", Self.urlA)],
            trailingNewline: false)
        defer { h.remove() }
        let report = try h.run()
        #expect(report.quarantine.judgments.linesTotal == 1)
        #expect(report.quarantine.videos.linesTotal == 1)
    }

    @Test("a second run on the same input changes nothing; a changed input registers a new version")
    func idempotent() throws {
        let h = try ETLHarness(videos: [ETLHarness.video(Self.a)], judgments: [ETLHarness.judgment("q", Self.urlA)])
        defer { h.remove() }
        let first = try h.run()
        let bronze = try h.store().bronzeFiles()
        let second = try h.run()
        #expect(first.featureTable == "relevance_v1@1")
        #expect(second.featureTable == "relevance_v1@1")
        #expect(second.featureTableUnchanged && second.silverUnchanged)
        #expect(second.rows.bronzeLines == 0)
        #expect(try h.store().bronzeFiles().map(\.id) == bronze.map(\.id))
        #expect(bronze.map(\.lines) == [1, 1])
        try h.write(videos: [ETLHarness.video(Self.a)], judgments: [ETLHarness.judgment("q", Self.urlA, label: "3")])
        let third = try h.run()
        #expect(third.featureTable == "relevance_v1@2")
        #expect(third.rows.bronzeLines == 1)
        #expect(try h.store().bronzeFiles().count == 3)
        #expect(try h.store().featureTables().map(\.version) == [1, 2])
    }

    @Test("bad input files fail with exit 2 naming the file, and leave the latest version as it was")
    func badInput() throws {
        let h = try ETLHarness(videos: [ETLHarness.video(Self.a)], judgments: [ETLHarness.judgment("q", Self.urlA)])
        defer { h.remove() }
        _ = try h.run()
        let cases: [(Data?, String)] = [
            (nil, "no such file"), (Data(), "the file is empty"), (Data([0xFF, 0xFE, 0x41, 0x00]), "not UTF-8"),
            (Data([0x7B, 0xC3, 0x28, 0x0A]), "not UTF-8"),
        ]
        for (content, message) in cases {
            let path = h.input + "/judgments.jsonl"
            try? FileManager.default.removeItem(atPath: path)
            if let content { FileManager.default.createFile(atPath: path, contents: content) }
            do {
                _ = try h.run()
                Issue.record("accepted \(message)")
            } catch let error as Failure {
                #expect(error.exitStatus == .badInput)
                #expect(error.description.hasPrefix(path + ": "))
                #expect(error.description.contains(message), "\(error)")
            }
            #expect(try h.store().featureTables().count == 1)
        }
    }
}
