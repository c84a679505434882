import TandemFeatures

/// What one ETL run did: the `--json` document of `tandem etl`.
public struct ETLReport: Sendable, Codable {
    public struct Input: Sendable, Codable {
        public var path: String
        public var digest: String
        public var lines: Int
        public var bytes: Int64
        /// The bronze file id; `appended` is false when the same file (by digest) was already in bronze.
        public var bronzeFile: Int64
        public var appended: Bool

        enum CodingKeys: String, CodingKey {
            case path, digest, lines, bytes, appended
            case bronzeFile = "bronze_file"
        }
    }

    public struct Quarantine: Sendable, Codable {
        public var judgments: Judgments
        public var videos: Videos
    }

    public struct Judgments: Sendable, Codable {
        public var linesTotal: Int
        public var quarantined: [String: Int]
        public var valid: Int
        public var duplicatesDropped: Int
        public var silverJudgments: Int

        enum CodingKeys: String, CodingKey {
            case linesTotal = "lines_total"
            case quarantined, valid
            case duplicatesDropped = "duplicates_dropped"
            case silverJudgments = "silver_judgments"
        }
    }

    public struct Videos: Sendable, Codable {
        public var linesTotal: Int
        public var quarantined: [String: Int]
        public var valid: Int
        public var duplicatesDropped: Int
        public var silverVideos: Int

        enum CodingKeys: String, CodingKey {
            case linesTotal = "lines_total"
            case quarantined, valid
            case duplicatesDropped = "duplicates_dropped"
            case silverVideos = "silver_videos"
        }
    }

    public struct Layers: Sendable, Codable {
        public var bronzeLines: Int
        public var silverVideos: Int
        public var silverJudgments: Int
        public var quarantined: Int
        public var goldRows: Int

        enum CodingKeys: String, CodingKey {
            case bronzeLines = "bronze_lines_appended"
            case silverVideos = "silver_videos"
            case silverJudgments = "silver_judgments"
            case quarantined
            case goldRows = "gold_rows"
        }
    }

    public var environment: String
    public var featuresRoot: String
    public var inputs: [String: Input]
    public var rows: Layers
    public var silverVersion: Int64
    public var silverUnchanged: Bool
    public var featureTable: String
    public var featureTableDigest: String
    /// True when the gold build equalled the latest version, so nothing new was registered.
    public var featureTableUnchanged: Bool
    public var quarantine: Quarantine
    public var timingsMs: [String: Double]
    public var rowsPerSecond: Double

    enum CodingKeys: String, CodingKey {
        case environment
        case featuresRoot = "features_root"
        case inputs, rows
        case silverVersion = "silver_version"
        case silverUnchanged = "silver_unchanged"
        case featureTable = "feature_table"
        case featureTableDigest = "feature_table_digest"
        case featureTableUnchanged = "feature_table_unchanged"
        case quarantine
        case timingsMs = "timings_ms"
        case rowsPerSecond = "rows_per_second"
    }
}
