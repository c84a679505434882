import Foundation
import TandemHTTP
import TandemTestSupport
import Testing

@Suite("A hostile server's answer is bounded")
struct ResponseBoundTests {
    @Test("a 256 MiB answer fails the exchange at the request's bound, in bounded memory, naming the bound")
    func hugeAnswer() throws {
        let receiver = try Receiver()
        defer { receiver.stop() }
        let transport = CurlTransport()
        let request = HTTPRequest(
            method: .post, url: receiver.base + "/huge/x", body: Array("{}".utf8), timeout: 30, maxResponseBytes: 1 << 20)
        let (outcome, growth) = peakMemoryGrowth { () -> Result<HTTPResponse, HTTPError> in
            Result { () throws(HTTPError) in try transport.sendBlocking(request) }
        }
        switch outcome {
        case .success(let response):
            Issue.record("read an answer of \(response.body.count) bytes")
        case .failure(let error):
            #expect(error.description.contains("larger than 1 MiB"), "\(error.description)")
            #expect(!error.isTransient)
        }
        #expect(growth < 64 << 20, "grew by \(growth >> 20) MiB at its peak")
        // The default bound applies when a request names none.
        #expect(HTTPRequest(method: .get, url: receiver.base).maxResponseBytes == HTTPRequest.defaultMaxResponseBytes)
    }

    @Test("an answer within the bound is read whole")
    func withinBound() throws {
        let receiver = try Receiver()
        defer { receiver.stop() }
        let response = try CurlTransport().sendBlocking(
            HTTPRequest(method: .post, url: receiver.base + "/ok/x", body: Array("{}".utf8), maxResponseBytes: 2))
        #expect(response.status == 200)
        #expect(response.body == Array("ok".utf8))
    }
}
