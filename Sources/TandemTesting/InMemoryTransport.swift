import Foundation
public import TandemHTTP

/// An `HTTPTransport` that answers from routes held in memory and records every request it delivers, with the
/// contract of `CurlTransport` (the transport conformance suite runs against both): a request that holds a line
/// break in a header or its URL is refused before anything is sent (non-transient `HTTPError`, nothing recorded);
/// a URL no route serves fails as a connection refused does (transient, nothing recorded); an answer larger than the
/// request's `maxResponseBytes` fails (non-transient); any other answer comes back whatever its status, with header
/// names lower-cased.
///
/// A route serves every URL that starts with its prefix (`http://hooks.test/ok/`); the longest prefix wins. Its
/// handler answers, or fails as a network does (a reset, a timeout: `HTTPError`), and sees the request as sent.
public final class InMemoryTransport: HTTPTransport, @unchecked Sendable {
    /// What a route does with a request it serves.
    public typealias Handler = @Sendable (HTTPRequest) -> Result<HTTPResponse, HTTPError>

    private let lock = NSLock()
    private var routes: [(prefix: String, handler: Handler)] = []
    private var delivered: [HTTPRequest] = []

    public init() {}

    /// Serves URLs that start with `prefix` with `handler` (replacing a route of the same prefix).
    public func route(_ prefix: String, _ handler: @escaping Handler) {
        lock.lock()
        routes.removeAll { $0.prefix == prefix }
        routes.append((prefix, handler))
        routes.sort { $0.prefix.count > $1.prefix.count }
        lock.unlock()
    }

    /// Serves URLs that start with `prefix` with one fixed answer.
    public func route(_ prefix: String, status: Int, headers: [String: String] = [:], body: String = "") {
        let response = HTTPResponse(status: status, headers: headers, body: Array(body.utf8))
        route(prefix) { _ in .success(response) }
    }

    /// Every request delivered to a route so far, in the order sent.
    public var requests: [HTTPRequest] {
        lock.lock()
        defer { lock.unlock() }
        return delivered
    }

    public func send(_ request: HTTPRequest) async throws(HTTPError) -> HTTPResponse {
        try sendBlocking(request)
    }

    /// Sends a request on the calling thread (as `CurlTransport.sendBlocking`).
    public func sendBlocking(_ request: HTTPRequest) throws(HTTPError) -> HTTPResponse {
        let host = CurlTransport.host(of: request.url)
        if let problem = HTTPSafety.problem(of: request) {
            throw HTTPError("refused to send \(request.method.rawValue) \(host): \(problem)", isTransient: false)
        }
        lock.lock()
        let handler = routes.first { request.url.hasPrefix($0.prefix) }?.handler
        if handler != nil { delivered.append(request) }
        lock.unlock()
        guard let handler else {
            throw HTTPError("\(request.method.rawValue) \(host): Couldn't connect to server", isTransient: true)
        }
        var response = try handler(request).get()
        guard response.body.count <= request.maxResponseBytes else {
            throw HTTPError(
                "\(request.method.rawValue) \(host): the response is larger than \(request.maxResponseBytes >> 20) MiB, so it "
                    + "was not read", isTransient: false)
        }
        response.headers = Dictionary(
            response.headers.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { _, last in last })
        return response
    }
}
