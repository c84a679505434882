/// A silver video: its canonical URL and the metadata features are computed from.
public struct VideoRecord: Sendable, Equatable {
    public var url: String
    public var title: String
    public var description: String
    public var channel: String
    public var durationS: Int64
    public var views: Int64
    public var published: DataTimestamp

    public init(
        url: String, title: String, description: String, channel: String, durationS: Int64, views: Int64,
        published: DataTimestamp
    ) {
        self.url = url
        self.title = title
        self.description = description
        self.channel = channel
        self.durationS = durationS
        self.views = views
        self.published = published
    }
}

/// A query, analysed once for all of its rows.
public struct QueryAnalysis: Sendable {
    /// The normalised query.
    public var normalized: String
    /// Its tokens in order, repeats kept (for the exact-phrase feature).
    public var tokens: [Int32]
    /// Its distinct tokens in order of first appearance (`qd`); -1 for tokens no video has.
    public var distinct: [Int32]
    /// The FNV-1a state after `q + " "`, per distinct token, to hash the crosses without rebuilding strings.
    public var crossPrefixes: [UInt32]
    /// Unicode code points of the normalised query.
    public var codePoints: Int
}
