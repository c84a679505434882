import Foundation
import TandemCore
import Testing

@testable import TandemFeatures
@testable import TandemLakehouse

@Suite("Quarantine details name the field and what is wrong")
struct QuarantineDetailTests {
    static let a = "AAAAAAAAAAA"
    static let urlA = "https://www.vid.example/watch?v=AAAAAAAAAAA"

    @Test("each rejected line carries a detail; the reason codes stay those of docs/data-contract.md")
    func details() throws {
        let judgments: [(String, QuarantineReason, String)] = [
            (
                ETLHarness.judgment("python", Self.urlA, label: "1e999"), .missingField,
                "label: 1e999 is not a JSON integer (it has a fraction or an exponent)"
            ),
            (ETLHarness.judgment("python", Self.urlA, label: "\"3\""), .missingField, "label: \"3\" is a string, not an integer"),
            (ETLHarness.judgment("python", Self.urlA, label: "true"), .missingField, "label: true is a boolean, not an integer"),
            (
                ETLHarness.judgment("python", Self.urlA, at: "2026-02-30T00:00:00Z"), .missingField,
                "judged_at: \"2026-02-30T00:00:00Z\" is not a valid date (February 2026 has 28 days)"
            ),
            (
                ETLHarness.judgment("python", Self.urlA, at: "2024-01-01T24:00:00Z"), .missingField,
                "judged_at: \"2024-01-01T24:00:00Z\" is not a valid time (the hour is 00–23)"
            ),
            (
                ETLHarness.judgment("python", Self.urlA, at: "yesterday"), .missingField,
                "judged_at: \"yesterday\" is not a timestamp of the form YYYY-MM-DDTHH:MM:SSZ"
            ),
            (
                "{\"video_url\": \"\(Self.urlA)\", \"label\": 1, \"judged_at\": null}", .missingField,
                "query: missing; judged_at: null is not a string"
            ),
            (ETLHarness.judgment(" \\u3000 ", Self.urlA), .missingField, "query: \" \\u3000 \" is empty once normalised"),
            (ETLHarness.judgment("python", Self.urlA, label: "7"), .labelOutOfRange, "label: 7 is outside 0–3"),
            (
                ETLHarness.judgment("python", "https://www.vid.example/watch?v=ZZZZZZZZZZZ"), .unknownVideo,
                "video_url: \"https://www.vid.example/watch?v=ZZZZZZZZZZZ\" is video ZZZZZZZZZZZ, which no valid line"
            ),
            (ETLHarness.judgment("python", "ftp://x"), .unknownVideo, "video_url: \"ftp://x\" is not a video URL of vid.example"),
            ("{\"query\": \"x\",}", .badJSON, "not strict JSON at byte 15: a trailing comma before `}`"),
            ("{\"query\": \"x\", \"label\": NaN}", .badJSON, "not strict JSON at byte 25: NaN and Infinity are not JSON"),
            ("{'query': 'x'}", .badJSON, "not strict JSON at byte 2: single quotes are not JSON"),
            ("{\"query\": x}", .badJSON, "not strict JSON at byte 11: unexpected `x`"),
            ("{\"query\": \"x\"} 1", .badJSON, "text after the JSON object, at byte 16"),
            ("[1, 2]", .badJSON, "the line is not a JSON object (it starts with `[`)"),
            ("{\"query\": \"x", .badJSON, "the line ends inside the JSON object"),
            ("   ", .badJSON, "the line is blank"),
        ]
        let videos: [(String, QuarantineReason, String)] = [
            (ETLHarness.video("CCCCCCCCCCC", views: -5), .missingField, "views: -5 is negative"),
            (
                ETLHarness.video("DDDDDDDDDDD", duration: 10).replacingOccurrences(of: "10,", with: "1e3,"), .missingField,
                "duration_s: 1e3 is not a JSON integer"
            ),
            (
                ETLHarness.video("EEEEEEEEEEE", url: "https://other.example/EEEEEEEEEEE"), .badURL,
                "url: \"https://other.example/EEEEEEEEEEE\" is not a video URL of vid.example"
            ),
        ]
        let h = try ETLHarness(
            videos: [ETLHarness.video(Self.a)] + videos.map(\.0),
            judgments: [ETLHarness.judgment("python", Self.urlA)] + judgments.map(\.0))
        defer { h.remove() }
        _ = try h.run()
        let lines = try h.store().quarantinedLines(limit: 100)
        for (k, (_, reason, detail)) in judgments.enumerated() {
            let line = lines.first { $0.kind == "judgments" && $0.lineNumber == k + 2 }
            #expect(line?.reason == reason, "judgments line \(k + 2): \(String(describing: line))")
            #expect(line?.detail.hasPrefix(detail) == true, "judgments line \(k + 2): \(line?.detail ?? "none")")
        }
        for (k, (_, reason, detail)) in videos.enumerated() {
            let line = lines.first { $0.kind == "videos" && $0.lineNumber == k + 2 }
            #expect(line?.reason == reason, "videos line \(k + 2)")
            #expect(line?.detail.hasPrefix(detail) == true, "videos line \(k + 2): \(line?.detail ?? "none")")
        }
    }

    @Test("a long line's detail gives its length")
    func longLineDetail() throws {
        let long = ETLHarness.judgment(String(repeating: "q", count: 1 << 20), Self.urlA)
        let h = try ETLHarness(
            videos: [ETLHarness.video(Self.a)], judgments: [ETLHarness.judgment("python", Self.urlA), long])
        defer { h.remove() }
        _ = try h.run()
        let line = try #require(try h.store().quarantinedLines().first)
        #expect(line.reason == .badJSON)
        #expect(line.detail.hasPrefix("the line is \(long.utf8.count) bytes, longer than the 1 MiB a line may hold"))
    }

    @Test("timestamps say which part does not exist")
    func timestampProblems() {
        #expect(DataTimestamp.problem("2024-02-29T00:00:00Z") == nil)
        #expect(DataTimestamp.problem("2023-02-29T00:00:00Z") == "is not a valid date (February 2023 has 28 days)")
        #expect(DataTimestamp.problem("0000-01-01T00:00:00Z") == "is not a valid date (years start at 0001)")
        #expect(DataTimestamp.problem("2024-13-01T00:00:00Z") == "is not a valid date (there is no month 13)")
        #expect(DataTimestamp.problem("2024-12-31T23:59:60Z")?.contains("no leap seconds") == true)
        #expect(DataTimestamp.problem("2024-12-31T23:59:59.Z")?.hasPrefix("is not a timestamp of the form") == true)
    }
}
