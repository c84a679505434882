import Foundation
import TandemCore
import TandemGit
import TandemHTTP
import TandemProfiles
public import TandemWebhooks

extension StageContext {
    /// Sends a `tandem.test` event to every reporter and notifier of the profile, once each (no retry), through
    /// the outbox like every message, and returns what became of each; empty when none is configured.
    public func sendTestEvent() async throws -> [Outbox.Entry] {
        try refuseUnsafeVariables()
        let outbox = try openOutbox()
        let git = GitInfo.current(at: repositoryRoot)
        let id = "test-" + UUID().uuidString.lowercased().prefix(8)
        let event = WebhookEvent(
            type: "tandem.test", promotionID: String(id), environment: profile.name, state: "test",
            commit: git?.commit ?? String(repeating: "0", count: 40), branch: git?.branch ?? "-", model: "tandem",
            modelVersion: nil, reportDigest: nil, summary: "a test event from tandem notify test", link: nil,
            time: Timestamp.now())
        let messages = MessageFactory.messages(for: event, profile: profile, now: Timestamp.nowMillis())
        guard !messages.isEmpty else { return [] }
        try outbox.enqueue(messages)
        var policy = RetryPolicy.fromEnvironment()
        policy.maxAttempts = 1
        let deliverer = Deliverer(
            outbox: outbox, transport: CurlTransport(), policy: policy, secretVariables: profile.secretVariables.map(\.variable))
        _ = try await deliverer.flush(deadline: 15)
        let ids = Set(messages.map(\.id))
        return try outbox.list(state: nil, limit: 10_000).filter { ids.contains($0.message.id) }
    }
}
