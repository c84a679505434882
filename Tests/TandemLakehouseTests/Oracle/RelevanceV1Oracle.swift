import Foundation

@testable import TandemFeatures

// The oracle of the declared relevance_v1 (features/relevance_v1.yaml): the hand-written implementation Tandem
// computed relevance_v1 with before feature views were declared, kept here unchanged so that the tests can prove
// the declared view computes the same bytes (issue 18: "keep the old one in the tests as the oracle").

extension FeatureSet {
    /// The 56 features of docs/data-contract.md, "Gold features".
    static let relevanceV1Oracle: FeatureSet = {
        var f: [FeatureDefinition] = [
            .init("bm25_title", "BM25 (k1 1.2, b 0.75) of the query's distinct tokens over title tokens"),
            .init("bm25_desc", "BM25 of the query's distinct tokens over description tokens"),
            .init("overlap_title", "number of distinct query tokens found in the title"),
            .init("overlap_desc", "number of distinct query tokens found in the description"),
            .init("overlap_channel", "number of distinct query tokens found in the channel name"),
            .init("q_len", "number of distinct query tokens"),
            .init("title_len", "title token count, repeats included"),
            .init("desc_len", "description token count, repeats included"),
            .init("overlap_title_frac", "overlap_title / q_len (0 when q_len is 0)"),
            .init("overlap_desc_frac", "overlap_desc / q_len (0 when q_len is 0)"),
            .init("all_q_in_title", "1 when every distinct query token is in the title"),
            .init("exact_phrase_title", "1 when the query's tokens appear in order, contiguous, in the title"),
            .init("log1p_views", "ln(1 + views)"),
            .init("age_days", "(judged_at − published) in days"),
            .init("log1p_age_days", "ln(1 + max(age_days, 0))"),
            .init("log1p_views_per_day", "ln(1 + views / max(age_days, 1))"),
            .init("log1p_duration_s", "ln(1 + duration_s)"),
        ]
        let buckets = ["[0,60)", "[60,240)", "[240,600)", "[600,1200)", "[1200,3600)", "[3600,∞)"]
        for (i, b) in buckets.enumerated() { f.append(.init("dur_b\(i)", "1 when duration_s is in \(b) seconds")) }
        f.append(.init("q_len_chars", "Unicode code points of the normalised query"))
        for i in 0..<32 {
            let name = i < 10 ? "h0\(i)" : "h\(i)"
            f.append(.init(name, "hashed query×title token crosses: count of pairs with fnv1a32(q + \" \" + t) mod 32 = \(i)"))
        }
        return FeatureSet(name: "relevance_v1", version: 1, features: f)
    }()
}

/// A query, analysed once for all of its rows.
struct QueryAnalysis: Sendable {
    /// The normalised query.
    var normalized: String
    /// Its tokens in order, repeats kept (for the exact-phrase feature).
    var tokens: [Int32]
    /// Its distinct tokens in order of first appearance (`qd`); -1 for tokens no video has.
    var distinct: [Int32]
    /// The FNV-1a state after `q + " "`, per distinct token, to hash the crosses without rebuilding strings.
    var crossPrefixes: [UInt32]
    /// Unicode code points of the normalised query.
    var codePoints: Int
}

/// Computes the features of `relevance_v1` for (query, video) pairs: the one code path that both the gold
/// build and the inference pipeline call, so training and serving can never compute a feature differently.
///
/// It is built from the silver videos (the BM25 corpus); `analyze` prepares a query once, then
/// `computeRow` fills one row of 56 float32 values without allocating.
final class FeatureComputer: Sendable {
    /// The feature set computed (relevance_v1).
    let featureSet: FeatureSet
    /// The silver videos, in the order given.
    let videos: [VideoRecord]
    private let indexByURL: [String: Int]
    private let vocabulary: [String: Int32]
    private let analyses: [VideoAnalysis]
    private let idfTitle: [Double]
    private let idfDesc: [Double]
    private let avgTitle: Double
    private let avgDesc: Double

    static let k1 = 1.2
    static let b = 0.75

    struct VideoAnalysis: Sendable {
        var titleTokens: [Int32]
        /// Distinct title tokens with their counts, sorted by token id.
        var titleCounts: [(Int32, Int32)]
        /// The UTF-8 of each distinct title token, in the same order, for the hashed crosses.
        var titleTokenBytes: [[UInt8]]
        var descCounts: [(Int32, Int32)]
        var descLength: Int
        var channelTokens: [Int32]  // sorted, distinct
    }

    /// Analyses the corpus: tokens of every title, description and channel, and BM25 statistics.
    init(videos: [VideoRecord], featureSet: FeatureSet = .relevanceV1Oracle) {
        self.featureSet = featureSet
        self.videos = videos
        var index: [String: Int] = [:]
        index.reserveCapacity(videos.count)
        for (i, v) in videos.enumerated() { index[v.url] = i }
        self.indexByURL = index

        var vocabulary: [String: Int32] = [:]
        func id(_ token: String) -> Int32 {
            if let existing = vocabulary[token] { return existing }
            let next = Int32(vocabulary.count)
            vocabulary[token] = next
            return next
        }
        func counts(_ ids: [Int32]) -> [(Int32, Int32)] {
            var map: [Int32: Int32] = [:]
            for t in ids { map[t, default: 0] += 1 }
            return map.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        }
        var analyses: [VideoAnalysis] = []
        analyses.reserveCapacity(videos.count)
        var totalTitle = 0
        var totalDesc = 0
        for video in videos {
            let title = TextNormalization.tokens(video.title)
            let titleIDs = title.map(id)
            let desc = TextNormalization.tokens(video.description).map(id)
            let channel = Array(Set(TextNormalization.tokens(video.channel).map(id))).sorted()
            let titleCounts = counts(titleIDs)
            var idToText: [Int32: String] = [:]
            for (t, text) in zip(titleIDs, title) { idToText[t] = text }
            analyses.append(
                VideoAnalysis(
                    titleTokens: titleIDs, titleCounts: titleCounts,
                    titleTokenBytes: titleCounts.map { Array((idToText[$0.0] ?? "").utf8) },
                    descCounts: counts(desc), descLength: desc.count, channelTokens: channel))
            totalTitle += titleIDs.count
            totalDesc += desc.count
        }
        var dfTitle = [Int](repeating: 0, count: vocabulary.count)
        var dfDesc = [Int](repeating: 0, count: vocabulary.count)
        for a in analyses {
            for (t, _) in a.titleCounts { dfTitle[Int(t)] += 1 }
            for (t, _) in a.descCounts { dfDesc[Int(t)] += 1 }
        }
        let n = Double(videos.count)
        func idf(_ df: Int) -> Double { log(1 + (n - Double(df) + 0.5) / (Double(df) + 0.5)) }
        self.idfTitle = dfTitle.map(idf)
        self.idfDesc = dfDesc.map(idf)
        self.avgTitle = videos.isEmpty ? 0 : Double(totalTitle) / n
        self.avgDesc = videos.isEmpty ? 0 : Double(totalDesc) / n
        self.vocabulary = vocabulary
        self.analyses = analyses
    }

    /// The number of features per row.
    var width: Int { featureSet.features.count }

    /// The corpus index of a canonical video URL.
    func videoIndex(of canonicalURL: String) -> Int? { indexByURL[canonicalURL] }

    /// Prepares a normalised query.
    func analyze(normalizedQuery query: String) -> QueryAnalysis {
        let tokens = TextNormalization.tokens(query)
        var distinctText: [String] = []
        var seen = Set<String>()
        for t in tokens where seen.insert(t).inserted { distinctText.append(t) }
        let ids = tokens.map { vocabulary[$0] ?? -1 }
        let prefixes = distinctText.map { FNV1a.hash32(Array(($0 + " ").utf8)) }
        return QueryAnalysis(
            normalized: query, tokens: ids, distinct: distinctText.map { vocabulary[$0] ?? -1 },
            crossPrefixes: prefixes, codePoints: query.unicodeScalars.count)
    }

    /// Computes one row of features for the query and the video at `videoIndex`, at time `at`
    /// (the judgment's time for gold rows, the request's time at inference).
    func computeRow(
        query q: QueryAnalysis, videoIndex: Int, at time: DataTimestamp,
        into row: UnsafeMutableBufferPointer<Float>
    ) {
        let video = videos[videoIndex]
        let a = analyses[videoIndex]
        for i in 0..<row.count { row[i] = 0 }
        let ql = q.distinct.count
        var bm25Title = 0.0, bm25Desc = 0.0
        var overlapTitle = 0, overlapDesc = 0, overlapChannel = 0
        let titleLength = Double(a.titleTokens.count)
        let descLength = Double(a.descLength)
        for w in q.distinct where w >= 0 {
            if let tf = Self.count(of: w, in: a.titleCounts) {
                overlapTitle += 1
                let f = Double(tf)
                bm25Title +=
                    idfTitle[Int(w)] * f * (Self.k1 + 1)
                    / (f + Self.k1 * (1 - Self.b + Self.b * titleLength / avgTitle))
            }
            if let tf = Self.count(of: w, in: a.descCounts) {
                overlapDesc += 1
                let f = Double(tf)
                bm25Desc +=
                    idfDesc[Int(w)] * f * (Self.k1 + 1)
                    / (f + Self.k1 * (1 - Self.b + Self.b * descLength / avgDesc))
            }
            if Self.binarySearch(w, in: a.channelTokens) { overlapChannel += 1 }
        }
        row[0] = Float(bm25Title)
        row[1] = Float(bm25Desc)
        row[2] = Float(overlapTitle)
        row[3] = Float(overlapDesc)
        row[4] = Float(overlapChannel)
        row[5] = Float(ql)
        row[6] = Float(a.titleTokens.count)
        row[7] = Float(a.descLength)
        row[8] = ql > 0 ? Float(Double(overlapTitle) / Double(ql)) : 0
        row[9] = ql > 0 ? Float(Double(overlapDesc) / Double(ql)) : 0
        row[10] = ql > 0 && overlapTitle == ql ? 1 : 0
        row[11] = Self.containsPhrase(q.tokens, in: a.titleTokens) ? 1 : 0
        let views = Double(video.views)
        row[12] = Float(log1p(views))
        let age = Double(time.seconds - video.published.seconds) / 86_400
        row[13] = Float(age)
        row[14] = Float(log1p(max(age, 0)))
        row[15] = Float(log1p(views / max(age, 1)))
        let duration = video.durationS
        row[16] = Float(log1p(Double(duration)))
        let bucket = duration < 60 ? 0 : duration < 240 ? 1 : duration < 600 ? 2 : duration < 1200 ? 3 : duration < 3600 ? 4 : 5
        row[17 + bucket] = 1
        row[23] = Float(q.codePoints)
        for prefix in q.crossPrefixes {
            for bytes in a.titleTokenBytes {
                var h = prefix
                for byte in bytes {
                    h ^= UInt32(byte)
                    h = h &* 16_777_619
                }
                row[24 + Int(h % 32)] += 1
            }
        }
    }

    @inline(__always)
    static func count(of token: Int32, in counts: [(Int32, Int32)]) -> Int32? {
        var lo = 0, hi = counts.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if counts[mid].0 < token { lo = mid + 1 } else { hi = mid }
        }
        return lo < counts.count && counts[lo].0 == token ? counts[lo].1 : nil
    }

    @inline(__always)
    static func binarySearch(_ token: Int32, in sorted: [Int32]) -> Bool {
        var lo = 0, hi = sorted.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if sorted[mid] < token { lo = mid + 1 } else { hi = mid }
        }
        return lo < sorted.count && sorted[lo] == token
    }

    /// The exact-phrase test of docs/data-contract.md (`exact_phrase_title`): `" " + join(query tokens) + " "` is a
    /// substring of `" " + join(title) + " "`.
    /// Tokens hold no spaces, so this is a contiguous match of token sequences; an empty query matches an empty title.
    static func containsPhrase(_ phrase: [Int32], in title: [Int32]) -> Bool {
        if phrase.isEmpty { return title.isEmpty }
        if phrase.contains(-1) || phrase.count > title.count { return false }
        for start in 0...(title.count - phrase.count) {
            var match = true
            for k in 0..<phrase.count where title[start + k] != phrase[k] {
                match = false
                break
            }
            if match { return true }
        }
        return false
    }
}
