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
        let judgedFrom: Int64 = 1_735_689_600  // 2025-01-01
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
                let judgedAt = judgedFrom + Int64(rng.below(60 * 86_400 * 6))
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

    /// A judgment's label: the hidden model's score plus noise, cut into grades 0–3.
    static func label(_ expected: Double, rng: inout SplitMix64) -> Int {
        let score = expected + 0.3 * rng.normal()
        return score < 0.9 ? 0 : score < 1.8 ? 1 : score < 2.6 ? 2 : 3
    }

    /// The hidden relevance model, without its noise: non-linear in its inputs, as real relevance is.
    static func expectedScore(
        query: [String], topic: Int, intent: FixtureVocabulary.Intent, video: Video, at time: Int64
    ) -> Double {
        let match = video.topic == topic ? 1.0 : 0.0
        let titleSet = Set(video.titleWords.flatMap { $0.lowercased().split(separator: " ").map(String.init) })
        let words = query.flatMap { $0.split(separator: " ").map(String.init) }
        let overlap = Double(words.filter { titleSet.contains($0) }.count) / Double(max(1, words.count))
        let popularity = min(1, max(0, (log1p(Double(video.views)) - 4) / 12))
        let ageDays = Double(time - video.published) / 86_400
        let fresh = exp(-max(ageDays, 0) / 365)
        var score = 1.5 * match + 1.3 * overlap * match + 0.9 * popularity * match + 0.25 * overlap
        switch intent {
        case .plain: score += 0.3 * fresh
        case .news: score += match * 1.4 * fresh - 0.3
        case .quick: score += video.duration < 400 ? 0.7 * match : -0.4
        case .full: score += video.duration > 1500 ? 0.7 * match : -0.4
        }
        return score
    }

    static func makeID(_ rng: inout SplitMix64) -> String {
        String(decoding: (0..<11).map { _ in idAlphabet[rng.below(idAlphabet.count)] }, as: UTF8.self)
    }

    static func titleCase(_ words: [String], rng: inout SplitMix64) -> String {
        words.enumerated().map { i, w in
            i == 0 || rng.chance(0.3) ? w.prefix(1).uppercased() + w.dropFirst() : w
        }.joined(separator: " ")
    }

    /// One of the URL forms a video is referenced by.
    func urlVariant(_ id: String, rng: inout SplitMix64) -> String {
        let scheme = rng.pick(["https", "http", "HTTPS", "Https"])
        let host = rng.pick(["www.vid.example", "vid.example", "m.vid.example", "WWW.Vid.Example", "M.VID.EXAMPLE"])
        let tracking = rng.chance(0.3) ? rng.pick(FixtureVocabulary.trackingParameters) : nil
        var url: String
        if rng.chance(0.25) {
            url = "\(scheme)://vid.example/\(id)" + (rng.chance(0.3) ? "/" : "")
            if let tracking { url += "?" + tracking }
        } else {
            let path = rng.chance(0.15) ? "/watch/" : "/watch"
            if let tracking {
                url =
                    rng.chance(0.5)
                    ? "\(scheme)://\(host)\(path)?\(tracking)&v=\(id)" : "\(scheme)://\(host)\(path)?v=\(id)&\(tracking)"
            } else {
                url = "\(scheme)://\(host)\(path)?v=\(id)"
            }
        }
        if rng.chance(0.05) { url += "#t=\(rng.below(600))s" }
        if rng.chance(0.03) { url = " " + url + "\t" }
        return url
    }

    /// One of the surface forms a query is typed in.
    func surface(_ query: String, rng: inout SplitMix64) -> String {
        var q = query
        switch rng.below(10) {
        case 0: q = q.uppercased()
        case 1:
            q = String(
                String.UnicodeScalarView(
                    q.unicodeScalars.map { s in
                        (s.value >= 0x21 && s.value <= 0x7E) ? (Unicode.Scalar(s.value + 0xFEE0) ?? s) : s
                    }))
        case 2: q = q.decomposedStringWithCanonicalMapping
        case 3: q = q.replacingOccurrences(of: " ", with: rng.pick(["\u{00A0}", "\u{3000}", "\u{2009}", "\t", "  "]))
        case 4: q = rng.pick([" ", "\t", "\u{00A0}"]) + q + rng.pick(["  ", "\t", "\u{3000}"])
        case 5: q = q.prefix(1).uppercased() + q.dropFirst()
        default: break
        }
        return q
    }

    func writeVideo(_ v: Video, url: String, views: Int, into out: inout JSONText) {
        out.raw("{\"url\": "); out.string(url)
        out.raw(", \"title\": "); out.string(v.title)
        out.raw(", \"description\": "); out.string(v.description)
        out.raw(", \"channel\": "); out.string(v.channel)
        out.raw(", \"duration_s\": "); out.integer(v.duration)
        out.raw(", \"views\": "); out.integer(views)
        out.raw(", \"published\": "); out.string(DataTimestamp(seconds: v.published).silverText)
        out.raw("}"); out.newline()
    }

    func writeJudgment(
        _ query: String, url: String, label: Int, judgedAt: Int64, extra: Bool, rng: inout SplitMix64,
        into out: inout JSONText
    ) {
        out.raw("{\"query\": "); out.string(query)
        out.raw(", \"video_url\": "); out.string(url)
        out.raw(", \"label\": "); out.integer(label)
        out.raw(", \"judged_at\": ")
        var time = DataTimestamp(seconds: judgedAt).silverText
        if rng.chance(0.1) { time = String(time.dropLast()) + ".\(rng.below(1000))Z" }
        out.string(time)
        if extra {
            out.raw(", \"session\": "); out.string("s-\(rng.below(1_000_000))")
            out.verbatim(", \"judge\": {\"id\": \(rng.below(500)), \"pool\": [\"a\", \"b\"]}")
        }
        out.raw("}"); out.newline()
    }

    func writeMalformedJudgment(query: String, video: Video, rng: inout SplitMix64, into out: inout JSONText) {
        let url = "https://www.vid.example/watch?v=\(video.id)"
        let good = "{\"query\": \"\(query)\", \"video_url\": \"\(url)\", \"label\": 2, \"judged_at\": \"2025-03-04T05:06:07Z\"}"
        let variants: [String] = [
            String(good.dropLast(9)),  // truncated
            good.replacingOccurrences(of: "}", with: ",}"),  // trailing comma
            good.replacingOccurrences(of: "\"label\": 2", with: "\"label\": NaN"),
            good.replacingOccurrences(of: "\"", with: "'"),  // single quotes
            good + " x",  // trailing garbage
            "",  // blank line
            "[1, 2, 3]",  // not an object
            good.replacingOccurrences(of: ", \"label\": 2", with: ""),  // missing label
            good.replacingOccurrences(of: "\"label\": 2", with: "\"label\": \"2\""),
            good.replacingOccurrences(of: "\"label\": 2", with: "\"label\": 2.0"),
            good.replacingOccurrences(of: "\"label\": 2", with: "\"label\": null"),
            good.replacingOccurrences(of: "2025-03-04T05:06:07Z", with: "2025-02-30T05:06:07Z"),
            good.replacingOccurrences(of: "2025-03-04T05:06:07Z", with: "2025-03-04 05:06:07"),
            good.replacingOccurrences(of: "\"query\": \"\(query)\"", with: "\"query\": \" \\t \""),
            good.replacingOccurrences(of: "\"label\": 2", with: "\"label\": \(rng.pick([4, -1, 7, 12]))"),
            good.replacingOccurrences(of: video.id, with: Self.makeID(&rng)),  // unknown video
            good.replacingOccurrences(of: "www.vid.example", with: "www.other.example"),
            good.replacingOccurrences(of: "www.vid.example", with: "vid.example:8080"),
        ]
        out.verbatim(rng.pick(variants))
        out.newline()
    }

    func writeMalformedVideo(_ v: Video, rng: inout SplitMix64, into out: inout JSONText) {
        var good = JSONText()
        writeVideo(v, url: "https://vid.example/\(v.id)", views: v.views, into: &good)
        let line = String(decoding: good.bytes.dropLast(), as: UTF8.self)
        let variants: [String] = [
            String(line.dropLast(5)),
            line.replacingOccurrences(of: "}", with: ",}"),
            line.replacingOccurrences(of: "\"views\": \(v.views)", with: "\"views\": -5"),
            line.replacingOccurrences(of: "\"duration_s\": \(v.duration)", with: "\"duration_s\": \"\(v.duration)\""),
            line.replacingOccurrences(of: "\"channel\": ", with: "\"chanel\": "),
            line.replacingOccurrences(of: "vid.example/\(v.id)", with: "vimeo.example/\(v.id)"),
            line.replacingOccurrences(of: "vid.example/\(v.id)", with: "vid.example/\(v.id.prefix(8))"),
        ]
        out.verbatim(rng.pick(variants))
        out.newline()
    }
}
