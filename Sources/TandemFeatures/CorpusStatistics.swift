public import Foundation

/// The corpus statistics of a view's BM25 features, frozen with the feature table they were computed for
/// (docs/features.md, "Frozen statistics"): per BM25 document (in the order the view's program uses them), the
/// number of videos, their total token count and each token's document frequency. The inference path of a model
/// uses its table's, so a champion trained on an older gold version is served with the statistics it learned.
public struct CorpusStatistics: Sendable, Codable, Equatable {
    public struct Document: Sendable, Codable, Equatable {
        /// The document's token recipe, such as `tokens(video.title)`.
        public var recipe: String
        public var videos: Int
        public var tokens: Int
        /// Document frequency by token (tokens no video has are absent).
        public var df: [String: Int]
    }

    public var format = "tandem-corpus/1"
    public var documents: [Document]

    public init(documents: [Document]) { self.documents = documents }

    /// The JSON bytes Tandem writes (sorted keys, so the same statistics are the same bytes).
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }
}
