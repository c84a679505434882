/// The inference side of the one feature code path: a raw query and raw candidate URLs in, a feature
/// matrix out, computed by the same `ViewPlan` the gold build runs.
public struct InferenceFeatures: Sendable {
    /// The features of one request.
    public struct Matrix: Sendable {
        /// The normalised query.
        public var query: String
        /// Canonical URLs of the candidates that are known silver videos, in request order.
        public var videoURLs: [String]
        /// Candidates that were not scored, with the reason (`bad_url` or `unknown_video`).
        public var unknown: [(candidate: String, reason: String)]
        /// Row-major, `videoURLs.count` × `width` float32 values.
        public var matrix: [Float]
        public var width: Int
    }

    public let computer: ViewPlan

    /// Builds the feature code path of `view` over the environment's silver videos, with the corpus statistics
    /// frozen with the model's feature table (computed from `videos` when nil).
    public init(view: FeatureView, videos: [VideoRecord], statistics: CorpusStatistics? = nil) {
        computer = ViewPlan(view: view, videos: videos, statistics: statistics)
    }

    /// Features of a query against its candidates, at the request's time.
    public func features(query rawQuery: String, candidates: [String], at time: DataTimestamp) throws -> Matrix {
        let query = TextNormalization.normalizeQuery(rawQuery)
        let analysis = computer.analyze(normalizedQuery: query)
        var urls: [String] = []
        var unknown: [(String, String)] = []
        var indices: [Int] = []
        for candidate in candidates {
            guard let url = VideoURL.canonicalize(candidate) else {
                unknown.append((candidate, "bad_url"))
                continue
            }
            guard let index = computer.videoIndex(of: url) else {
                unknown.append((candidate, "unknown_video"))
                continue
            }
            urls.append(url)
            indices.append(index)
        }
        let width = computer.width
        var matrix = [Float](repeating: 0, count: indices.count * width)
        matrix.withUnsafeMutableBufferPointer { buffer in
            for (r, index) in indices.enumerated() {
                let row = UnsafeMutableBufferPointer(rebasing: buffer[(r * width)..<((r + 1) * width)])
                computer.computeRow(query: analysis, videoIndex: index, at: DataTimestamp(seconds: time.seconds), into: row)
            }
        }
        return Matrix(query: query, videoURLs: urls, unknown: unknown, matrix: matrix, width: width)
    }
}
