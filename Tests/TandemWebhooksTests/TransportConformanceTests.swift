import Foundation
import TandemConformance
import TandemHTTP
import TandemTestSupport
import TandemTesting
import Testing

/// The transports every HTTP check runs against: libcurl against the Python receiver of Tests/Reference (a real
/// server on 127.0.0.1), and the in-memory transport against its model of that receiver.
enum Transport: String, CaseIterable, Sendable {
    case curl, memory

    /// The conformance suite's factory: a new receiver (stopped when the test process ends or the check's receiver
    /// is released) or a new in-memory model.
    var conformance: TransportConformance {
        switch self {
        case .curl:
            return TransportConformance {
                let receiver = try Receiver()
                return TransportUnderTest(
                    transport: CurlTransport(), base: receiver.base, refused: "http://127.0.0.1:\(unusedLocalPort())/ok/x"
                ) {
                    try receiver.requests().map { entry in
                        ReceivedRequest(
                            method: entry["method"] as? String ?? "", path: entry["path"] as? String ?? "",
                            headers: entry["headers"] as? [String: String] ?? [:], body: entry["body"] as? String ?? "")
                    }
                }
            }
        case .memory:
            return TransportConformance { ReceiverModel().underTest }
        }
    }
}

@Suite("HTTP transport conformance")
struct TransportConformanceTests {
    @Test("every transport passes the conformance checks", arguments: Transport.allCases, TransportCheck.allCases)
    func conforms(_ transport: Transport, _ check: TransportCheck) async throws {
        try await transport.conformance.run(check)
    }

    @Test("the in-memory transport answers from the longest matching route and records what it delivered")
    func routes() async throws {
        let t = InMemoryTransport()
        t.route("http://hooks.test/", status: 200, body: "any")
        t.route("http://hooks.test/ci/", status: 201, headers: ["X-Seen": "yes"])
        let ci = try await t.send(HTTPRequest(method: .post, url: "http://hooks.test/ci/statuses/1"))
        #expect(ci.status == 201 && ci.headers == ["x-seen": "yes"])
        #expect(try await t.send(HTTPRequest(method: .post, url: "http://hooks.test/other")).text == "any")
        #expect(t.requests.map(\.url) == ["http://hooks.test/ci/statuses/1", "http://hooks.test/other"])
    }
}
