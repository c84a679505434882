public import Foundation

/// Where messages wait to be delivered, as the promotion engine uses it: enqueued in order, listed by state.
/// `Outbox` (SQLite) and `PostgresOutbox` are the real ones; TandemTesting has one in memory. All pass the outbox
/// conformance suite (Tests/TandemConformance).
public protocol MessageOutbox: Sendable {
    /// Stores messages, all or none, in order; every one is `pending` until delivered.
    func enqueue(_ messages: [OutboxMessage]) throws
    /// Messages by state (all when nil), oldest first, at most `limit`.
    func list(state: String?, limit: Int) throws -> [Outbox.Entry]
}

/// An outbox that deliverers share (`Deliverer`, `tandem notify flush`): flushers running at the same time, on one
/// machine or on several runners, claim one due message at a time with a lease, so each message is sent by one
/// flusher; a killed flusher's claim expires and the message is sent again with the same `webhook-id`.
/// `Outbox` (SQLite) and `PostgresOutbox` implement it and pass the claims conformance suite.
public protocol DeliveryQueue: MessageOutbox {
    /// Where it is, for messages (a file path, or a database URL without secrets).
    var location: String { get }
    /// Claims up to `limit` due messages that `eligible` accepts, for `owner`, for `lease` seconds, in one
    /// transaction: each the oldest pending message of its stream (streams stay in order), due, and not claimed
    /// under a lease that still holds.
    func claimBatch(owner: String, lease: Double, now: Double, limit: Int, eligible: (Outbox.Entry) -> Bool) throws
        -> Outbox.Batch
    /// Records attempts' outcomes in one transaction and ends their claims (see `Outbox.record`); for each, false
    /// when another flusher holds the message now, or it was delivered meanwhile.
    @discardableResult
    func record(_ outcomes: [Outbox.Outcome]) throws -> [Bool]
    /// Puts a dead (or pending) message back in the queue, due now; exit 2 when there is no undelivered one.
    func retry(id: String) throws
    /// Counts by state.
    func counts() throws -> [String: Int]
}

extension DeliveryQueue {
    /// Claims the next due message that `eligible` accepts (a batch of one).
    public func claim(
        owner: String, lease: Double, now: Double = Date().timeIntervalSince1970,
        eligible: (Outbox.Entry) -> Bool = { _ in true }
    ) throws -> Outbox.Claim {
        let batch = try claimBatch(owner: owner, lease: lease, now: now, limit: 1, eligible: eligible)
        if let first = batch.claimed.first { return .claimed(first) }
        return .wait(next: batch.next, inFlight: batch.inFlight)
    }

    /// Records one attempt's outcome and ends its claim; false when another flusher holds the message now, or it was
    /// delivered meanwhile.
    @discardableResult
    public func record(
        id: String, owner: String, state: String, attempts: Int, nextAttemptAt: Double, status: Int?, error: String?,
        response: String?
    ) throws -> Bool {
        try record([
            Outbox.Outcome(
                id: id, owner: owner, state: state, attempts: attempts, nextAttemptAt: nextAttemptAt, status: status,
                error: error, response: response)
        ]).first ?? false
    }
}

extension Outbox: DeliveryQueue {
    public var location: String { path }
}
