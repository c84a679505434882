import Foundation

/// The lock file a registration writes on the branch that made the model (`models/NAME.lock.json`), so
/// the code and the model travel together: promotion reads it to know which version the branch stands for.
public struct ModelLock: Sendable, Codable, Equatable {
    public var environment: String
    public var model: String
    public var version: Int
    public var artifactDigest: String
    public var runID: String?
    public var featureTable: String?
    public var dataDigest: String?
    public var registeredAt: String
    /// The registry's audit head when the lock file was written: an anchor outside the registry, so that a log cut
    /// short or rewritten before it is detected (`tandem models verify`, `tandem models history`). Absent in lock
    /// files written before anchors were recorded.
    public var auditHead: AuditAnchor?

    public init(environment: String, version: ModelVersion, auditHead: AuditAnchor? = nil) {
        self.environment = environment
        self.model = version.name
        self.version = version.version
        self.artifactDigest = version.artifactDigest
        self.runID = version.runID
        self.featureTable = version.featureTable
        self.dataDigest = version.dataDigest
        self.registeredAt = version.createdAt
        self.auditHead = auditHead
    }

    enum CodingKeys: String, CodingKey {
        case environment, model, version
        case artifactDigest = "artifact_digest"
        case runID = "run_id"
        case featureTable = "feature_table"
        case dataDigest = "data_digest"
        case registeredAt = "registered_at"
        case auditHead = "audit_head"
    }

    /// The lock file's path in a repository, for a model.
    public static func path(model: String) -> String { "models/\(model).lock.json" }

    /// The file's text (sorted keys, indented, final newline) so diffs read well.
    public func text() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self) + "\n"
    }

    public static func parse(_ text: String) throws -> ModelLock {
        try JSONDecoder().decode(ModelLock.self, from: Data(text.utf8))
    }

    /// The differences between this lock and the registry's version, in words (empty when they agree).
    public func differences(from v: ModelVersion) -> [String] {
        var out: [String] = []
        if artifactDigest != v.artifactDigest {
            out.append("artifact digest: lock \(artifactDigest.prefix(12))…, registry \(v.artifactDigest.prefix(12))…")
        }
        if runID != v.runID { out.append("run: lock \(runID ?? "none"), registry \(v.runID ?? "none")") }
        if featureTable != v.featureTable {
            out.append("feature table: lock \(featureTable ?? "none"), registry \(v.featureTable ?? "none")")
        }
        if dataDigest != v.dataDigest {
            out.append("data digest: lock \(dataDigest ?? "none"), registry \(v.dataDigest ?? "none")")
        }
        return out
    }
}
