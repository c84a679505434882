/// An immutable, registered gold build: `relevance_v1@3`.
public struct FeatureTableVersion: Sendable, Codable, Equatable {
    /// The feature set (`relevance_v1`).
    public var featureSet: String
    /// The version number within the set, from 1.
    public var version: Int
    /// When it was registered (RFC 3339 UTC).
    public var createdAt: String
    /// Gold rows.
    public var rowCount: Int
    /// SHA-256 of the table's content (keys, labels and features).
    public var digest: String
    /// Feature names and types, in column order.
    public var schema: [FeatureDefinition]
    /// Where it came from.
    public var lineage: Lineage
    /// The table's folder, relative to the features root.
    public var path: String

    public init(
        featureSet: String, version: Int, createdAt: String, rowCount: Int, digest: String, schema: [FeatureDefinition],
        lineage: Lineage, path: String
    ) {
        self.featureSet = featureSet
        self.version = version
        self.createdAt = createdAt
        self.rowCount = rowCount
        self.digest = digest
        self.schema = schema
        self.lineage = lineage
        self.path = path
    }

    /// `relevance_v1@3`.
    public var reference: String { "\(featureSet)@\(version)" }

    /// The columns of this table as a feature set (its schema, recorded when it was registered).
    public var featureSetOfColumns: FeatureSet { FeatureSet(name: featureSet, version: 1, features: schema) }

    /// The inputs and code a gold build came from.
    public struct Lineage: Sendable, Codable, Equatable {
        public var inputs: [String: String]
        public var codeCommit: String?
        public var codeDirty: Bool?
        public var bronzeFiles: [Int64]
        public var silverVersion: Int64

        public init(
            inputs: [String: String], codeCommit: String?, codeDirty: Bool?, bronzeFiles: [Int64], silverVersion: Int64
        ) {
            self.inputs = inputs
            self.codeCommit = codeCommit
            self.codeDirty = codeDirty
            self.bronzeFiles = bronzeFiles
            self.silverVersion = silverVersion
        }

        enum CodingKeys: String, CodingKey {
            case inputs
            case codeCommit = "code_commit"
            case codeDirty = "code_dirty"
            case bronzeFiles = "bronze_files"
            case silverVersion = "silver_version"
        }
    }

    enum CodingKeys: String, CodingKey {
        case featureSet = "feature_set"
        case version
        case createdAt = "created_at"
        case rowCount = "row_count"
        case digest, schema, lineage, path
    }
}

/// `NAME@VERSION` or `NAME` (the latest).
public struct FeatureTableReference: Sendable, Equatable, CustomStringConvertible {
    public var featureSet: String
    public var version: Int?

    public init(featureSet: String, version: Int?) {
        self.featureSet = featureSet
        self.version = version
    }

    /// Parses `relevance_v1@3` or `relevance_v1`.
    public init?(_ text: String) {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count <= 2, let name = parts.first, !name.isEmpty else { return nil }
        featureSet = String(name)
        if parts.count == 2 {
            guard let v = Int(parts[1]), v >= 1 else { return nil }
            version = v
        } else {
            version = nil
        }
    }

    public var description: String { version.map { "\(featureSet)@\($0)" } ?? featureSet }
}
