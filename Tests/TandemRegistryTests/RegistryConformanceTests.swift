import Foundation
import TandemConformance
import TandemCore
import TandemStorage
import TandemTestSupport
import TandemTesting
import Testing

@testable import TandemRegistry

/// The backends every `ModelRegistry` check runs against: the embedded SQLite registry, an MLflow tracking server
/// (a real one, started on 127.0.0.1) and the in-memory registry of TandemTesting.
enum Backend: String, CaseIterable, Sendable {
    case sqlite, mlflow, memory
}

/// Backends to run: SQLite and in-memory always; MLflow where it is installed (or required by TANDEM_REQUIRE_MLFLOW=1).
let backends: [Backend] = MLflowServer.enabled ? [.sqlite, .mlflow, .memory] : [.sqlite, .memory]

extension Backend {
    /// The MLflow server the conformance checks run against: one of their own, started on first use, because other
    /// suites write the shared one at the same time and the MLflow registry's audit appends are not atomic (two writers
    /// at once fork the chain, which the `audit` and `appendAudit` checks would report).
    static let conformanceServer: MLflowServer? = try? MLflowServer()

    /// The conformance suite's factory for this backend: a new SQLite root under `folder`, the shared MLflow server,
    /// or a new in-memory registry.
    func conformance(folder: String) -> RegistryConformance {
        switch self {
        case .sqlite:
            return RegistryConformance {
                let root = folder + "/" + UUID().uuidString
                try RootGuard.claim(path: root, environment: "test", role: .registry, writer: .stage("test"))
                return RegistryUnderTest(registry: try SQLiteModelRegistry(root: root)) { digest, bytes in
                    try bytes.write(to: URL(fileURLWithPath: root + "/artifacts/sha256/\(digest.prefix(2))/\(digest)"))
                }
            }
        case .mlflow:
            return RegistryConformance {
                guard let server = Self.conformanceServer else { throw Failure(.invalidInput, "the MLflow server did not start") }
                return RegistryUnderTest(registry: MLflowModelRegistry(baseURL: server.base)) { digest, bytes in
                    let path = server.artifacts + "/tandem/models/sha256/\(digest)/model.tandem"
                    guard FileManager.default.fileExists(atPath: path) else {
                        throw Failure(.invalidInput, "no artifact at \(path)")
                    }
                    try bytes.write(to: URL(fileURLWithPath: path))
                }
            }
        case .memory:
            return RegistryConformance {
                let registry = InMemoryModelRegistry()
                return RegistryUnderTest(registry: registry) { digest, bytes in
                    registry.overwriteArtifact(digest: digest, with: bytes)
                }
            }
        }
    }
}

/// The registry conformance suite (Tests/TandemConformance) against every backend, one test per check, and the
/// SQLite registry's own guarantees. Serialized: the MLflow registry's audit appends are not atomic, so checks writing
/// the same server at the same time would break its chain.
@Suite("Registry conformance", .serialized)
struct RegistryConformanceTests {
    let root = NSTemporaryDirectory() + "tandem-registry-\(UUID().uuidString)"
    /// Names unique to one test, so tests sharing an MLflow server do not see each other's models.
    let tag = String(UUID().uuidString.prefix(8)).lowercased()

    @Test("every registry passes the conformance checks", arguments: backends, RegistryCheck.allCases)
    func conforms(_ backend: Backend, _ check: RegistryCheck) throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        try backend.conformance(folder: root).run(check)
    }

    func registry(_ backend: Backend = .sqlite) throws -> any ModelRegistry {
        switch backend {
        case .sqlite:
            try RootGuard.claim(path: root, environment: "test", role: .registry, writer: .stage("test"))
            return try SQLiteModelRegistry(root: root)
        case .mlflow:
            guard let server = MLflowServer.shared else { throw Failure(.invalidInput, "the MLflow server did not start") }
            return MLflowModelRegistry(baseURL: server.base)
        case .memory:
            return InMemoryModelRegistry()
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
