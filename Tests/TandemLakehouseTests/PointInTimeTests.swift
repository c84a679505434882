import Foundation
import Testing

@testable import TandemFeatures
@testable import TandemLakehouse

/// Silver keeps each video's history and gold takes each video as of the judgment (docs/features.md, "History"):
/// no gold row uses an attribute observed after its `judged_at`.
@Suite("Point-in-time gold")
struct PointInTimeTests {
    static func observedVideo(_ id: String, views: Int, at: String) -> String {
        let line = ETLHarness.video(id, views: views)
        return String(line.dropLast()) + ", \"observed_at\": \"\(at)\"}"
    }

    @Test("views grow month by month: every gold row uses the views observed last at or before its judged_at")
    func viewsAsOfJudgment() throws {
        let id = "AAAAAAAAAAA"
        let url = "https://vid.example/\(id)"
        // Observations of the 1st of each month of 2024, views growing; written out of order.
        let months = [7, 1, 4, 10, 2, 12, 3, 5, 6, 8, 9, 11]
        let videos = months.map { m in
            Self.observedVideo(id, views: 1000 * m, at: String(format: "2024-%02d-01T00:00:00Z", m))
        }
        // One judgment per query at each month's 15th, and one before any observation.
        var judgments = (1...12).map { m in
            ETLHarness.judgment("query \(m)", url, at: String(format: "2024-%02d-15T00:00:00Z", m))
        }
        judgments.append(ETLHarness.judgment("early", url, at: "2023-06-01T00:00:00Z"))
        let h = try ETLHarness(videos: videos, judgments: judgments)
        defer { h.remove() }
        _ = try h.run()
        let store = try h.store()
        let table = try store.featureTable(FeatureTableReference(featureSet: "relevance_v1", version: nil))
        let gold = try GoldTable.load(folder: store.goldFolder(of: table), expectedDigest: table.digest)
        let history = try #require(try store.silverHistory()[VideoURL.canonical(id: id)])
        #expect(history.map(\.record.views) == (1...12).map { Int64(1000 * $0) })
        #expect(try store.silverVideos().map(\.views) == [12_000])
        for r in 0..<gold.rowCount {
            let judged = try #require(DataTimestamp(gold.judgedAt[r]))
            let asOf = history.last { $0.observedAt.seconds <= judged.seconds } ?? history[0]
            #expect(asOf.observedAt.seconds <= judged.seconds || asOf == history[0])
            let expected = Float(log1p(Double(asOf.record.views)))
            #expect(gold.features[r * gold.width + 12] == expected, "row \(r) \(gold.queries[r]) at \(gold.judgedAt[r])")
        }
        // The frozen statistics are those of the latest versions (one video).
        let statistics = try #require(try store.statistics(of: table))
        #expect(statistics.documents.allSatisfy { $0.videos == 1 })
    }

    @Test("a later ETL keeps the earlier versions of the videos it reads; judgments before the change see the old value")
    func historyAcrossRuns() throws {
        let id = "BBBBBBBBBBB"
        let url = "https://vid.example/\(id)"
        let judgments = [
            ETLHarness.judgment("old", url, at: "2024-02-01T00:00:00Z"),
            ETLHarness.judgment("new", url, at: "2030-01-01T00:00:00Z"),
        ]
        let h = try ETLHarness(videos: [Self.observedVideo(id, views: 10, at: "2024-01-01T00:00:00Z")], judgments: judgments)
        defer { h.remove() }
        _ = try h.run()
        try h.write(videos: [ETLHarness.video(id, views: 99_999)], judgments: judgments)
        _ = try h.run()
        let store = try h.store()
        #expect(try store.silverHistory()[VideoURL.canonical(id: id)]?.map(\.record.views) == [10, 99_999])
        let table = try store.featureTable(FeatureTableReference(featureSet: "relevance_v1", version: nil))
        let gold = try GoldTable.load(folder: store.goldFolder(of: table), expectedDigest: table.digest)
        let views = (0..<gold.rowCount).map { (gold.queries[$0], gold.features[$0 * gold.width + 12]) }
        #expect(views.first { $0.0 == "old" }?.1 == Float(log1p(10.0)))
        #expect(views.first { $0.0 == "new" }?.1 == Float(log1p(99_999.0)))
    }

    @Test("two ETLs that both staged the same new file take the ingestion time of the one that registered it first")
    func concurrentIngestion() throws {
        let id = "CCCCCCCCCCC"
        let h = try ETLHarness(
            videos: [ETLHarness.video(id, views: 5)], judgments: [ETLHarness.judgment("q", "https://vid.example/\(id)")])
        defer { h.remove() }
        let store = try h.store()
        // Both ETLs see the file as new (neither registered it yet), at different times.
        var first = try store.stageBronze(kind: "videos", source: h.input + "/videos.jsonl")
        var second = try store.stageBronze(kind: "videos", source: h.input + "/videos.jsonl")
        #expect(first.isNew && second.isNew)
        first.ingestedAt = "2026-01-01T00:00:00.000Z"
        second.ingestedAt = "2026-01-01T00:00:07.000Z"
        try store.registerBronze(&first, source: h.input + "/videos.jsonl", index: [], lineCount: 1)
        try store.registerBronze(&second, source: h.input + "/videos.jsonl", index: [], lineCount: 1)
        #expect(second.id == first.id)
        #expect(second.ingestedAt == "2026-01-01T00:00:00.000Z")
        // The loser's observations without observed_at move to the winner's time; explicit ones stay.
        var silver = SilverBuilder()
        silver.defaultObservedAt = try #require(DataTimestamp("2026-01-01T00:00:07Z"))
        let line = Array("{}".utf8)
        let video = VideoRecord(
            url: "u", title: "t", description: "", channel: "c", durationS: 1, views: 1, published: DataTimestamp(seconds: 0))
        let explicit = try #require(DataTimestamp("2025-05-05T00:00:00Z"))
        line.withUnsafeBufferPointer { line in
            silver.addVideo(.success((id, video, nil)), line: line, file: "videos.jsonl", lineNumber: 1)
            silver.addVideo(.success((id, video, explicit)), line: line, file: "videos.jsonl", lineNumber: 2)
            silver.addVideo(.success(("DDDDDDDDDDD", video, nil)), line: line, file: "videos.jsonl", lineNumber: 3)
        }
        let winner = try #require(DataTimestamp("2026-01-01T00:00:00Z"))
        silver.retimeDefaultObservations(to: winner)
        #expect(silver.observations.map { $0.map(\.observedAt) } == [[winner, explicit], [winner]])
    }

    @Test("an observed_at that is not a timestamp quarantines the line as missing_field, saying why")
    func badObservedAt() throws {
        let bad = String(ETLHarness.video("CCCCCCCCCCC").dropLast()) + ", \"observed_at\": \"yesterday\"}"
        let h = try ETLHarness(
            videos: [ETLHarness.video("AAAAAAAAAAA"), bad],
            judgments: [ETLHarness.judgment("q", "https://vid.example/AAAAAAAAAAA")])
        defer { h.remove() }
        let report = try h.run()
        #expect(report.quarantine.videos.quarantined["missing_field"] == 1)
        let line = try #require(try h.store().quarantinedLines().first { $0.reason == .missingField })
        #expect(line.detail.contains("observed_at: \"yesterday\""))
    }
}
