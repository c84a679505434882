import GRDB
import TandemCore

/// The audit log, written in the transaction of the change it records.
extension SQLiteModelRegistry {
    // MARK: Audit

    public func auditLog() throws -> [AuditEntry] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM audit_log ORDER BY sequence").map {
                AuditEntry(
                    sequence: $0["sequence"], at: $0["at"], actor: $0["actor"], action: $0["action"], subject: $0["subject"],
                    detail: try Self.decode([String: String].self, $0["detail"]), previousDigest: $0["previous_digest"],
                    digest: $0["digest"])
            }
        }
    }

    public func appendAudit(actor: String, action: String, subject: String, detail: [String: String]) throws {
        try write { db in try self.audit(db, actor: actor, action: action, subject: subject, detail: detail) }
    }

    func audit(_ db: Database, actor: String, action: String, subject: String, detail: [String: String]) throws {
        let last = try Row.fetchOne(db, sql: "SELECT sequence, digest FROM audit_log ORDER BY sequence DESC LIMIT 1")
        let sequence = (last?["sequence"] as Int? ?? 0) + 1
        let previous = last?["digest"] as String? ?? AuditChain.genesis
        let at = Timestamp.nowMillis()
        let detailText = try Self.json(detail)
        let digest = AuditChain.digest(
            sequence: sequence, at: at, actor: actor, action: action, subject: subject, detail: detailText, previous: previous)
        try db.execute(
            sql: "INSERT INTO audit_log VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            arguments: [sequence, at, actor, action, subject, detailText, previous, digest])
    }
}
