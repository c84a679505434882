import Foundation
import TandemCore
import TandemHTTP

/// A thin client of MLflow's REST API (`/api/2.0/mlflow/…` and the artifact proxy `/api/2.0/mlflow-artifacts/…`),
/// over libcurl. Errors name the endpoint and MLflow's own error code.
struct MLflowClient: Sendable {
    let base: String
    let transport: CurlTransport
    /// The variable holding a bearer token for servers behind authentication, if any.
    let token: String?

    init(base: String, token: String? = ProcessInfo.processInfo.environment["MLFLOW_TRACKING_TOKEN"]) {
        self.base = base.hasSuffix("/") ? String(base.dropLast()) : base
        self.transport = CurlTransport()
        self.token = token
    }

    /// MLflow's answer to a call, as JSON.
    func call(_ method: HTTPRequest.Method, _ path: String, query: [String: String] = [:], body: [String: Any]? = nil) throws
        -> [String: Any]
    {
        var url = base + "/api/2.0/mlflow/" + path
        if !query.isEmpty {
            url += "?" + query.sorted { $0.key < $1.key }.map { "\($0.key)=\(Self.encode($0.value))" }.joined(separator: "&")
        }
        var headers = [("Content-Type", "application/json")]
        if let token { headers.append(("Authorization", "Bearer \(token)")) }
        let bytes = try body.map { Array(try JSONSerialization.data(withJSONObject: $0)) } ?? []
        let response: HTTPResponse
        do {
            response = try transport.sendBlocking(
                HTTPRequest(method: method, url: url, headers: headers, body: bytes, connectTimeout: 5, timeout: 30))
        } catch {
            throw RegistryError(
                "the MLflow server at \(CurlTransport.host(of: base)) is unreachable: \(error.description)",
                exitStatus: .infrastructure)
        }
        let doc = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:]
        guard (200..<300).contains(response.status) else {
            let code = doc["error_code"] as? String ?? "HTTP \(response.status)"
            let message = doc["message"] as? String ?? ""
            if code == "RESOURCE_DOES_NOT_EXIST" || response.status == 404 {
                throw MLflowNotFound(message: "\(path): \(message)")
            }
            throw RegistryError(
                "MLflow \(path) failed: \(code) \(Redaction.redactSecrets(message, [token ?? ""]))",
                exitStatus: response.status >= 500 ? .infrastructure : .badInput)
        }
        return doc
    }

    /// Uploads bytes through the server's artifact proxy.
    func putArtifact(_ path: String, _ data: Data) throws {
        let url = base + "/api/2.0/mlflow-artifacts/artifacts/" + path
        var headers = [("Content-Type", "application/octet-stream")]
        if let token { headers.append(("Authorization", "Bearer \(token)")) }
        let response: HTTPResponse
        do {
            response = try transport.sendBlocking(
                HTTPRequest(method: .put, url: url, headers: headers, body: Array(data), timeout: 120))
        } catch {
            throw RegistryError(
                "the MLflow server at \(CurlTransport.host(of: base)) is unreachable: \(error.description)",
                exitStatus: .infrastructure)
        }
        guard (200..<300).contains(response.status) else {
            throw RegistryError(
                "uploading the artifact to MLflow failed (HTTP \(response.status)); is the server started with --serve-artifacts?",
                exitStatus: .infrastructure)
        }
    }

    /// Downloads bytes through the artifact proxy; nil when absent.
    func getArtifact(_ path: String) throws -> Data? {
        var headers: [(String, String)] = []
        if let token { headers.append(("Authorization", "Bearer \(token)")) }
        let response: HTTPResponse
        do {
            response = try transport.sendBlocking(
                HTTPRequest(
                    method: .get, url: base + "/api/2.0/mlflow-artifacts/artifacts/" + path, headers: headers, timeout: 120))
        } catch {
            throw RegistryError(
                "the MLflow server at \(CurlTransport.host(of: base)) is unreachable: \(error.description)",
                exitStatus: .infrastructure)
        }
        if response.status == 404 { return nil }
        guard (200..<300).contains(response.status) else {
            throw RegistryError(
                "downloading an artifact from MLflow failed (HTTP \(response.status))", exitStatus: .infrastructure)
        }
        return Data(response.body)
    }

    static func encode(_ value: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value
    }
}

/// MLflow answered RESOURCE_DOES_NOT_EXIST.
struct MLflowNotFound: Error {
    var message: String
}
