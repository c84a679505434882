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
