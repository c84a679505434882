import Foundation
import TandemHTTP
import TandemProfiles
public import TandemPromotion
import TandemWebhooks

extension PromotionEngine {
    /// Establishes who is acting (in CI the CI system's record of the reviewer, `ApproverIdentity`; else
    /// TANDEM_ACTOR or the OS user) and records it on the engine; returns it.
    @discardableResult
    public func establishIdentity(approving: Bool) async throws -> ApproverIdentity.Resolved {
        let who = try await ApproverIdentity.resolve(target: context.target, approving: approving)
        context.actor = who.name
        context.actorIdentity = who.source
        return who
    }

    /// Delivers what the step enqueued, for at most TANDEM_FLUSH_SECONDS (5 by default), so CI sees statuses
    /// promptly; returns how many messages are still pending (nil when the engine has no outbox).
    public func flushOutbox() async -> Int? {
        guard let outbox = context.outbox else { return nil }
        let seconds = ProcessInfo.processInfo.environment["TANDEM_FLUSH_SECONDS"].flatMap(Double.init) ?? 5
        let deliverer = Deliverer(
            outbox: outbox, transport: CurlTransport(), secretVariables: context.target.secretVariables.map(\.variable))
        return (try? await deliverer.flush(deadline: seconds))?.pending
    }
}
