import Foundation
import TandemFeatures

/// Writes raw data in the format of docs/data-contract.md, of any size, with the dirt real judgment logs carry (URL variants,
/// query surface forms, unknown keys, re-judged duplicates, about 1% malformed lines of every kind) and a
/// learnable relevance signal: labels depend on topic match, title overlap, popularity, freshness and
/// duration *in combination*, so a learned ranker beats BM25 alone. The same seed gives the same files.
public struct FixtureGenerator {
    public struct Summary: Sendable, Codable {
        public var queries: Int
        public var videos: Int
        public var videoLines: Int
        public var judgmentLines: Int
    }

    public var queries: Int
    public var seed: UInt64
    /// Fraction of malformed lines (docs/data-contract.md: about one in a hundred).
    public var malformedRate = 0.01
    /// Earlier observations written for every video before its current line, each with `observed_at`, spread
    /// evenly from its publication (or the first judgment) to the last judgment, its views growing to the current count (docs/features.md, "History").
    /// 0 (the default) writes none and leaves the files as they always were.
    public var history = 0
    /// Called for every judgment line written with its query (normalised form), video id, judgment time and the
    /// hidden model's noiseless relevance score: what an oracle would rank by (benchmarks measure the ceiling
    /// of NDCG@10 on the generated data with it).
    public var oracle: ((_ query: String, _ videoID: String, _ judgedAt: Int64, _ expected: Double) -> Void)?

    public init(queries: Int, seed: UInt64) {
        self.queries = queries
        self.seed = seed
    }

    struct Video {
        var id: String
        var topic: Int
        var titleWords: [String]
        var title: String
        var description: String
        var channel: String
        var duration: Int
        var views: Int
        var published: Int64  // epoch seconds
    }

    static let idAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-".utf8)

    public func write(to folder: String) throws -> Summary {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var rng = SplitMix64(seed: seed)
        let topics = FixtureVocabulary.topics
        let videoCount = min(200_000, max(300, queries * 2))
        var videos: [Video] = []
        var byTopic = [[Int]](repeating: [], count: topics.count)
        let start2015: Int64 = 1_420_070_400
        let mid2026: Int64 = 1_780_000_000
        for i in 0..<videoCount {
            let t = rng.below(topics.count)
            let topic = topics[t]
            var words: [String] = []
            for _ in 0..<(2 + rng.below(4)) { words.append(rng.pick(topic.words)) }
            for _ in 0..<(1 + rng.below(3)) { words.insert(rng.pick(FixtureVocabulary.generic), at: rng.below(words.count + 1)) }
            let duration =
                rng.chance(0.3) ? 20 + rng.below(400) : (rng.chance(0.5) ? 400 + rng.below(1500) : 1500 + rng.below(9000))
            if duration < 400 && rng.chance(0.5) { words.append("#shorts") }
            if duration > 3000 && rng.chance(0.5) { words.append("full course") }
            let quality = rng.normal()
            let views = Int(exp(8 + 2.2 * quality + rng.normal()).rounded())
            let published = start2015 + Int64(rng.below(Int(mid2026 - start2015)))
            if rng.chance(0.08) { words.append("news") }
            let title = Self.titleCase(words, rng: &rng)
            var desc: [String] = []
            for _ in 0..<(6 + rng.below(14)) {
                desc.append(rng.chance(0.6) ? rng.pick(topic.words) : rng.pick(FixtureVocabulary.generic))
            }
            videos.append(
                Video(
                    id: Self.makeID(&rng), topic: t, titleWords: words, title: title, description: desc.joined(separator: " "),
                    channel: rng.pick(topic.channels), duration: duration, views: max(0, views), published: published))
            byTopic[t].append(i)
        }

        // videos.jsonl
        var out = JSONText(capacity: 1 << 20)
        let videoFile = try ExportFile(path: (folder as NSString).appendingPathComponent("videos.jsonl"))
        var videoLines = 0
        func flush(_ file: ExportFile) throws {
            if out.bytes.count > 1 << 20 { try file.write(out.bytes); out.removeAll() }
        }
        for v in videos {
            // Observed from its publication (or the start of the judgments) to the end of the judgments.
            let from = max(v.published, Self.judgedFrom)
            let span = max(Self.judgedFrom + Self.judgedSpan - from, 0)
            for step in 0..<history {
                let at = from + Int64(step) * span / Int64(history)
                let views = v.views * (step + 1) / (history + 1)
                writeVideo(v, url: "https://www.vid.example/watch?v=\(v.id)", views: views, observedAt: at, into: &out)
                videoLines += 1
            }
            if rng.chance(malformedRate) {
                writeMalformedVideo(v, rng: &rng, into: &out)
                videoLines += 1
            }
            writeVideo(v, url: urlVariant(v.id, rng: &rng), views: v.views, into: &out)
            videoLines += 1
            if rng.chance(0.01) {  // a duplicate under another URL form; the last line wins
                writeVideo(v, url: urlVariant(v.id, rng: &rng), views: v.views + rng.below(1000), into: &out)
                videoLines += 1
            }
            try flush(videoFile)
        }
        try videoFile.write(out.bytes)
        try videoFile.commit()
        out.removeAll()

        // judgments.jsonl
        let judgmentFile = try ExportFile(path: (folder as NSString).appendingPathComponent("judgments.jsonl"))
        var judgmentLines = 0
        let judgedFrom = Self.judgedFrom
        for _ in 0..<queries {
            let t = rng.below(topics.count)
            let intent = rng.pick(FixtureVocabulary.Intent.allCases)
            var qwords: [String] = []
            for _ in 0..<(1 + rng.below(3)) {
                let w = rng.pick(topics[t].words)
                if !qwords.contains(w) { qwords.append(w) }
            }
            if let m = intent.words.isEmpty ? nil : rng.pick(intent.words) { qwords.append(m) }
            let query = qwords.joined(separator: " ")
            let candidates = 20 + rng.below(21)
            var seen = Set<Int>()
            for _ in 0..<candidates {
                let v = rng.chance(0.55) && !byTopic[t].isEmpty ? rng.pick(byTopic[t]) : rng.below(videos.count)
                guard seen.insert(v).inserted else { continue }
                let video = videos[v]
                let judgedAt = judgedFrom + Int64(rng.below(Int(Self.judgedSpan)))
                let expected = Self.expectedScore(query: qwords, topic: t, intent: intent, video: video, at: judgedAt)
                let label = Self.label(expected, rng: &rng)
                oracle?(query, video.id, judgedAt, expected)
                if rng.chance(malformedRate) {
                    writeMalformedJudgment(query: query, video: video, rng: &rng, into: &out)
                    judgmentLines += 1
                }
                writeJudgment(
                    surface(query, rng: &rng), url: urlVariant(video.id, rng: &rng), label: label,
                    judgedAt: judgedAt, extra: rng.chance(0.1), rng: &rng, into: &out)
                judgmentLines += 1
                if rng.chance(0.03) {  // re-judged later (or at the same second: the later line wins)
                    let later = rng.chance(0.2) ? judgedAt : judgedAt + Int64(1 + rng.below(86_400 * 30))
                    let relabel = rng.chance(0.5) ? label : max(0, min(3, label + (rng.chance(0.5) ? 1 : -1)))
                    if let oracle {
                        oracle(
                            query, video.id, later,
                            Self.expectedScore(query: qwords, topic: t, intent: intent, video: video, at: later))
                    }
                    writeJudgment(
                        surface(query, rng: &rng), url: urlVariant(video.id, rng: &rng), label: relabel,
                        judgedAt: later, extra: false, rng: &rng, into: &out)
                    judgmentLines += 1
                }
                try flush(judgmentFile)
            }
        }
        try judgmentFile.write(out.bytes)
        try judgmentFile.commit()
        return Summary(queries: queries, videos: videoCount, videoLines: videoLines, judgmentLines: judgmentLines)
    }

    static let judgedFrom: Int64 = 1_735_689_600  // 2025-01-01
    static let judgedSpan: Int64 = 60 * 86_400 * 6  // the judgments' period: 360 days

    static func makeID(_ rng: inout SplitMix64) -> String {
        String(decoding: (0..<11).map { _ in idAlphabet[rng.below(idAlphabet.count)] }, as: UTF8.self)
    }

    static func titleCase(_ words: [String], rng: inout SplitMix64) -> String {
        words.enumerated().map { i, w in
            i == 0 || rng.chance(0.3) ? w.prefix(1).uppercased() + w.dropFirst() : w
        }.joined(separator: " ")
    }
}
