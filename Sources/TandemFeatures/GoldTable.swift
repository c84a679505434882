/// A gold table version: the rows of features a model is trained and evaluated on.
///
/// On disk (one folder, immutable once registered; TandemLakehouse writes and reads it):
///
/// - `keys.tsv`: one line per row, `query \t video_url \t judged_at` (queries and canonical URLs hold no
///   tabs or line breaks after normalisation);
/// - `labels.i8`: one signed byte per row;
/// - `features.f32`: rows × width float32, little-endian, row-major;
/// - `manifest.json`: format, feature set, feature names, row count, width and digest.
///
/// The content digest is the SHA-256 of the concatenated SHA-256 hex digests of `keys.tsv`, `labels.i8` and
/// `features.f32`, in that order.
public enum GoldTable {
    /// A gold table in memory, row by row: keys, labels and the feature matrix.
    public struct Loaded: Sendable {
        public var queries: [String]
        public var videoURLs: [String]
        public var judgedAt: [String]
        public var labels: [Int8]
        public var features: [Float]
        public var width: Int
        public var rowCount: Int { labels.count }

        public init(
            queries: [String], videoURLs: [String], judgedAt: [String], labels: [Int8], features: [Float], width: Int
        ) {
            self.queries = queries
            self.videoURLs = videoURLs
            self.judgedAt = judgedAt
            self.labels = labels
            self.features = features
            self.width = width
        }
    }
}
