public import TandemCore

/// An HTTP request, as the transport sends it.
public struct HTTPRequest: Sendable {
    public enum Method: String, Sendable { case get = "GET", post = "POST", put = "PUT", patch = "PATCH", delete = "DELETE" }

    public var method: Method
    public var url: String
    public var headers: [(String, String)]
    public var body: [UInt8]
    /// Seconds to establish the connection.
    public var connectTimeout: Double
    /// Seconds for the whole exchange.
    public var timeout: Double
    /// The most bytes of response body read; a larger answer fails the exchange (a hostile or broken server cannot
    /// make the process grow without bound).
    public var maxResponseBytes: Int

    /// What `maxResponseBytes` is unless a request says otherwise (16 MiB: webhook receivers and API answers).
    public static let defaultMaxResponseBytes = 16 << 20

    public init(
        method: Method, url: String, headers: [(String, String)] = [], body: [UInt8] = [], connectTimeout: Double = 5,
        timeout: Double = 15, maxResponseBytes: Int = HTTPRequest.defaultMaxResponseBytes
    ) {
        self.maxResponseBytes = maxResponseBytes
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.connectTimeout = connectTimeout
        self.timeout = timeout
    }
}

/// An HTTP response: status, headers (names lower-cased) and body.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [String: String]
    public var body: [UInt8]

    public init(status: Int, headers: [String: String] = [:], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public var text: String { String(decoding: body, as: UTF8.self) }

    /// The `Retry-After` delay in seconds, when the server sent one as a number of seconds.
    public var retryAfter: Double? { headers["retry-after"].flatMap { Double($0.trimmingASCIIWhitespace()) } }
}

/// A transport failure: the request got no HTTP answer (refused, reset, timed out, TLS failure…).
/// Its description never holds credentials.
public struct HTTPError: TandemError {
    public var description: String
    /// Whether trying again later may succeed.
    public var isTransient: Bool
    public var exitStatus: ExitStatus { .infrastructure }
    /// No HTTP answer came: the server is unreachable.
    public var code: Failure.Code { .unreachable }

    public init(_ description: String, isTransient: Bool) {
        self.description = description
        self.isTransient = isTransient
    }
}

/// Sends HTTP requests. Implementations: `CurlTransport` (libcurl) and `InMemoryTransport` (TandemTesting: routes to
/// answers, for tests); both pass the transport conformance suite (Tests/TandemConformance).
public protocol HTTPTransport: Sendable {
    /// Sends a request and returns the response, whatever its status.
    func send(_ request: HTTPRequest) async throws(HTTPError) -> HTTPResponse
}
