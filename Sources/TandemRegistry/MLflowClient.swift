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

    /// The variable a bearer token is read from.
    static let tokenVariable = "MLFLOW_TRACKING_TOKEN"

    init(base: String, token: String? = ProcessInfo.processInfo.environment[tokenVariable]) {
        self.base = base.hasSuffix("/") ? String(base.dropLast()) : base
        self.transport = CurlTransport()
        self.token = token
    }

    /// MLflow's answer to a call, as JSON.
    ///
    /// - Throws: `Failure` whose code is decided on the transport's outcome, the HTTP status and MLflow's
    ///   `error_code` field (parsed from the JSON body), never on the message text: see `failure(status:body:…)`.
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
        let response = try send(
            HTTPRequest(method: method, url: url, headers: headers, body: bytes, connectTimeout: 5, timeout: 30))
        guard (200..<300).contains(response.status) else {
            throw Self.failure(status: response.status, body: response.body, what: "MLflow \(path)", secrets: [token ?? ""])
        }
        return try Self.document(response.body, what: "MLflow \(path)")
    }

    /// Sends a request; a request that got no HTTP answer (refused, reset, timed out) is `.unreachable`.
    func send(_ request: HTTPRequest) throws(Failure) -> HTTPResponse {
        // A line break in the token would add header lines of its own: refused before anything is sent.
        if let token, let problem = HTTPSafety.valueProblem(token) {
            throw Failure(.invalidInput, UnsafeValueError(variable: Self.tokenVariable, problem: problem).description)
        }
        do {
            return try transport.sendBlocking(request)
        } catch {
            throw Failure(
                .unreachable, "the MLflow server at \(CurlTransport.host(of: base)) is unreachable: \(error.description)")
        }
    }

    /// The JSON object of a successful answer; an empty body is an empty object, anything else that is not a JSON
    /// object is `.failed` (a proxy's or a login page's HTML, say), never an empty answer.
    static func document(_ body: [UInt8], what: String) throws(Failure) -> [String: Any] {
        if body.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) { return [:] }
        guard let doc = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] else {
            throw Failure(.failed, "\(what) answered with something that is not MLflow's JSON (\(body.count) bytes)")
        }
        return doc
    }

    /// MLflow's `error_code` of an error answer (`{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": …}`), parsed.
    static func errorCode(_ body: [UInt8]) -> (code: String, message: String)? {
        guard let doc = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any],
            let code = doc["error_code"] as? String, !code.isEmpty
        else { return nil }
        return (code, doc["message"] as? String ?? "")
    }

    /// The registry error for an HTTP answer that is not a success, decided on MLflow's parsed `error_code` and the
    /// HTTP status:
    ///
    /// - `RESOURCE_DOES_NOT_EXIST` → `.notFound`; `RESOURCE_ALREADY_EXISTS` → `.conflict`;
    ///   `PERMISSION_DENIED`, `UNAUTHENTICATED`, or HTTP 401/403 → `.denied`;
    /// - HTTP 502, 503, 504 (a proxy whose MLflow is down) → `.unreachable`; any other 5xx → `.failed`;
    /// - another `error_code` on a 4xx (`INVALID_PARAMETER_VALUE`, `BAD_REQUEST`, …) → `.invalidInput`;
    /// - an answer without MLflow's error body (a 404 page for a wrong address or path) → `.unreachable`: the MLflow
    ///   API is not there, which is not the same as "there is no such model".
    static func failure(status: Int, body: [UInt8], what: String, secrets: [String] = []) -> Failure {
        let parsed = errorCode(body)
        let said = parsed.map { " \($0.code) \(Redaction.redactSecrets($0.message, secrets))" } ?? ""
        let description = "\(what) failed (HTTP \(status))\(said)"
        let code: Failure.Code
        switch (parsed?.code, status) {
        case ("RESOURCE_DOES_NOT_EXIST"?, _): code = .notFound
        case ("RESOURCE_ALREADY_EXISTS"?, _): code = .conflict
        case ("PERMISSION_DENIED"?, _), ("UNAUTHENTICATED"?, _), (_, 401), (_, 403): code = .denied
        case (_, 502), (_, 503), (_, 504): code = .unreachable
        case (_, 500...): code = .failed
        case (_?, _): code = .invalidInput
        case (nil, _):
            return Failure(
                .unreachable,
                "\(what): the server answered HTTP \(status) without MLflow's error body; is it an MLflow tracking "
                    + "server, and are the root's address and path right?", httpStatus: status)
        }
        return Failure(code, description, serverCode: parsed?.code, httpStatus: status)
    }

    /// Uploads bytes through the server's artifact proxy.
    func putArtifact(_ path: String, _ data: Data) throws {
        let url = base + "/api/2.0/mlflow-artifacts/artifacts/" + path
        var headers = [("Content-Type", "application/octet-stream")]
        if let token { headers.append(("Authorization", "Bearer \(token)")) }
        let response = try send(HTTPRequest(method: .put, url: url, headers: headers, body: Array(data), timeout: 120))
        guard (200..<300).contains(response.status) else {
            var error = Self.failure(
                status: response.status, body: response.body, what: "uploading the artifact to MLflow", secrets: [token ?? ""])
            if error.code == .notFound || error.code == .unreachable {
                error.description += "; is the server started with --serve-artifacts?"
            }
            throw error
        }
    }

    /// The largest artifact downloaded (4 GiB: a fine-tuned transformer is a few hundred MiB).
    static let maxArtifactBytes = 4 << 30

    /// Downloads bytes through the artifact proxy; nil when the server answers that the artifact does not exist
    /// (`RESOURCE_DOES_NOT_EXIST`).
    func getArtifact(_ path: String) throws -> Data? {
        var headers: [(String, String)] = []
        if let token { headers.append(("Authorization", "Bearer \(token)")) }
        let response = try send(
            HTTPRequest(
                method: .get, url: base + "/api/2.0/mlflow-artifacts/artifacts/" + path, headers: headers, timeout: 120,
                maxResponseBytes: Self.maxArtifactBytes))
        guard (200..<300).contains(response.status) else {
            var error = Self.failure(
                status: response.status, body: response.body, what: "downloading an artifact from MLflow",
                secrets: [token ?? ""])
            if error.code == .notFound { return nil }
            if error.code == .unreachable { error.description += "; is the server started with --serve-artifacts?" }
            throw error
        }
        return Data(response.body)
    }

    static func encode(_ value: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value
    }
}
