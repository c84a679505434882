import Foundation
import TandemCore
import TandemHTTP
import TandemProfiles
import TandemTestSupport
import Testing

@testable import TandemWebhooks

@Suite("Header injection: values from variables are checked before anything is sent", .serialized)
struct HeaderInjectionTests {
    @Test(
        "a token, a signing secret or a URL variable holding a line break or a control character sends nothing and names the variable",
        arguments: [
            ("GITHUB_TOKEN", githubToken + "\r\nX-Injected: yes"), ("GITHUB_TOKEN", githubToken + "\n"),
            ("GITHUB_TOKEN", githubToken + "\u{0}"), ("S", webhookSecret + "\r\nX-Injected: yes"),
            ("HOOK_URL", "http://127.0.0.1:1/ok/x\r\nX-Injected: yes"),
        ])
    func refused(_ variable: String, _ value: String) async throws {
        let receiver = try Receiver(environment: ["GITHUB_TOKEN": githubToken])
        defer { receiver.stop() }
        var environment = ["GITHUB_TOKEN": githubToken, "S": webhookSecret, "HOOK_URL": receiver.base + "/ok/x"]
        environment[variable] = value
        let h = try Harness(environment: environment, secretVariables: ["GITHUB_TOKEN", "S", "HOOK_URL"])
        defer { h.remove() }
        let p = try profile(
            reporter: .init(kind: .github, api: receiver.base + "/github", repository: "acme/ranker", tokenEnv: "GITHUB_TOKEN"),
            notifiers: [
                NotifierSettings(name: "hook", kind: .generic, url: nil, urlEnv: "HOOK_URL", secretEnv: "S", events: ["*"])
            ])
        try h.outbox.enqueue(MessageFactory.messages(for: event("promotion.requested"), profile: p, now: "t"))
        // The refused stream is blocked for the rest of the flush, which then ends: the deadline is only a bound.
        _ = try await h.deliverer.flush(deadline: 60)
        let requests = try receiver.requests()
        // The other destination (whose variables are fine) is delivered; the refused one sent nothing at all.
        #expect(requests.count == 1, "\(requests.map { $0["path"] ?? "" })")
        #expect(requests.allSatisfy { ($0["headers"] as? [String: String])?["x-injected"] == nil })
        let refused = try h.outbox.list().filter { $0.delivery.state != "delivered" }
        #expect(refused.count == 1)
        let error = refused.first?.delivery.lastError ?? ""
        #expect(error.hasPrefix("$\(variable) holds "), "\(error)")
        #expect(error.contains("nothing was sent"))
        #expect(!error.contains(githubToken) && !error.contains("X-Injected") && !error.contains(webhookSecret))
    }

    @Test("the transport itself refuses a header line break or a bad URL, before libcurl sends anything")
    func transport() async throws {
        let receiver = try Receiver()
        defer { receiver.stop() }
        for request in [
            HTTPRequest(method: .post, url: receiver.base + "/ok/x", headers: [("Authorization", "Bearer a\r\nX-Injected: yes")]),
            HTTPRequest(method: .post, url: receiver.base + "/ok/x", headers: [("X-Bad\nName", "v")]),
            HTTPRequest(method: .post, url: receiver.base + "/ok/x\r\nX-Injected: yes"),
            HTTPRequest(method: .post, url: "file:///etc/passwd"),
        ] {
            do {
                _ = try await CurlTransport().send(request)
                Issue.record("sent \(request.url)")
            } catch {
                #expect(!error.isTransient && error.description.hasPrefix("refused to send POST"), "\(error.description)")
                #expect(!error.description.contains("Bearer a"))
            }
        }
        #expect(try receiver.requests().isEmpty)
        // A well-formed request still goes.
        #expect(try await CurlTransport().send(HTTPRequest(method: .post, url: receiver.base + "/ok/x")).status == 200)
    }

    @Test("what HTTPSafety accepts and refuses")
    func table() {
        #expect(HTTPSafety.valueProblem("Bearer ghp_abc123") == nil)
        #expect(HTTPSafety.valueProblem("café ✓") == nil)
        #expect(HTTPSafety.valueProblem("a\rb")?.contains("line break") == true)
        #expect(HTTPSafety.valueProblem("a\tb") == "holds the control character U+0009")
        #expect(HTTPSafety.valueProblem("a\u{7F}") == "holds the control character U+007F")
        #expect(HTTPSafety.nameProblem("webhook-signature") == nil)
        #expect(HTTPSafety.nameProblem("Bad Name") != nil && HTTPSafety.nameProblem("") != nil)
        #expect(HTTPSafety.urlProblem("https://hooks.slack.com/services/T/B/X") == nil)
        #expect(HTTPSafety.urlProblem("https://x/a b") != nil && HTTPSafety.urlProblem("ftp://x") != nil)
        let error = UnsafeValueError(variable: "GITHUB_TOKEN", problem: "holds a line break (CR or LF)")
        #expect(error.exitStatus == .badInput && error.description.hasPrefix("$GITHUB_TOKEN holds a line break"))
    }
}
