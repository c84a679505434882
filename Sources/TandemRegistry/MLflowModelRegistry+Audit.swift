import Foundation
import TandemCore
import TandemHTTP

/// The audit log on the MLflow server: the `tandem-audit` experiment, one run per entry.
extension MLflowModelRegistry {
    // MARK: Audit

    public func auditLog() throws -> [AuditEntry] {
        let experiment = try experimentID("tandem-audit")
        var entries: [AuditEntry] = []
        var token: String?
        repeat {
            var body: [String: Any] = ["experiment_ids": [experiment], "max_results": 1000, "order_by": ["metrics.sequence ASC"]]
            if let token { body["page_token"] = token }
            let doc = try client.call(.post, "runs/search", body: body)
            for run in (doc["runs"] as? [[String: Any]]) ?? [] {
                let tags = Self.dictionary((run["data"] as? [String: Any])?["tags"])
                let detail =
                    tags["tandem.detail"].flatMap { try? JSONDecoder().decode([String: String].self, from: Data($0.utf8)) } ?? [:]
                entries.append(
                    AuditEntry(
                        sequence: Int(tags["tandem.sequence"] ?? "") ?? 0, at: tags["tandem.at"] ?? "",
                        actor: tags["tandem.actor"] ?? "",
                        action: tags["tandem.action"] ?? "", subject: tags["tandem.subject"] ?? "", detail: detail,
                        previousDigest: tags["tandem.previous_digest"] ?? "", digest: tags["tandem.digest"] ?? ""))
            }
            token = doc["next_page_token"] as? String
        } while token != nil && !(token ?? "").isEmpty
        return entries.sorted { $0.sequence < $1.sequence }
    }

    public func appendAudit(actor: String, action: String, subject: String, detail: [String: String]) throws {
        let log = try auditLog()
        let sequence = (log.last?.sequence ?? 0) + 1
        let previous = log.last?.digest ?? AuditChain.genesis
        let at = Timestamp.nowMillis()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let detailText = String(decoding: try encoder.encode(detail), as: UTF8.self)
        let digest = AuditChain.digest(
            sequence: sequence, at: at, actor: actor, action: action, subject: subject, detail: detailText,
            previous: previous)
        let doc = try client.call(
            .post, "runs/create",
            body: [
                "experiment_id": try experimentID("tandem-audit"), "run_name": "\(sequence) \(action)", "start_time": Self.ms(at),
                "tags": Self.tags([
                    "tandem.sequence": String(sequence), "tandem.at": at, "tandem.actor": actor, "tandem.action": action,
                    "tandem.subject": subject, "tandem.detail": detailText, "tandem.previous_digest": previous,
                    "tandem.digest": digest,
                ]),
            ])
        if let id = ((doc["run"] as? [String: Any])?["info"] as? [String: Any])?["run_id"] as? String {
            _ = try client.call(
                .post, "runs/log-batch",
                body: [
                    "run_id": id, "metrics": [["key": "sequence", "value": sequence, "step": 0, "timestamp": Self.ms(at)]],
                ])
            _ = try client.call(.post, "runs/update", body: ["run_id": id, "status": "FINISHED", "end_time": Self.ms(at)])
        }
    }
}
