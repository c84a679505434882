import Foundation
import TandemCore
import TandemHTTP
import TandemStorage
import TandemTestSupport
import Testing

@testable import TandemRegistry

@Suite("Registry rows against the audit chain, and anchors of the chain", .serialized)
struct AuditReplayTests {
    let conformance = RegistryConformanceTests()
    var root: String { conformance.root }
    var ranker: String { conformance.ranker }

    /// The differences that concern this test's models (an MLflow server is shared by the suite's tests).
    func differences(_ r: any ModelRegistry) throws -> [String] {
        try AuditReplay.differences(r, entries: try r.auditLog()).filter { $0.contains(conformance.tag) }
    }

    @Test("rows added, deleted or edited behind the registry's back (SQLite CLI) are each named")
    func tampered() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let r = try conformance.registry()
        let v1 = try r.createVersion(try conformance.version(r), actor: "a")
        _ = try r.createVersion(try conformance.version(r, content: "2"), actor: "a")
        try r.setAlias(name: ranker, alias: "champion", version: 1, actor: "a")
        #expect(try differences(r) == [])
        _ = try conformance.sqlite3("INSERT INTO aliases VALUES ('\(ranker)', 'shadow', 2)")
        _ = try conformance.sqlite3("DELETE FROM aliases WHERE alias = 'champion'")
        _ = try conformance.sqlite3(
            "DROP TRIGGER model_versions_immutable; "
                + "UPDATE model_versions SET body = json_set(body, '$.run_id', 'r-forged') WHERE version = 1; "
                + "INSERT INTO model_versions SELECT name, 3, created_at, json_set(body, '$.version', 3) FROM model_versions "
                + "WHERE version = 2; DELETE FROM model_versions WHERE version = 2")
        let found = try differences(r)
        #expect(found.count == 5, "\(found)")
        #expect(
            found.contains {
                $0.hasPrefix("\(ranker)@shadow points at version 2 in the registry, but the audit log never set it")
            })
        #expect(
            found.contains { $0.hasPrefix("\(ranker)@champion is missing from the registry, but entry 3 set it to version 1") })
        #expect(found.contains { $0.hasPrefix("\(ranker)@1: the registry's run is r-forged, entry 1 registered none") })
        #expect(found.contains { $0.hasPrefix("\(ranker)@2 is missing from the registry, but entry 2 registered it") })
        #expect(found.contains { $0.hasPrefix("\(ranker)@3 (sha256:") && $0.contains("no audit entry registered it") })
        let report = try RegistryIntegrity.check(r, anchors: [])
        #expect(report.chainIntact && !report.intact)
        #expect(report.error(environment: "test")?.code == .tampered)
        #expect(v1.recordDigest == (try r.auditLog()).first?.detail["record"])
    }

    @Test("an anchor detects a log cut short, rewritten, or rewritten from its start; a promotion's missing promoted entry")
    func anchors() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let r = try conformance.registry()
        _ = try r.createVersion(try conformance.version(r), actor: "a")
        try r.setAlias(name: ranker, alias: "champion", version: 1, actor: "a")
        var entries = try r.auditLog()
        let anchor = try #require(AuditAnchor.head(of: entries))
        func says(_ finding: AuditAnchor.Finding, _ words: String) -> Bool {
            if case .problem(let text) = finding { return text.contains(words) }
            return false
        }
        #expect(anchor.sequence == 2 && anchor.chain == entries[0].digest && anchor.check(entries, source: "L") == .holds)
        #expect(says(anchor.check(Array(entries.dropLast()), source: "L"), "entries were deleted from its end"))
        let original = entries
        entries[1].digest = String(repeating: "f", count: 64)
        #expect(says(anchor.check(entries, source: "L"), "the log was rewritten"))
        // Another chain (another machine's registry, or this one rewritten from its first entry): ignored, unless the
        // environment has one registry only (protected).
        entries[0].digest = String(repeating: "e", count: 64)
        #expect(anchor.check(entries, source: "L") == .otherRegistry)
        #expect(says(anchor.check(entries, source: "L", sameRegistry: true), "the log was rewritten from its start"))
        #expect(says(anchor.check([], source: "L", sameRegistry: true), "missing (the log is empty)"))
        let promoted = AuditAnchor(sequence: 1, digest: original[0].digest, chain: original[0].digest, promotion: "p-1")
        #expect(says(promoted.check(original, source: "L"), "no promotion.promoted entry of it after entry 1"))
        try r.appendAudit(actor: "a", action: "promotion.promoted", subject: "\(ranker)@1", detail: ["promotion": "p-1"])
        #expect(promoted.check(try r.auditLog(), source: "L") == .holds)
        var foreign = anchor
        foreign.chain = String(repeating: "d", count: 64)
        let report = try RegistryIntegrity.check(
            r,
            anchors: [
                FoundAnchor(source: "L", anchor: anchor), FoundAnchor(source: "M", anchor: anchor),
                FoundAnchor(source: "N", anchor: foreign),
            ])
        #expect(report.intact && report.anchors == 1 && report.newestAnchor == 2 && report.otherRegistries == 1, "\(report)")
        #expect(
            try RegistryIntegrity.check(r, anchors: [FoundAnchor(source: "N", anchor: foreign)], sameRegistry: true).problems
                .count == 1)
    }

    @Test("an MLflow token holding a line break is refused before any request, naming MLFLOW_TRACKING_TOKEN")
    func mlflowToken() throws {
        let receiver = try Receiver()
        defer { receiver.stop() }
        let client = MLflowClient(base: receiver.base, token: "secret-token\r\nX-Injected: yes")
        do {
            _ = try client.call(.get, "registered-models/search")
            Issue.record("the request was sent")
        } catch let error as Failure {
            #expect(error.code == .invalidInput && error.exitStatus == .badInput)
            #expect(error.description.hasPrefix("$MLFLOW_TRACKING_TOKEN holds a line break"), "\(error.description)")
            #expect(!error.description.contains("secret-token"))
        } catch {
            Issue.record("expected a registry error, got \(error)")
        }
        #expect(try receiver.requests().isEmpty)
    }
}
