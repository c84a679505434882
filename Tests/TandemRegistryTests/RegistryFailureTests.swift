import Foundation
import TandemCore
import TandemStorage
import TandemTestSupport
import Testing

@testable import TandemRegistry

/// The code of the registry error `body` throws, or nil when it throws none (or another kind of error).
func registryCode<T>(_ body: () throws -> T) -> Failure.Code? {
    do {
        _ = try body()
        return nil
    } catch let e as Failure {
        return e.code
    } catch {
        return nil
    }
}

/// MLflow's answers, as a real MLflow 3 server and the proxies in front of one send them, and the registry codes
/// they become: decided on the parsed `error_code` and the HTTP status, never on the message.
@Suite("MLflow answers → registry codes")
struct MLflowAnswerTests {
    static let html404 = """
        <!doctype html>
        <html lang=en>
        <title>404 Not Found</title>
        <h1>Not Found</h1>
        <p>The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.</p>
        """

    @Test(
        "each answer maps to its code and exit status",
        arguments: [
            (
                404,
                #"{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "Registered Model with name=nomodel not found", "sqlstate": "KAM00", "error_class": "RESOURCE_NOT_FOUND"}"#,
                Failure.Code.notFound
            ),
            (
                404,
                #"{"error_code":"RESOURCE_DOES_NOT_EXIST","message":"No such artifact: 'tandem/sha256/nope'"}"#,
                .notFound
            ),
            (
                400,
                #"{"error_code": "RESOURCE_ALREADY_EXISTS", "message": "Registered Model (name=m1) already exists."}"#,
                .conflict
            ),
            (
                400,
                #"{"error_code": "INVALID_PARAMETER_VALUE", "message": "Registered model alias champion not found."}"#,
                .invalidInput
            ),
            // The text says "not found", the code does not: the code decides.
            (400, #"{"error_code": "BAD_REQUEST", "message": "resource not found"}"#, .invalidInput),
            (403, #"{"error_code": "PERMISSION_DENIED", "message": "no"}"#, .denied),
            (401, "", .denied),
            (500, #"{"error_code": "INTERNAL_ERROR", "message": "RESOURCE_DOES_NOT_EXIST in a traceback"}"#, .failed),
            (503, "<html>Service Unavailable</html>", .unreachable),
            (502, "", .unreachable),
            // A 404 without MLflow's error body: the MLflow API is not at that address, which is not "no such model".
            (404, html404, .unreachable),
            (404, "", .unreachable),
        ])
    func answer(_ status: Int, _ body: String, _ code: Failure.Code) {
        let error = MLflowClient.failure(status: status, body: Array(body.utf8), what: "MLflow registered-models/alias")
        #expect(error.code == code, "\(error)")
        #expect(error.exitStatus == code.exitStatus)
        #expect(error.httpStatus == status)
    }

    @Test("a successful answer that is not JSON is a failure, not an empty answer")
    func notJSON() throws {
        #expect(registryCode { try MLflowClient.document(Array("<html>login</html>".utf8), what: "x") } == .failed)
        #expect(try MLflowClient.document(Array("{}".utf8), what: "x").isEmpty)
        #expect(try MLflowClient.document([], what: "x").isEmpty)
    }

    @Test("unlessNotFound reads only 'not found' as absent")
    func unlessNotFound() throws {
        #expect(try Failure.unlessNotFound { () throws -> Int in throw Failure(.notFound, "no") } == nil)
        #expect(try Failure.unlessNotFound { 7 } == 7)
        for code in Failure.Code.allCases where code != .notFound {
            #expect(
                registryCode { try Failure.unlessNotFound { () throws -> Int in throw Failure(code, "x") } } == code)
        }
    }
}

/// The MLflow registry against a real server (and against addresses where none answers).
@Suite("MLflow registry failures", .serialized, .enabled(if: MLflowServer.enabled))
struct MLflowFailureTests {
    let tag = String(UUID().uuidString.prefix(8)).lowercased()

    func server() throws -> MLflowServer {
        guard let server = MLflowServer.shared else { throw Failure(.unreachable, "the MLflow server did not start") }
        return server
    }

    @Test("a connection refused is .unreachable (exit 3), never 'no champion'")
    func connectionRefused() throws {
        let r = MLflowModelRegistry(baseURL: "http://127.0.0.1:\(unusedLocalPort())")
        #expect(registryCode { try r.version(.alias("ranker-" + tag, "champion")) } == .unreachable)
        #expect(registryCode { try r.version(.version("ranker-" + tag, 1)) } == .unreachable)
        #expect(registryCode { try r.aliases(name: "ranker-" + tag) } == .unreachable)
        #expect(registryCode { try r.artifact(digest: String(repeating: "0", count: 64)) } == .unreachable)
        #expect(throws: Failure.self) { _ = try Failure.unlessNotFound { try r.version(.alias("m", "champion")) } }
    }

    @Test("RESOURCE_DOES_NOT_EXIST (404) is .notFound: no model, no version, no run")
    func notFound() throws {
        let r = MLflowModelRegistry(baseURL: try server().base)
        #expect(registryCode { try r.version(.alias("nomodel-" + tag, "champion")) } == .notFound)
        #expect(registryCode { try r.version(.version("nomodel-" + tag, 3)) } == .notFound)
        #expect(registryCode { try r.run(id: "norun" + tag) } == .notFound)
        #expect(try r.storeArtifact(Data(tag.utf8)).count == 64)
    }

    @Test("a missing alias of an existing model (MLflow's INVALID_PARAMETER_VALUE) is .notFound, by the model's aliases")
    func missingAlias() throws {
        let r = MLflowModelRegistry(baseURL: try server().base)
        let digest = try r.storeArtifact(Data("weights \(tag)".utf8))
        let v = try r.createVersion(
            ModelVersion(
                name: "ranker-" + tag, runID: nil, artifactDigest: digest, artifactSize: 8, signature: "{}", metrics: [:],
                featureTable: nil, dataDigest: nil, gitCommit: nil, gitBranch: nil, gitRemote: nil), actor: "a")
        #expect(registryCode { try r.version(.alias(v.name, "champion")) } == .notFound)
        try r.setAlias(name: v.name, alias: "champion", version: v.version, actor: "a")
        #expect(try r.version(.alias(v.name, "champion")).version == v.version)
        #expect(registryCode { try r.setAlias(name: v.name, alias: "champion", version: 9, actor: "a") } == .notFound)
        #expect(registryCode { try r.deleteAlias(name: v.name, alias: "nope", actor: "a") } == .notFound)
    }

    @Test("a server that answers 404 without MLflow's error body (a wrong path) is .unreachable, not 'not found'")
    func wrongPath() throws {
        let r = MLflowModelRegistry(baseURL: try server().base + "/not-mlflow")
        #expect(registryCode { try r.version(.alias("ranker-" + tag, "champion")) } == .unreachable)
        #expect(registryCode { try r.artifact(digest: String(repeating: "0", count: 64)) } == .unreachable)
    }
}

/// The SQLite registry of a `file://` root: a damaged registry is never opened as an empty one.
@Suite("SQLite registry failures", .serialized)
struct SQLiteFailureTests {
    let root = NSTemporaryDirectory() + "tandem-registry-failure-\(UUID().uuidString)"

    func registryWithChampion() throws -> SQLiteModelRegistry {
        try RootGuard.claim(path: root, environment: "prod", role: .registry, writer: .promotionEngine)
        let r = try SQLiteModelRegistry(root: root)
        let digest = try r.storeArtifact(Data("weights".utf8))
        let v = try r.createVersion(
            ModelVersion(
                name: "ranker", runID: nil, artifactDigest: digest, artifactSize: 7, signature: "{}", metrics: [:],
                featureTable: nil, dataDigest: nil, gitCommit: nil, gitBranch: nil, gitRemote: nil), actor: "a")
        try r.setAlias(name: "ranker", alias: "champion", version: v.version, actor: "a")
        return r
    }

    func sqlite(_ statement: String) throws {
        let run = try ChildProcess.run("sqlite3", [root + "/registry.sqlite", statement])
        #expect(run.termination.succeeded, "\(run.stderr)")
    }

    @Test("a root whose database is gone but whose artifacts remain is .tampered (exit 3), not a new empty registry")
    func missingDatabase() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        _ = try registryWithChampion()
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: root + "/registry.sqlite" + suffix) }
        #expect(registryCode { try SQLiteModelRegistry(root: root) } == .tampered)
        #expect(!FileManager.default.fileExists(atPath: root + "/registry.sqlite"))
    }

    @Test("a database file that is not SQLite is .tampered (exit 3)")
    func notADatabase() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        _ = try registryWithChampion()
        for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: root + "/registry.sqlite" + suffix) }
        try Data(repeating: 0x5A, count: 8192).write(to: URL(fileURLWithPath: root + "/registry.sqlite"))
        let error = #expect(throws: Failure.self) { try SQLiteModelRegistry(root: root) }
        #expect(error?.code == .tampered && error?.exitStatus == .infrastructure, "\(String(describing: error))")
    }

    @Test("a champion alias whose version is gone is .tampered, not 'no champion'")
    func danglingAlias() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        _ = try registryWithChampion()
        try sqlite("DELETE FROM model_versions")
        let r = try SQLiteModelRegistry(root: root)
        #expect(registryCode { try r.version(.alias("ranker", "champion")) } == .tampered)
        #expect(registryCode { try r.version(.alias("ranker", "previous")) } == .notFound)
        #expect(registryCode { try r.version(.version("ranker", 2)) } == .notFound)
    }

    @Test("SQLite failures on reads are registry errors by result code: a dropped table is .failed, exit 3")
    func sqliteErrors() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let r = try registryWithChampion()
        try sqlite("DROP TABLE aliases")
        #expect(registryCode { try r.version(.alias("ranker", "champion")) } == .failed)
        #expect(registryCode { try r.createRun(RunRecord(id: "r1", experiment: "e", name: "n", startedAt: "t")) } == nil)
        #expect(registryCode { try r.createRun(RunRecord(id: "r1", experiment: "e", name: "n", startedAt: "t")) } == .conflict)
    }

    @Test("a new root (nothing but its stamp) opens as an empty registry")
    func newRoot() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        try RootGuard.claim(path: root, environment: "prod", role: .registry, writer: .promotionEngine)
        let r = try SQLiteModelRegistry(root: root)
        #expect(registryCode { try r.version(.alias("ranker", "champion")) } == .notFound)
    }
}
