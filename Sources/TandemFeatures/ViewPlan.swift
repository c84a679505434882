import Dispatch
import Foundation

/// A compiled feature view prepared over a corpus of silver videos: the one code path that both the gold build
/// and the inference pipeline run, so training and serving can never compute a feature differently.
///
/// Built once per corpus (token lists of every video, BM25 statistics); `analyze` prepares a query once, then
/// `computeRow` fills one row of the view's columns (float32) without allocating on the heap.
public final class ViewPlan: Sendable {
    public let view: FeatureView
    /// The silver videos, in the order given.
    public let videos: [VideoRecord]
    let program: ViewProgram
    let indexByURL: [String: Int]
    let vocabulary: [String: Int32]
    /// The UTF-8 of every token of the vocabulary, by id.
    let tokenBytes: [[UInt8]]
    /// Per video, per video recipe: the token ids in order.
    let videoLists: [[[Int32]]]
    /// Per video, per video recipe: the distinct ids with their counts, sorted by id.
    let videoTables: [[[TokenCount]]]
    /// Per BM25 document: the IDF of every vocabulary id and the average length.
    let corpus: [(idf: [Double], average: Double)]

    struct TokenCount: Sendable {
        var id: Int32
        var count: Int32
    }

    /// The corpus statistics the plan's BM25 features use: computed from the corpus when the plan was built for a
    /// gold table, the frozen ones of the model's feature table at inference.
    public let statistics: CorpusStatistics

    /// Prepares the view over `videos`. The BM25 statistics are `statistics` when given (frozen with a feature
    /// table), else those of the videos at `corpus` (every video when nil: a gold build passes the latest version
    /// of each video, its other entries being earlier versions that rows as of an earlier time read).
    public init(view: FeatureView, videos: [VideoRecord], corpus: [Int]? = nil, statistics frozen: CorpusStatistics? = nil) {
        self.view = view
        self.videos = videos
        program = view.program
        var index: [String: Int] = [:]
        index.reserveCapacity(videos.count)
        for (i, v) in videos.enumerated() { index[v.url] = i }
        indexByURL = index
        var vocabulary: [String: Int32] = [:]
        var bytes: [[UInt8]] = []
        var lists: [[[Int32]]] = []
        var tables: [[[TokenCount]]] = []
        lists.reserveCapacity(videos.count)
        tables.reserveCapacity(videos.count)
        // Tokenised on every core; the ids are then given in video order, so they do not depend on the threads.
        let texts = Self.tokenize(videos, recipes: program.videoRecipes)
        for (v, perRecipe) in texts.enumerated() {
            guard let perRecipe else {
                // The same texts as the entry before (an earlier version of the same video): the same tokens.
                lists.append(lists[v - 1])
                tables.append(tables[v - 1])
                continue
            }
            var perVideo: [[Int32]] = []
            for (recipe, tokens) in zip(program.videoRecipes, perRecipe) {
                var ids: [Int32] = []
                ids.reserveCapacity(tokens.count)
                for token in tokens {
                    if let id = vocabulary[token] {
                        ids.append(id)
                    } else {
                        let id = Int32(bytes.count)
                        vocabulary[token] = id
                        bytes.append(Array(token.utf8))
                        ids.append(id)
                    }
                }
                perVideo.append(recipe.distinct ? Self.distinct(ids) : ids)
            }
            tables.append(perVideo.map(Self.table))
            lists.append(perVideo)
        }
        var computed = CorpusStatistics(documents: [])
        var perDocument: [(idf: [Double], average: Double)] = []
        let members = corpus ?? Array(videos.indices)
        for (d, recipe) in program.bm25Documents.enumerated() {
            var df: [Int]
            var document: CorpusStatistics.Document
            if let frozen, d < frozen.documents.count {
                let kept = frozen.documents[d]
                document = kept
                df = bytes.map { (token: [UInt8]) -> Int in kept.df[String(decoding: token, as: UTF8.self)] ?? 0 }
            } else {
                df = [Int](repeating: 0, count: bytes.count)
                var total = 0
                for v in members {
                    for entry in tables[v][recipe] { df[Int(entry.id)] += 1 }
                    total += lists[v][recipe].count
                }
                document = CorpusStatistics.Document(
                    recipe: program.videoRecipes[recipe].description, videos: members.count, tokens: total, df: [:])
                for (id, count) in df.enumerated() where count > 0 {
                    let token = String(decoding: bytes[id], as: UTF8.self)
                    document.df[token] = count
                }
            }
            computed.documents.append(document)
            let n = Double(document.videos)
            let idf = df.map { (count: Int) -> Double in
                let frequency = Double(count)
                return log(1 + (n - frequency + 0.5) / (frequency + 0.5))
            }
            let average = document.videos == 0 ? 0 : Double(document.tokens) / n
            perDocument.append((idf, average))
        }
        statistics = computed
        self.vocabulary = vocabulary
        tokenBytes = bytes
        videoLists = lists
        videoTables = tables
        self.corpus = perDocument
    }

    /// The text a video recipe reads.
    static func text(of video: VideoRecord, _ recipe: ViewProgram.TokenRecipe) -> String {
        switch recipe.column {
        case .title: video.title
        case .description: video.description
        case .channel: video.channel
        case .url, .query: video.url
        }
    }

    /// Per video, per recipe, its tokens; nil for a video whose texts are those of the entry before it.
    static func tokenize(_ videos: [VideoRecord], recipes: [ViewProgram.TokenRecipe]) -> [[[String]]?] {
        final class Results: @unchecked Sendable {
            var slots: [[[String]]?]
            init(_ n: Int) { slots = [[[String]]?](repeating: nil, count: n) }
        }
        let results = Results(videos.count)
        let parts = videos.count < 4_096 ? 1 : min(8, max(1, ProcessInfo.processInfo.activeProcessorCount))
        let per = (videos.count + parts - 1) / max(1, parts)
        results.slots.withUnsafeMutableBufferPointer { slots in
            nonisolated(unsafe) let slots = slots
            DispatchQueue.concurrentPerform(iterations: parts) { part in
                for v in (part * per)..<min(videos.count, (part + 1) * per) {
                    if v > 0, recipes.allSatisfy({ text(of: videos[v], $0) == text(of: videos[v - 1], $0) }) { continue }
                    slots[v] = recipes.map { TextNormalization.tokens(text(of: videos[v], $0)) }
                }
            }
        }
        return results.slots
    }

    static func distinct(_ ids: [Int32]) -> [Int32] {
        if ids.count <= 32 {
            var out: [Int32] = []
            out.reserveCapacity(ids.count)
            for id in ids where !out.contains(id) { out.append(id) }
            return out
        }
        var seen = Set<Int32>()
        return ids.filter { seen.insert($0).inserted }
    }

    /// The distinct ids with their counts, sorted by id.
    static func table(_ ids: [Int32]) -> [TokenCount] {
        guard !ids.isEmpty else { return [] }
        let sorted = ids.sorted()
        var out: [TokenCount] = []
        var current = TokenCount(id: sorted[0], count: 0)
        for id in sorted {
            if id != current.id {
                out.append(current)
                current = TokenCount(id: id, count: 0)
            }
            current.count += 1
        }
        out.append(current)
        return out
    }

    /// The number of columns per row.
    public var width: Int { program.width }

    /// The corpus index of a canonical video URL.
    public func videoIndex(of canonicalURL: String) -> Int? { indexByURL[canonicalURL] }

    /// A query, analysed once for all of its rows.
    public struct Query: Sendable {
        /// The normalised query.
        public var normalized: String
        var lists: [[Int32]]
        var tables: [[TokenCount]]
        /// The UTF-8 of the query's tokens that no video has (ids from the vocabulary's size on).
        var extraBytes: [[UInt8]]
        var codePoints: Int
    }

    /// Prepares a normalised query.
    public func analyze(normalizedQuery query: String) -> Query {
        var lists: [[Int32]] = []
        var extra: [String: Int32] = [:]
        var extraBytes: [[UInt8]] = []
        if !program.queryRecipes.isEmpty {
            var ids: [Int32] = []
            for token in TextNormalization.tokens(query) {
                if let id = vocabulary[token] {
                    ids.append(id)
                } else if let id = extra[token] {
                    ids.append(id)
                } else {
                    let id = Int32(tokenBytes.count + extraBytes.count)
                    extra[token] = id
                    extraBytes.append(Array(token.utf8))
                    ids.append(id)
                }
            }
            for recipe in program.queryRecipes { lists.append(recipe.distinct ? Self.distinct(ids) : ids) }
        }
        return Query(
            normalized: query, lists: lists, tables: lists.map(Self.table), extraBytes: extraBytes,
            codePoints: query.unicodeScalars.count)
    }
}
