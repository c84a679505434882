public import TandemFeatures

/// Why a raw line went to quarantine (docs/data-contract.md, "Quarantine reasons and precedence").
public enum QuarantineReason: String, Sendable, CaseIterable, Codable, Error {
    case badJSON = "bad_json"
    case missingField = "missing_field"
    case labelOutOfRange = "label_out_of_range"
    case unknownVideo = "unknown_video"
    case badURL = "bad_url"

    /// The reasons a judgments file can give, in precedence order.
    public static let judgmentReasons: [QuarantineReason] = [.badJSON, .missingField, .labelOutOfRange, .unknownVideo]
    /// The reasons a videos file can give, in precedence order.
    public static let videoReasons: [QuarantineReason] = [.badJSON, .missingField, .badURL]
}

/// A judgment line that passed every check: its query normalised and its video known.
public struct ValidJudgment: Sendable {
    public var query: String
    /// The video's index among the silver videos being built.
    public var video: Int32
    public var label: Int8
    public var judgedAt: DataTimestamp
}

/// Parses raw lines of `judgments.jsonl` and `videos.jsonl` by the rules of docs/data-contract.md. One parser per thread.
public struct RawRecordParser {
    private var judgmentParser = StrictJSONObjectParser(keys: ["query", "video_url", "label", "judged_at"])
    private var videoParser = StrictJSONObjectParser(
        keys: ["url", "title", "description", "channel", "duration_s", "views", "published", "observed_at"])
    private var queryCache: [String: String] = [:]

    public init() {}

    /// Checks one judgment line; `videos` maps video ids to their index among the silver videos.
    public mutating func judgment(_ line: UnsafeBufferPointer<UInt8>, videos: [String: Int32])
        -> Result<ValidJudgment, QuarantineReason>
    {
        guard let f = judgmentParser.parse(line) else { return .failure(.badJSON) }
        guard case .string(let rawQuery)? = f[0], case .string(let rawURL)? = f[1], case .string(let rawTime)? = f[3],
            let time = DataTimestamp(rawTime)
        else { return .failure(.missingField) }
        let label: Int64
        switch f[2] {
        case .integer(let value)?: label = value
        case .hugeInteger?: label = Int64.max  // an integer, just far out of range
        default: return .failure(.missingField)
        }
        let query = normalize(rawQuery)
        if query.isEmpty { return .failure(.missingField) }
        guard (0...3).contains(label) else { return .failure(.labelOutOfRange) }
        guard let id = VideoURL.id(of: rawURL), let video = videos[id] else { return .failure(.unknownVideo) }
        return .success(ValidJudgment(query: query, video: video, label: Int8(label), judgedAt: time))
    }

    /// Checks one video line; the record's `url` is its canonical URL. The optional `observed_at` (when the
    /// attributes were observed, docs/features.md "History") must be a timestamp when present.
    public mutating func video(_ line: UnsafeBufferPointer<UInt8>) -> Result<
        (id: String, record: VideoRecord, observedAt: DataTimestamp?), QuarantineReason
    > {
        guard let f = videoParser.parse(line) else { return .failure(.badJSON) }
        guard case .string(let rawURL)? = f[0], case .string(let title)? = f[1], case .string(let description)? = f[2],
            case .string(let channel)? = f[3], case .integer(let duration)? = f[4], duration >= 0,
            case .integer(let views)? = f[5], views >= 0, case .string(let rawPublished)? = f[6],
            let published = DataTimestamp(rawPublished)
        else { return .failure(.missingField) }
        var observedAt: DataTimestamp?
        if let field = f[7], field != .null {
            guard case .string(let text) = field, let time = DataTimestamp(text) else { return .failure(.missingField) }
            observedAt = DataTimestamp(seconds: time.seconds)
        }
        guard let id = VideoURL.id(of: rawURL) else { return .failure(.badURL) }
        let record = VideoRecord(
            url: VideoURL.canonical(id: id), title: title, description: description, channel: channel, durationS: duration,
            views: views, published: DataTimestamp(seconds: published.seconds))
        return .success((id, record, observedAt))
    }

    /// Query normalisation, memoised: real logs repeat the same surface forms many times.
    private mutating func normalize(_ raw: String) -> String {
        if let hit = queryCache[raw] { return hit }
        let normalized = TextNormalization.normalizeQuery(raw)
        if queryCache.count > 1_000_000 { queryCache.removeAll(keepingCapacity: true) }
        queryCache[raw] = normalized
        return normalized
    }
}
