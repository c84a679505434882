import Foundation
import TandemHTTP
import TandemTestSupport
import Testing

@testable import TandemWebhooks

/// Messages of `streams` streams to `url`, signed with the secret in $S.
func messages(_ count: Int, streams: Int, url: String) -> [OutboxMessage] {
    (0..<count).map { i in
        OutboxMessage(
            stream: "p\(i % streams)/events", destination: "events", kind: "generic", eventType: "promotion.requested",
            url: url + "/p\(i % streams)", urlEnv: nil, secretEnv: "S", headers: ["Content-Type": "application/json"],
            body: "{\"n\":\(i),\"stream\":\(i % streams)}", createdAt: "t")
    }
}

@Suite("Outbox claims: flushers at the same time send each message once", .serialized)
struct ClaimTests {
    let folder = NSTemporaryDirectory() + "tandem-claims-\(UUID().uuidString)"

    func outbox() throws -> Outbox {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return try Outbox(root: folder)
    }

    @Test("a claimed message is not claimable by another flusher until its lease ends; only the holder records a failure")
    func lease() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let a = try outbox()
        let b = try Outbox(root: folder)
        try a.enqueue(messages(1, streams: 1, url: "http://127.0.0.1:1"))
        let now = Date().timeIntervalSince1970
        guard case .claimed(let entry) = try a.claim(owner: "a", lease: 5, now: now) else {
            Issue.record("a could not claim the due message")
            return
        }
        #expect(entry.delivery.claimedBy == "a")
        guard case .wait(let next, let inFlight) = try b.claim(owner: "b", lease: 5, now: now + 1) else {
            Issue.record("b claimed a message a holds")
            return
        }
        #expect(inFlight && next == now + 5)
        // a's lease ends: b claims it, and a (late) can no longer record a failure over b's claim.
        guard case .claimed = try b.claim(owner: "b", lease: 5, now: now + 6) else {
            Issue.record("b could not claim a message whose lease ended")
            return
        }
        let late = try a.record(
            id: entry.message.id, owner: "a", state: "pending", attempts: 1, nextAttemptAt: now, status: 500, error: "x",
            response: nil)
        #expect(!late)
        #expect(try b.list().first?.delivery.claimedBy == "b")
        // A delivery is recorded whoever made it (the message was sent), and ends the claim.
        #expect(
            try a.record(
                id: entry.message.id, owner: "a", state: "delivered", attempts: 1, nextAttemptAt: 0, status: 200, error: nil,
                response: nil))
        let stored = try #require(try b.list().first)
        #expect(stored.delivery.state == "delivered" && stored.delivery.claimedBy == nil && stored.delivery.claimedUntil == nil)
        #expect(
            !(try b.record(
                id: entry.message.id, owner: "b", state: "delivered", attempts: 2, nextAttemptAt: 0, status: 200, error: nil,
                response: nil)))
    }

    @Test("three deliverers on one outbox at the same time: every message reaches the receiver once, in order per stream")
    func concurrentDeliverers() async throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let receiver = try Receiver()
        defer { receiver.stop() }
        try outbox().enqueue(messages(18, streams: 6, url: receiver.base + "/slow"))
        let deliverers = try (0..<3).map { _ in
            Deliverer(outbox: try Outbox(root: folder), transport: CurlTransport(), environment: ["S": webhookSecret])
        }
        async let a = deliverers[0].flush(deadline: 60)
        async let b = deliverers[1].flush(deadline: 60)
        async let c = deliverers[2].flush(deadline: 60)
        let summaries = try await [a, b, c]
        #expect(summaries.map(\.delivered).reduce(0, +) == 18, "\(summaries)")
        #expect(summaries.allSatisfy { $0.pending == 0 })
        let requests = try receiver.requests()
        let ids = requests.compactMap { ($0["headers"] as? [String: String])?["webhook-id"] }
        #expect(ids.count == 18 && Set(ids).count == 18, "\(ids.count) requests for \(Set(ids).count) messages")
        for stream in 0..<6 {
            let order = requests.filter { ($0["path"] as? String) == "/slow/p\(stream)" }.compactMap {
                ($0["body"] as? String).flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Int] }?["n"]
            }
            #expect(order == order.sorted() && order.count == 3, "stream \(stream): \(order)")
        }
    }
}
