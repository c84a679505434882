import Foundation
public import TandemHTTP
public import Testing

/// A request as the server at the other end received it.
public struct ReceivedRequest: Sendable, Equatable {
    public var method: String
    public var path: String
    /// Header names lower-cased.
    public var headers: [String: String]
    public var body: String

    public init(method: String, path: String, headers: [String: String], body: String) {
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body
    }
}

/// A transport for one check of the conformance suite, and the server it talks to.
public struct TransportUnderTest: Sendable {
    public var transport: any HTTPTransport
    /// The base URL of a server that answers as Tests/Reference/webhook_receiver.py documents for `/ok/…` (200 "ok"),
    /// `/reject/…` (400 with a JSON body), `/fail500/…` (500), `/throttle/…` (429 with `Retry-After: 1` for the first
    /// two requests of a `webhook-id`), `/reset/…` (the connection closed without an answer), `/hang/…` (no answer
    /// for 30 s) and `/huge/…` (200 with a body of 256 MiB).
    public var base: String
    /// A URL where nothing answers.
    public var refused: String
    /// What the server has received so far, oldest first.
    public var received: @Sendable () throws -> [ReceivedRequest]

    public init(
        transport: any HTTPTransport, base: String, refused: String, received: @escaping @Sendable () throws -> [ReceivedRequest]
    ) {
        self.transport = transport
        self.base = base
        self.refused = refused
        self.received = received
    }
}

/// The checks every `HTTPTransport` passes.
public enum TransportCheck: String, CaseIterable, Sendable, CustomStringConvertible {
    case statuses, requestAsSent, retryAfter, noAnswer, timeout, unsafeRequest, responseBound

    public var description: String { rawValue }
}

/// The HTTP transport conformance suite, written once: `make` gives a transport and its server, `run` runs a check.
public struct TransportConformance: Sendable {
    public let make: @Sendable () throws -> TransportUnderTest

    public init(make: @escaping @Sendable () throws -> TransportUnderTest) { self.make = make }

    /// Runs every check.
    public func runAll() async throws { for check in TransportCheck.allCases { try await run(check) } }

    /// Runs one check against a transport and server of its own.
    public func run(_ check: TransportCheck) async throws {
        let s = try make()
        let tag = UUID().uuidString.prefix(8).lowercased()
        func post(_ path: String, headers: [(String, String)] = [], body: String = "{}", timeout: Double = 15) async throws
            -> HTTPResponse
        {
            try await s.transport.send(
                HTTPRequest(method: .post, url: s.base + path, headers: headers, body: Array(body.utf8), timeout: timeout))
        }
        switch check {
        case .statuses:
            let ok = try await post("/ok/\(tag)")
            #expect(ok.status == 200 && ok.text == "ok")
            let rejected = try await post("/reject/\(tag)")
            #expect(rejected.status == 400 && rejected.text == #"{"message": "bad request"}"#)
            #expect(try await post("/fail500/\(tag)").status == 500)
            let put = try await s.transport.send(HTTPRequest(method: .put, url: s.base + "/ok/put-\(tag)", body: Array("x".utf8)))
            #expect(put.status == 200)
            #expect(try s.received().map(\.method) == ["POST", "POST", "POST", "PUT"])

        case .requestAsSent:
            let body = #"{"text": "promoted é ✓ \#(tag)"}"#
            let response = try await post(
                "/ok/sent/\(tag)?x=1", headers: [("X-Tandem-Check", "value \(tag)"), ("Content-Type", "application/json")],
                body: body)
            #expect(response.status == 200)
            let got = try #require(try s.received().last)
            #expect(got.method == "POST" && got.path == "/ok/sent/\(tag)?x=1")
            #expect(got.headers["x-tandem-check"] == "value \(tag)" && got.headers["content-type"] == "application/json")
            #expect(got.body == body)

        case .retryAfter:
            let id = [("webhook-id", "msg_\(tag)")]
            let first = try await post("/throttle/\(tag)", headers: id)
            #expect(first.status == 429 && first.headers["retry-after"] == "1" && first.retryAfter == 1)
            #expect(first.headers.keys.allSatisfy { $0 == $0.lowercased() }, "\(first.headers.keys)")
            #expect(try await post("/throttle/\(tag)", headers: id).status == 429)
            let third = try await post("/throttle/\(tag)", headers: id)
            #expect(third.status == 200 && third.retryAfter == nil)

        case .noAnswer:
            await expectHTTPError(transient: true) {
                try await s.transport.send(HTTPRequest(method: .post, url: s.refused, connectTimeout: 2, timeout: 5))
            }
            await expectHTTPError(transient: true) { try await post("/reset/\(tag)") }
            #expect(try s.received().map(\.path) == ["/reset/\(tag)"], "the refused request reached nobody")

        case .timeout:
            // The receiver answers /hang with a 200 after 30 s: a transient error that says the timeout was reached is
            // the timeout at work. (Not a wall-clock bound: on a loaded machine the request can wait for a thread
            // longer than the timeout itself.)
            do {
                let response = try await post("/hang/\(tag)", timeout: 0.5)
                Issue.record("expected a timeout, got status \(response.status) (the receiver's answer after 30 s)")
            } catch let error as HTTPError {
                #expect(error.isTransient, "\(error.description)")
                #expect(error.description.contains("Timeout was reached"), "\(error.description)")
            } catch {
                Issue.record("expected an HTTPError, got \(error)")
            }

        case .unsafeRequest:
            await expectHTTPError(transient: false) { try await post("/ok/\(tag)", headers: [("X-Bad", "a\r\nX-Injected: 1")]) }
            await expectHTTPError(transient: false) {
                try await s.transport.send(HTTPRequest(method: .post, url: s.base + "/ok/\(tag)\r\nX-Injected: 1"))
            }
            #expect(try s.received().isEmpty, "an unsafe request is refused before anything is sent")

        case .responseBound:
            await expectHTTPError(transient: false) {
                try await s.transport.send(
                    HTTPRequest(method: .post, url: s.base + "/huge/\(tag)", timeout: 30, maxResponseBytes: 1 << 20))
            }
            #expect(try await post("/ok/\(tag)").status == 200, "the transport still works after refusing an answer")
        }
    }
}

/// Expects `body` to fail with an `HTTPError` whose `isTransient` is `transient`.
public func expectHTTPError(
    transient: Bool, sourceLocation: Testing.SourceLocation = #_sourceLocation, _ body: () async throws -> HTTPResponse
) async {
    do {
        let response = try await body()
        Issue.record("expected an HTTP error, got status \(response.status)", sourceLocation: sourceLocation)
    } catch let error as HTTPError {
        #expect(error.isTransient == transient, "\(error.description)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected an HTTPError, got \(error)", sourceLocation: sourceLocation)
    }
}
