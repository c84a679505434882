public import TandemFeatures

/// A line that went to quarantine.
public struct QuarantinedLine: Sendable {
    public var kind: String  // "videos" or "judgments"
    public var file: String
    public var lineNumber: Int
    public var reason: QuarantineReason
    public var content: [UInt8]
    /// What is wrong, in words that name the field and the problem (`label: 1e999 is not a JSON integer`).
    public var detail: String
}

/// Counts for one input file, shaped as the quarantine report of docs/data-contract.md ("Silver tables and the
/// quarantine report").
public struct LayerCounts: Sendable, Codable, Equatable {
    public var linesTotal = 0
    public var quarantined: [String: Int]
    public var valid = 0
    public var duplicatesDropped = 0
    public var silver = 0

    init(reasons: [QuarantineReason]) {
        quarantined = Dictionary(uniqueKeysWithValues: reasons.map { ($0.rawValue, 0) })
    }
}

/// A version of a video's attributes in silver's history (SCD type 2, docs/features.md "History"): what was
/// observed at `observedAt` (the line's own `observed_at`, else its file's ingestion time), valid until the next
/// version's observation; the first version of a video is valid from the start of time.
public struct VideoVersion: Sendable, Equatable {
    public var observedAt: DataTimestamp
    public var record: VideoRecord

    public init(observedAt: DataTimestamp, record: VideoRecord) {
        self.observedAt = observedAt
        self.record = record
    }
}

/// Builds the silver layer in memory from checked lines: keeps the quarantine, deduplicates
/// (videos: the latest observation wins, ties to the later line — the last line when no line has its own
/// `observed_at`; judgments: the latest `judged_at`, ties to the later line) and keeps every video's history.
public struct SilverBuilder {
    /// Video index by video id (ids are 11 bytes: Swift keeps them inline, so lookups do not allocate).
    public private(set) var videoIndex: [String: Int32] = [:]
    /// Every observation of each video, in line order.
    private(set) var observations: [[VideoVersion]] = []
    /// When the lines without an `observed_at` of the file being read were observed: its ingestion time.
    public var defaultObservedAt = DataTimestamp(seconds: 0)
    /// The observations that took `defaultObservedAt` (video, position in its observations).
    private var defaulted: [(video: Int32, index: Int32)] = []
    private var queryIDs: [String: UInt32] = [:]
    private(set) var queries: [String] = []
    private var judgments: [UInt64: Entry] = [:]
    public private(set) var quarantine: [QuarantinedLine] = []
    public private(set) var videoCounts = LayerCounts(reasons: QuarantineReason.videoReasons)
    public private(set) var judgmentCounts = LayerCounts(reasons: QuarantineReason.judgmentReasons)

    struct Entry {
        var label: Int8
        var time: DataTimestamp
    }

    public init() {}

    /// Takes the outcome of one line of videos.jsonl, in file order.
    public mutating func addVideo(
        _ outcome: Result<(id: String, record: VideoRecord, observedAt: DataTimestamp?), QuarantineReason>,
        line: UnsafeBufferPointer<UInt8>, file: String, lineNumber: Int, detail: String? = nil
    ) {
        videoCounts.linesTotal += 1
        switch outcome {
        case .failure(let reason):
            reject(reason, kind: "videos", line: line, file: file, lineNumber: lineNumber, detail: detail)
            videoCounts.quarantined[reason.rawValue, default: 0] += 1
        case .success(let (id, video, observedAt)):
            videoCounts.valid += 1
            let version = VideoVersion(observedAt: observedAt ?? defaultObservedAt, record: video)
            let index: Int32
            if let existing = videoIndex[id] {
                index = existing
                observations[Int(existing)].append(version)
                videoCounts.duplicatesDropped += 1
            } else {
                index = Int32(observations.count)
                videoIndex[id] = index
                observations.append([version])
            }
            if observedAt == nil { defaulted.append((index, Int32(observations[Int(index)].count - 1))) }
        }
    }

    /// Gives the observations that took the file's ingestion time another one: the time recorded by a concurrent
    /// ETL of the same file that registered it first, so that both build the same history.
    public mutating func retimeDefaultObservations(to time: DataTimestamp) {
        defaultObservedAt = time
        for (video, index) in defaulted { observations[Int(video)][Int(index)].observedAt = time }
    }

    /// Takes the outcome of one line of judgments.jsonl, in file order (all videos added first).
    public mutating func addJudgment(
        _ outcome: Result<ValidJudgment, QuarantineReason>, line: UnsafeBufferPointer<UInt8>, file: String, lineNumber: Int,
        detail: String? = nil
    ) {
        judgmentCounts.linesTotal += 1
        switch outcome {
        case .failure(let reason):
            reject(reason, kind: "judgments", line: line, file: file, lineNumber: lineNumber, detail: detail)
            judgmentCounts.quarantined[reason.rawValue, default: 0] += 1
        case .success(let j):
            judgmentCounts.valid += 1
            let qid: UInt32
            if let known = queryIDs[j.query] {
                qid = known
            } else {
                qid = UInt32(queries.count)
                queryIDs[j.query] = qid
                queries.append(j.query)
            }
            let key = UInt64(qid) << 32 | UInt64(UInt32(j.video))
            if let old = judgments[key] {
                judgmentCounts.duplicatesDropped += 1
                if j.judgedAt >= old.time { judgments[key] = Entry(label: j.label, time: j.judgedAt) }
            } else {
                judgments[key] = Entry(label: j.label, time: j.judgedAt)
            }
        }
    }

    private mutating func reject(
        _ reason: QuarantineReason, kind: String, line: UnsafeBufferPointer<UInt8>, file: String,
        lineNumber: Int, detail: String?
    ) {
        // Explained here, on the rejected lines only, so the checks of valid lines stay as fast as they are.
        let detail = detail ?? QuarantineDetail.explain(line, kind: kind, reason: reason)
        quarantine.append(
            QuarantinedLine(kind: kind, file: file, lineNumber: lineNumber, reason: reason, content: Array(line), detail: detail))
    }

    /// The history of one video: `earlier` (its versions in the previous silver) and this run's observations,
    /// ordered by observation time (earlier versions first at equal times, then line order), a later observation
    /// at the same time replacing an earlier one, and consecutive equal attributes kept once (the earliest).
    static func history(earlier: [VideoVersion], observed: [VideoVersion]) -> [VideoVersion] {
        let all = (earlier + observed).enumerated().sorted {
            ($0.element.observedAt.seconds, $0.offset) < ($1.element.observedAt.seconds, $1.offset)
        }.map(\.element)
        var versions: [VideoVersion] = []
        for v in all {
            if let last = versions.last, last.observedAt == v.observedAt {
                versions[versions.count - 1] = v
                if versions.count > 1, versions[versions.count - 2].record == v.record { versions.removeLast() }
            } else if versions.last?.record != v.record {
                versions.append(v)
            }
        }
        return versions
    }

    /// The silver layer: videos sorted by URL (each at its latest version, with its history), judgments sorted by
    /// (query, video_url) in code-point order. `previous` holds the previous silver's history by canonical URL: a
    /// video this run reads keeps its earlier versions; a video it does not read is not in this silver.
    public mutating func finish(previous: [String: [VideoVersion]] = [:]) -> SilverLayer {
        let histories = observations.map { observed in
            Self.history(earlier: previous[observed[0].record.url] ?? [], observed: observed)
        }
        observations = []
        defaulted = []
        let videos = histories.map { $0[$0.count - 1].record }
        // UTF-8 order is code-point order.
        let videoOrder = videos.indices.sorted { videos[$0].url.utf8.lexicographicallyPrecedes(videos[$1].url.utf8) }
        var newIndex = [Int](repeating: 0, count: videos.count)
        for (rank, old) in videoOrder.enumerated() { newIndex[old] = rank }
        let sortedVideos = videoOrder.map { videos[$0] }
        let sortedHistory = videoOrder.map { histories[$0] }
        let queryOrder = queries.indices.sorted { queries[$0].utf8.lexicographicallyPrecedes(queries[$1].utf8) }
        var queryRank = [UInt32](repeating: 0, count: queries.count)
        for (rank, old) in queryOrder.enumerated() { queryRank[old] = UInt32(rank) }
        let sortedQueries = queryOrder.map { queries[$0] }
        var rows: [SilverJudgment] = []
        rows.reserveCapacity(judgments.count)
        for (key, entry) in judgments {
            rows.append(
                SilverJudgment(
                    queryIndex: queryRank[Int(key >> 32)], videoIndex: UInt32(newIndex[Int(key & 0xFFFF_FFFF)]),
                    label: entry.label, judgedAt: entry.time))
        }
        judgments = [:]
        rows.sort { ($0.queryIndex, $0.videoIndex) < ($1.queryIndex, $1.videoIndex) }
        judgmentCounts.silver = rows.count
        videoCounts.silver = sortedVideos.count
        return SilverLayer(videos: sortedVideos, history: sortedHistory, queries: sortedQueries, judgments: rows)
    }
}

/// One silver judgment, by index into the silver layer's sorted queries and videos.
public struct SilverJudgment: Sendable {
    public var queryIndex: UInt32
    public var videoIndex: UInt32
    public var label: Int8
    public var judgedAt: DataTimestamp
}

/// The silver layer of one ETL run, in memory.
public struct SilverLayer: Sendable {
    /// Videos sorted by canonical URL, each at its latest version.
    public var videos: [VideoRecord]
    /// Each video's versions (parallel to `videos`), oldest first; the last is the one in `videos`.
    public var history: [[VideoVersion]]
    /// Distinct normalised queries, sorted by code point.
    public var queries: [String]
    /// Judgments sorted by (query, video_url).
    public var judgments: [SilverJudgment]
}
