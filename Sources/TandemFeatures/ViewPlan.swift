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
        for video in videos {
            var perVideo: [[Int32]] = []
            for recipe in program.videoRecipes {
                let text: String
                switch recipe.column {
                case .title: text = video.title
                case .description: text = video.description
                case .channel: text = video.channel
                case .url, .query: text = video.url
                }
                var ids: [Int32] = []
                for token in TextNormalization.tokens(text) {
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

    static func distinct(_ ids: [Int32]) -> [Int32] {
        var seen = Set<Int32>()
        return ids.filter { seen.insert($0).inserted }
    }

    static func table(_ ids: [Int32]) -> [TokenCount] {
        var map: [Int32: Int32] = [:]
        for t in ids { map[t, default: 0] += 1 }
        return map.sorted { $0.key < $1.key }.map { TokenCount(id: $0.key, count: $0.value) }
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
