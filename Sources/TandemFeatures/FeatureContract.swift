/// What a model's features are computed with, frozen into its artifact when it is trained (docs/features.md,
/// "The feature contract"): for each feature view it reads, the view version its feature table was built with —
/// the declaration's text, compiled again wherever the model is served and checked against the digest — and the
/// corpus statistics frozen with that table. The model then computes the same features in every environment
/// it is copied to, whatever that environment's feature store holds.
public struct FeatureContract: Sendable, Codable, Equatable {
    /// One view a model reads.
    public struct View: Sendable, Codable, Equatable {
        public var view: String
        /// Its version in the feature store the model was trained from.
        public var version: Int
        /// The SHA-256 of the view's normal form: what identifies the definition in any store.
        public var digest: String
        /// The file the declaration was read from.
        public var file: String
        /// The declaration's text, as the feature store kept it.
        public var source: String
        /// The feature table it was trained on (`relevance_v1@3`).
        public var table: String
        /// The corpus statistics frozen with that table, nil for a table that froze none.
        public var statistics: CorpusStatistics?
        public var statisticsDigest: String?

        public var reference: String { "\(view)@\(version)" }

        public init(
            view: String, version: Int, digest: String, file: String, source: String, table: String,
            statistics: CorpusStatistics?, statisticsDigest: String?
        ) {
            self.view = view
            self.version = version
            self.digest = digest
            self.file = file
            self.source = source
            self.table = table
            self.statistics = statistics
            self.statisticsDigest = statisticsDigest
        }

        enum CodingKeys: String, CodingKey {
            case view, version, digest, file, source, table, statistics
            case statisticsDigest = "statistics_digest"
        }
    }

    public var views: [View]

    public init(views: [View]) { self.views = views }

    /// The contract's entry for a view.
    public func view(_ name: String) -> View? { views.first { $0.view == name } }
}
