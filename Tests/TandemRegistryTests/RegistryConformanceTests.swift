import Foundation
import TandemCore
import TandemStorage
import TandemTestSupport
import Testing

@testable import TandemRegistry

/// The conformance suite every `ModelRegistry` implementation must pass: the embedded SQLite registry, and an
/// MLflow tracking server (a real one, started on 127.0.0.1).
enum Backend: String, CaseIterable, Sendable {
    case sqlite, mlflow
}

/// Backends to run: SQLite always; MLflow where it is installed (or required by TANDEM_REQUIRE_MLFLOW=1).
let backends: [Backend] = MLflowServer.enabled ? [.sqlite, .mlflow] : [.sqlite]

@Suite("Registry conformance", .serialized)
struct RegistryConformanceTests {
    let root = NSTemporaryDirectory() + "tandem-registry-\(UUID().uuidString)"
    /// Names unique to one test, so tests sharing an MLflow server do not see each other's models.
    let tag = String(UUID().uuidString.prefix(8)).lowercased()

    func registry(_ backend: Backend = .sqlite) throws -> any ModelRegistry {
        switch backend {
        case .sqlite:
            try RootGuard.claim(path: root, environment: "test", role: .registry, writer: .stage("test"))
            return try SQLiteModelRegistry(root: root)
        case .mlflow:
            guard let server = MLflowServer.shared else { throw RegistryError("the MLflow server did not start") }
            return MLflowModelRegistry(baseURL: server.base)
        }
    }

    func version(_ registry: any ModelRegistry, name: String = "ranker", content: String = "weights") throws -> ModelVersion {
        let digest = try registry.storeArtifact(Data((content + tag).utf8))
        return ModelVersion(
            name: name + "-" + tag, runID: nil, artifactDigest: digest, artifactSize: content.utf8.count, signature: "{}",
            metrics: ["ndcg@10": 0.8], featureTable: "relevance_v1@1", dataDigest: "abc", gitCommit: "c0ffee",
            gitBranch: "feature",
            gitRemote: nil)
    }

    var ranker: String { "ranker-" + tag }

    @Test("versions are numbered from 1 per model and carry their lineage", arguments: backends)
    func numbering(_ backend: Backend) throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let r = try registry(backend)
        let v1 = try r.createVersion(try version(r), actor: "alice")
        let v2 = try r.createVersion(try version(r, content: "other"), actor: "alice")
        let w1 = try r.createVersion(try version(r, name: "other"), actor: "alice")
        #expect([v1.version, v2.version, w1.version] == [Int]([1, 2, 1]))
        #expect(try r.version(.version(ranker, 2)).artifactDigest == ContentDigest.sha256Hex("other" + tag))
        #expect(try r.versions(name: ranker).map(\.version) == [1, 2])
        #expect(try r.models().contains(ranker) && r.models().contains("other-" + tag))
        let got = try r.version(.version(ranker, 1))
        #expect(got.featureTable == "relevance_v1@1" && got.gitCommit == "c0ffee" && got.gitBranch == "feature")
        #expect(got.metrics == ["ndcg@10": 0.8] && got.dataDigest == "abc")
        expectRegistryError(.noSuchVersion) { try r.version(.version(ranker, 3)) }
    }

    @Test("setting an alias moves it; getting by alias; deleting it", arguments: backends)
    func aliases(_ backend: Backend) throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let r = try registry(backend)
        _ = try r.createVersion(try version(r), actor: "a")
        _ = try r.createVersion(try version(r, content: "2"), actor: "a")
        try r.setAlias(name: ranker, alias: "champion", version: 1, actor: "a")
        #expect(try r.version(.alias(ranker, "champion")).version == 1)
        try r.setAlias(name: ranker, alias: "champion", version: 2, actor: "a")
        #expect(try r.version(.alias(ranker, "champion")).version == 2)
        #expect(try r.aliases(name: ranker) == ["champion": 2])
        expectRegistryError(.aliasToMissingVersion) { try r.setAlias(name: ranker, alias: "champion", version: 9, actor: "a") }
        expectRegistryError(.invalidAlias) { try r.setAlias(name: ranker, alias: "3", version: 1, actor: "a") }
        try r.deleteAlias(name: ranker, alias: "champion", actor: "a")
        expectRegistryError(.noSuchVersion) { try r.version(.alias(ranker, "champion")) }
    }

    @Test("artifacts are content-addressed and checked when read", arguments: backends)
    func artifacts(_ backend: Backend) throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let r = try registry(backend)
        let bytes = Data("model bytes \(tag)".utf8)
        let digest = try r.storeArtifact(bytes)
        #expect(digest == ContentDigest.sha256Hex(bytes))
        #expect(try r.storeArtifact(bytes) == digest)
        #expect(try r.artifact(digest: digest) == bytes)
        let path =
            backend == .sqlite
            ? root + "/artifacts/sha256/\(digest.prefix(2))/\(digest)"
            : (MLflowServer.shared?.artifacts ?? "") + "/tandem/sha256/\(digest)"
        #expect(FileManager.default.fileExists(atPath: path))
        try Data("tampered".utf8).write(to: URL(fileURLWithPath: path))
        expectRegistryError(.artifactAltered) { try r.artifact(digest: digest) }
    }

    @Test("runs keep parameters, tags, git lineage and the full metric history", arguments: backends)
    func runs(_ backend: Backend) throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let r = try registry(backend)
        var run = RunRecord(
            id: "r-" + tag, experiment: ranker, name: "train", startedAt: "2026-01-01T00:00:00.000Z", parameters: ["lr": "0.001"],
            tags: ["tandem.actor": "dana"], gitCommit: "abc123", gitBranch: "feature/x", gitDirty: false,
            featureTable: "relevance_v1@2",
            dataDigest: "d1")
        let id = try r.createRun(run)
        run.id = id
        try r.logMetrics(
            runID: id,
            [
                MetricPoint(key: "ndcg@10", value: 0.5, step: 1, timestamp: "2026-01-01T00:00:01.000Z"),
                MetricPoint(key: "ndcg@10", value: 0.6, step: 2, timestamp: "2026-01-01T00:00:02.000Z"),
            ])
        run.status = "FINISHED"
        run.endedAt = "2026-01-01T00:01:00.000Z"
        run.artifactDigest = "feed"
        try r.updateRun(run)
        let got = try r.run(id: id)
        #expect(
            got.status == "FINISHED" && got.parameters == ["lr": "0.001"] && got.gitCommit == "abc123"
                && got.gitBranch == "feature/x")
        #expect(
            got.featureTable == "relevance_v1@2" && got.dataDigest == "d1" && got.artifactDigest == "feed"
                && got.experiment == ranker)
        #expect(got.startedAt == "2026-01-01T00:00:00.000Z" && got.endedAt == "2026-01-01T00:01:00.000Z")
        #expect(got.tags["tandem.actor"] == "dana")
        let history = try r.metricHistory(runID: id)
        #expect(
            history.map(\.key) == ["ndcg@10", "ndcg@10"] && history.map(\.value) == [0.5, 0.6] && history.map(\.step) == [1, 2])
        #expect(try r.runs(experiment: ranker, limit: 10).map(\.id) == [id])
    }

    @Test("the audit log is hash-chained and answers 'which version was champion at time T'", arguments: backends)
    func audit(_ backend: Backend) throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let r = try registry(backend)
        _ = try r.createVersion(try version(r), actor: "alice")
        _ = try r.createVersion(try version(r, content: "2"), actor: "alice")
        try r.setAlias(name: ranker, alias: "champion", version: 1, actor: "bob")
        Thread.sleep(forTimeInterval: 0.01)
        let between = Timestamp.nowMillis()
        Thread.sleep(forTimeInterval: 0.01)
        try r.setAlias(name: ranker, alias: "champion", version: 2, actor: "bob")
        let log = try r.auditLog()
        let mine = log.filter { $0.subject.hasPrefix(ranker + "@") }
        #expect(mine.map(\.action) == ["version.create", "version.create", "alias.set", "alias.set"])
        #expect(mine.map(\.actor) == ["alice", "alice", "bob", "bob"])
        #expect(AuditChain.firstBrokenEntry(log) == nil)
        #expect(AuditChain.alias("champion", of: ranker, at: between, in: log) == 1)
        #expect(AuditChain.alias("champion", of: ranker, at: Timestamp.nowMillis(), in: log) == 2)
        #expect(AuditChain.alias("champion", of: ranker, at: "2000-01-01T00:00:00Z", in: log) == nil)
        var removed = log
        removed.remove(at: removed.count - 2)
        #expect(AuditChain.firstBrokenEntry(removed) != nil)
    }

    @Test("a tampered audit entry is detected (SQLite, edited behind Tandem's back)")
    func tamperedAudit() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let r = try registry()
        _ = try r.createVersion(try version(r), actor: "alice")
        try r.setAlias(name: ranker, alias: "champion", version: 1, actor: "bob")
        try r.setAlias(name: ranker, alias: "previous", version: 1, actor: "bob")
        let sqlite = Process()
        sqlite.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        sqlite.arguments = ["sqlite3", root + "/registry.sqlite", "UPDATE audit_log SET actor = 'mallory' WHERE sequence = 2"]
        try sqlite.run()
        sqlite.waitUntilExit()
        #expect(sqlite.terminationStatus == 0)
        #expect(AuditChain.firstBrokenEntry(try r.auditLog()) == 2)
    }

    @Test("a version needs an artifact the registry holds", arguments: backends)
    func integrity(_ backend: Backend) throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let r = try registry(backend)
        var v = try version(r)
        v.artifactDigest = String(repeating: "a", count: 64)
        expectRegistryError(.artifactNotStored) { try r.createVersion(v, actor: "a") }
    }

    /// Runs one statement with the sqlite3 shell; its exit status and what it printed on stderr.
    func sqlite3(_ statement: String) throws -> (status: Int32, stderr: String) {
        let sqlite = Process()
        sqlite.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        sqlite.arguments = ["sqlite3", root + "/registry.sqlite", statement]
        let err = Pipe()
        sqlite.standardError = err
        try sqlite.run()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        sqlite.waitUntilExit()
        return (sqlite.terminationStatus, text)
    }

    @Test("versions are immutable in SQLite: the trigger refuses an UPDATE, and the version is unchanged")
    func immutable() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let r = try registry()
        let created = try r.createVersion(try version(r), actor: "a")
        // The same shell changes a table without the trigger (so a refusal below is the trigger's, not a missing
        // sqlite3, a locked file or bad SQL).
        let other = try sqlite3("UPDATE aliases SET version = version + 1 WHERE name = 'nothing'")
        try #require(other.status == 0, "sqlite3 cannot change the registry at all: \(other.stderr)")
        let update = try sqlite3("UPDATE model_versions SET body = '{}' WHERE version = 1")
        #expect(update.status != 0)
        #expect(update.stderr.contains("model versions are immutable"), "\(update.stderr)")
        let after = try r.version(.version(ranker, 1))
        #expect(after.artifactDigest == created.artifactDigest && after.createdAt == created.createdAt)
        #expect(try r.versions(name: ranker).count == 1)
    }
}

/// The registry failures the conformance suite expects, each told apart from the others and from an
/// unreachable registry (which also throws a RegistryError, exit 3): by exit status and by what it says.
enum ExpectedRegistryError: CustomStringConvertible {
    case noSuchVersion, invalidAlias, aliasToMissingVersion, artifactNotStored, artifactAltered

    var exitStatus: TandemCore.ExitStatus {
        switch self {
        case .noSuchVersion, .invalidAlias, .aliasToMissingVersion, .artifactNotStored: .badInput
        case .artifactAltered: .infrastructure
        }
    }

    /// What the error's message says, for both backends.
    var says: String {
        switch self {
        case .noSuchVersion: "no model version "
        case .invalidAlias: "cannot be an alias"
        case .aliasToMissingVersion: "an alias must point at an existing version"
        case .artifactNotStored: "store it first"
        case .artifactAltered: "does not match its digest"
        }
    }

    var description: String { "\(says) (exit \(exitStatus.rawValue))" }
}

func expectRegistryError<T>(
    _ expected: ExpectedRegistryError, sourceLocation: Testing.SourceLocation = #_sourceLocation, _ body: () throws -> T
) {
    do {
        _ = try body()
        Issue.record("expected a registry error: \(expected)", sourceLocation: sourceLocation)
    } catch let error as RegistryError {
        #expect(
            error.exitStatus == expected.exitStatus && error.description.contains(expected.says),
            "expected \(expected), got (exit \(error.exitStatus.rawValue)) \(error.description)", sourceLocation: sourceLocation)
        #expect(!error.description.contains("unreachable"), "\(error.description)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected a registry error: \(expected), got \(error)", sourceLocation: sourceLocation)
    }
}
