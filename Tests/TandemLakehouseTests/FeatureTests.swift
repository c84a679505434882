import Foundation
import Testing

@testable import TandemFeatures
@testable import TandemLakehouse

@Suite("Gold features")
struct FeatureTests {
    static let published = DataTimestamp(seconds: 1_704_067_200)  // 2024-01-01T00:00:00Z
    static let videos = [
        VideoRecord(
            url: "u0", title: "Python tutorial for beginners", description: "learn python python basics",
            channel: "Python Academy", durationS: 59, views: 99, published: published),
        VideoRecord(
            url: "u1", title: "Cooking pasta", description: "pasta recipe", channel: "Chef",
            durationS: 3600, views: 0, published: published),
        VideoRecord(
            url: "u2", title: "Advanced python tutorial", description: "decorators", channel: "Corey",
            durationS: 600, views: 1_000_000, published: published),
    ]

    /// A row of the declared relevance_v1 (features/relevance_v1.yaml), through the plan gold and inference run.
    func row(_ query: String, video: Int, at time: String = "2024-01-11T00:00:00Z") throws -> [Float] {
        let computer = ViewPlan(view: try FeatureViewCatalogue.relevanceV1(), videos: Self.videos)
        var out = [Float](repeating: .nan, count: computer.width)
        let when = try #require(DataTimestamp(time))
        out.withUnsafeMutableBufferPointer {
            computer.computeRow(query: computer.analyze(normalizedQuery: query), videoIndex: video, at: when, into: $0)
        }
        return out
    }

    @Test("relevance_v1 has the 56 features of docs/data-contract.md in order")
    func schema() throws {
        let names = try FeatureViewCatalogue.relevanceV1().featureSet.names
        #expect(names.count == 56)
        #expect(names[0] == "bm25_title" && names[11] == "exact_phrase_title" && names[23] == "q_len_chars")
        #expect(names[17] == "dur_b0" && names[22] == "dur_b5" && names[24] == "h00" && names[55] == "h31")
    }

    @Test("BM25 over titles, by hand")
    func bm25() throws {
        // N = 3; "python" is in 2 titles; title 0 has 4 tokens; avgdl = (4 + 2 + 3) / 3 = 3.
        let idf = log(1 + (3 - 2 + 0.5) / (2 + 0.5))
        let expected = idf * 1 * 2.2 / (1 + 1.2 * (1 - 0.75 + 0.75 * 4 / 3))
        let r = try row("python", video: 0)
        #expect(abs(Double(r[0]) - expected) < 1e-6)
        // description: "python" twice in a 4-token description; df 1; avgdl (4 + 2 + 1) / 3.
        let idfDesc = log(1 + (3 - 1 + 0.5) / (1 + 0.5))
        let expectedDesc = idfDesc * 2 * 2.2 / (2 + 1.2 * (1 - 0.75 + 0.75 * 4 / (7.0 / 3)))
        #expect(abs(Double(r[1]) - expectedDesc) < 1e-6)
    }

    @Test("overlaps, lengths, fractions, phrase")
    func overlaps() throws {
        let r = try row("python tutorial python academy", video: 0)
        #expect(Array(r[2...11]) == [2, 1, 2, 3, 4, 4, Float(2.0 / 3), Float(1.0 / 3), 0, 0])
        #expect(try row("python tutorial", video: 0)[11] == 1)
        #expect(try row("tutorial python", video: 0)[11] == 0)
        #expect(try row("for beginners", video: 0)[10] == 1)
        #expect(try row("!!", video: 0)[8] == 0)
        #expect(try row("!!", video: 0)[11] == 0)  // "  " is not in " python tutorial for beginners "
    }

    @Test("popularity, age, duration buckets, query length")
    func metadata() throws {
        let r = try row("python", video: 0)
        #expect(r[12] == Float(log1p(99.0)))
        #expect(r[13] == 10)
        #expect(r[14] == Float(log1p(10.0)))
        #expect(r[15] == Float(log1p(9.9)))
        #expect(r[16] == Float(log1p(59.0)))
        #expect(Array(r[17...22]) == [1, 0, 0, 0, 0, 0])
        #expect(Array(try row("x", video: 1)[17...22]) == [0, 0, 0, 0, 0, 1])
        #expect(Array(try row("x", video: 2)[17...22]) == [0, 0, 0, 1, 0, 0])
        #expect(try row("café au lait", video: 0)[23] == 12)
        let before = try row("python", video: 0, at: "2023-12-31T00:00:00Z")
        #expect(before[13] == -1 && before[14] == 0 && before[15] == Float(log1p(99.0)))
    }

    @Test("hashed crosses: every distinct query token × distinct title token, by FNV-1a mod 32")
    func crosses() throws {
        let r = try row("python python tutorial", video: 0)
        var expected = [Float](repeating: 0, count: 32)
        for q in ["python", "tutorial"] {
            for t in ["python", "tutorial", "for", "beginners"] { expected[Int(FNV1a.hash32(q + " " + t) % 32)] += 1 }
        }
        #expect(Array(r[24...55]) == expected)
        #expect(r[24...55].reduce(0, +) == 8)
    }

    @Test("the inference path and the gold build give bit-identical rows")
    func parityWithGold() throws {
        let h = try ETLHarness(
            videos: [
                ETLHarness.video("AAAAAAAAAAA", title: "Python tutorial", views: 5),
                ETLHarness.video(
                    "BBBBBBBBBBB", title: "Crème brûlée", description: "dessert", views: 70_000, published: "2020-05-05T10:00:00Z"
                ),
            ],
            judgments: [
                ETLHarness.judgment("Python Tutorial", "https://vid.example/AAAAAAAAAAA", at: "2024-06-01T12:00:00.5Z"),
                ETLHarness.judgment("crème", "https://vid.example/BBBBBBBBBBB", at: "2025-01-01T00:00:00Z"),
                ETLHarness.judgment("crème", "https://vid.example/AAAAAAAAAAA", at: "2025-01-01T00:00:00Z"),
            ])
        defer { h.remove() }
        _ = try h.run()
        let store = try h.store()
        let table = try store.featureTable(FeatureTableReference(featureSet: "relevance_v1", version: nil))
        let gold = try GoldTable.load(folder: store.goldFolder(of: table), expectedDigest: table.digest)
        let inference = InferenceFeatures(view: try store.view(of: table), videos: try store.silverVideos())
        for i in 0..<gold.rowCount {
            let request = try inference.features(
                query: gold.queries[i], candidates: [gold.videoURLs[i]], at: try #require(DataTimestamp(gold.judgedAt[i])))
            let expected = Array(gold.features[(i * gold.width)..<((i + 1) * gold.width)])
            #expect(request.matrix.map(\.bitPattern) == expected.map(\.bitPattern), "row \(i)")
        }
    }
}
