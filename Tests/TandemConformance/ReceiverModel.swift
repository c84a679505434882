import Foundation
import TandemHTTP
public import TandemTesting

/// The behaviour of Tests/Reference/webhook_receiver.py for the paths the transport suite uses, as routes of an
/// `InMemoryTransport`: what the in-memory transport is checked against, as `CurlTransport` is against the receiver.
public final class ReceiverModel: @unchecked Sendable {
    public let transport = InMemoryTransport()
    public let base: String
    private let lock = NSLock()
    private var seen: [String: Int] = [:]

    public init(base: String = "http://receiver.test") {
        self.base = base
        // The route holds the model (and the model the transport) for as long as the transport is in use.
        transport.route(base + "/") { request in self.answer(request) }
    }

    /// A `TransportUnderTest` for the conformance suite: this model, a URL no route serves, and what was delivered.
    public var underTest: TransportUnderTest {
        let transport = transport
        let base = base
        return TransportUnderTest(transport: transport, base: base, refused: "http://nothing.test/ok/") {
            transport.requests.map { request in
                ReceivedRequest(
                    method: request.method.rawValue, path: String(request.url.dropFirst(base.count)),
                    headers: Dictionary(request.headers.map { ($0.0.lowercased(), $0.1) }, uniquingKeysWith: { _, b in b }),
                    body: String(decoding: request.body, as: UTF8.self))
            }
        }
    }

    func count(_ key: String) -> Int {
        lock.lock()
        defer { lock.unlock() }
        seen[key, default: 0] += 1
        return seen[key] ?? 0
    }

    func answer(_ request: HTTPRequest) -> Result<HTTPResponse, HTTPError> {
        let path = request.url.dropFirst(base.count)
        let mode = path.split(separator: "/").first.map(String.init) ?? ""
        let id = request.headers.first { $0.0.lowercased() == "webhook-id" }?.1 ?? String(path)
        func answer(_ status: Int, _ text: String = "", _ headers: [String: String] = [:]) -> Result<HTTPResponse, HTTPError> {
            .success(HTTPResponse(status: status, headers: headers, body: Array(text.utf8)))
        }
        switch mode {
        case "reject": return answer(400, #"{"message": "bad request"}"#)
        case "fail500": return answer(500, "boom token=")
        case "throttle":
            return count("throttle " + id) <= 2 ? answer(429, "", ["Retry-After": "1"]) : answer(200)
        case "flaky": return count("flaky " + id) == 1 ? answer(503) : answer(200)
        case "reset":
            return .failure(HTTPError("POST \(base): Failure when receiving data from the peer", isTransient: true))
        case "huge": return .success(HTTPResponse(status: 200, body: [UInt8](repeating: 0x78, count: 4 << 20)))
        case "hang":
            guard request.timeout < 30 else { return answer(200) }
            return .failure(HTTPError("POST \(base): Timeout was reached", isTransient: true))
        default: return answer(200, "ok")
        }
    }
}
