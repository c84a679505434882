import Foundation
import TandemCore
import TandemStorage
import Testing

@testable import TandemRegistry

/// The conformance suite every `ModelRegistry` implementation must pass (today: SQLite).
@Suite("Registry conformance (SQLite)")
struct RegistryConformanceTests {
    let root = NSTemporaryDirectory() + "tandem-registry-\(UUID().uuidString)"

    func registry() throws -> any ModelRegistry {
        try RootGuard.claim(path: root, environment: "test", role: .registry, writer: .stage("test"))
        return try SQLiteModelRegistry(root: root)
    }

    func version(_ registry: any ModelRegistry, name: String = "ranker", content: String = "weights") throws -> ModelVersion {
        let digest = try registry.storeArtifact(Data(content.utf8))
        return ModelVersion(
            name: name, runID: "run-1", artifactDigest: digest, artifactSize: content.utf8.count, signature: "{}",
            metrics: ["ndcg@10": 0.8], featureTable: "relevance_v1@1", dataDigest: "abc", gitCommit: "c0ffee",
            gitBranch: "feature",
            gitRemote: nil)
    }

    @Test("versions are numbered from 1 per model and carry their lineage")
    func numbering() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let r = try registry()
        let v1 = try r.createVersion(try version(r), actor: "alice")
        let v2 = try r.createVersion(try version(r, content: "other"), actor: "alice")
        let w1 = try r.createVersion(try version(r, name: "other"), actor: "alice")
        #expect([v1.version, v2.version, w1.version] == [Int]([1, 2, 1]))
        #expect(try r.version(.version("ranker", 2)).artifactDigest == ContentDigest.sha256Hex("other"))
        #expect(try r.versions(name: "ranker").map(\.version) == [1, 2])
        #expect(try r.models() == ["other", "ranker"])
        let got = try r.version(.version("ranker", 1))
        #expect(
            got.featureTable == "relevance_v1@1" && got.gitCommit == "c0ffee" && got.gitBranch == "feature"
                && got.runID == "run-1")
        #expect(throws: RegistryError.self) { try r.version(.version("ranker", 3)) }
    }

    @Test("setting an alias moves it; getting by alias; deleting it")
    func aliases() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let r = try registry()
        _ = try r.createVersion(try version(r), actor: "a")
        _ = try r.createVersion(try version(r, content: "2"), actor: "a")
        try r.setAlias(name: "ranker", alias: "champion", version: 1, actor: "a")
        #expect(try r.version(.alias("ranker", "champion")).version == 1)
        try r.setAlias(name: "ranker", alias: "champion", version: 2, actor: "a")
        #expect(try r.version(.alias("ranker", "champion")).version == 2)
        #expect(try r.aliases(name: "ranker") == ["champion": 2])
        #expect(throws: RegistryError.self) { try r.setAlias(name: "ranker", alias: "champion", version: 9, actor: "a") }
        #expect(throws: RegistryError.self) { try r.setAlias(name: "ranker", alias: "3", version: 1, actor: "a") }
        try r.deleteAlias(name: "ranker", alias: "champion", actor: "a")
        #expect(throws: RegistryError.self) { try r.version(.alias("ranker", "champion")) }
    }

    @Test("artifacts are content-addressed and checked when read")
    func artifacts() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let r = try registry()
        let digest = try r.storeArtifact(Data("model bytes".utf8))
        #expect(digest == ContentDigest.sha256Hex("model bytes"))
        #expect(try r.storeArtifact(Data("model bytes".utf8)) == digest)
        #expect(try r.artifact(digest: digest) == Data("model bytes".utf8))
        let path = root + "/artifacts/sha256/\(digest.prefix(2))/\(digest)"
        try Data("tampered".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: RegistryError.self) { try r.artifact(digest: digest) }
    }

    @Test("runs keep parameters, tags and the full metric history")
    func runs() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let r = try registry()
        var run = RunRecord(
            id: "r1", experiment: "ranker", name: "train", startedAt: "2026-01-01T00:00:00.000Z", parameters: ["lr": "0.001"])
        try r.createRun(run)
        try r.logMetrics(
            runID: "r1",
            [
                MetricPoint(key: "ndcg@10", value: 0.5, step: 1, timestamp: "t1"),
                MetricPoint(key: "ndcg@10", value: 0.6, step: 2, timestamp: "t2"),
            ])
        run.status = "FINISHED"
        run.endedAt = "2026-01-01T00:01:00.000Z"
        try r.updateRun(run)
        #expect(try r.run(id: "r1") == run)
        #expect(try r.metricHistory(runID: "r1").map(\.value) == [0.5, 0.6])
        #expect(try r.runs(experiment: "ranker", limit: 10).map(\.id) == ["r1"])
    }

    @Test("the audit log is hash-chained, answers 'champion at time T', and a tampered entry is detected")
    func audit() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let r = try registry()
        _ = try r.createVersion(try version(r), actor: "alice")
        _ = try r.createVersion(try version(r, content: "2"), actor: "alice")
        try r.setAlias(name: "ranker", alias: "champion", version: 1, actor: "bob")
        Thread.sleep(forTimeInterval: 0.01)
        let between = Timestamp.nowMillis()
        Thread.sleep(forTimeInterval: 0.01)
        try r.setAlias(name: "ranker", alias: "champion", version: 2, actor: "bob")
        let log = try r.auditLog()
        #expect(log.map(\.action) == ["version.create", "version.create", "alias.set", "alias.set"])
        #expect(log.map(\.actor) == ["alice", "alice", "bob", "bob"])
        #expect(AuditChain.firstBrokenEntry(log) == nil)
        #expect(AuditChain.alias("champion", of: "ranker", at: between, in: log) == 1)
        #expect(AuditChain.alias("champion", of: "ranker", at: Timestamp.nowMillis(), in: log) == 2)
        #expect(AuditChain.alias("champion", of: "ranker", at: "2000-01-01T00:00:00Z", in: log) == nil)
        // Tamper with entry 3 directly in SQLite: rewrite who approved it.
        let db = root + "/registry.sqlite"
        let sqlite = Process()
        sqlite.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        sqlite.arguments = ["sqlite3", db, "UPDATE audit_log SET actor = 'mallory' WHERE sequence = 3"]
        try sqlite.run()
        sqlite.waitUntilExit()
        #expect(sqlite.terminationStatus == 0)
        #expect(AuditChain.firstBrokenEntry(try r.auditLog()) == 3)
        var removed = log
        removed.remove(at: 1)
        #expect(AuditChain.firstBrokenEntry(removed) == 3)
    }

    @Test("a version cannot be registered for an artifact the registry does not hold; versions are immutable")
    func integrity() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let r = try registry()
        var v = try version(r)
        v.artifactDigest = String(repeating: "a", count: 64)
        #expect(throws: RegistryError.self) { try r.createVersion(v, actor: "a") }
        _ = try r.createVersion(try version(r), actor: "a")
        let sqlite = Process()
        sqlite.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        sqlite.arguments = ["sqlite3", root + "/registry.sqlite", "UPDATE model_versions SET body = '{}' WHERE version = 1"]
        sqlite.standardError = FileHandle.nullDevice
        try sqlite.run()
        sqlite.waitUntilExit()
        #expect(sqlite.terminationStatus != 0)
    }
}
