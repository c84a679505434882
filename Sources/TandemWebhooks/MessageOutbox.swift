import Foundation

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
    /// Claims the next due message that `eligible` accepts, for `owner`, for `lease` seconds: the oldest pending
    /// message of its stream (streams stay in order), due, and not claimed under a lease that still holds.
    func claim(owner: String, lease: Double, now: Double, eligible: (Outbox.Entry) -> Bool) throws -> Outbox.Claim
    /// Records an attempt's outcome and ends the claim (see `Outbox.record`); false when another flusher holds the
    /// message now, or it was delivered meanwhile.
    @discardableResult
    func record(
        id: String, owner: String, state: String, attempts: Int, nextAttemptAt: Double, status: Int?, error: String?,
        response: String?
    ) throws -> Bool
    /// Puts a dead (or pending) message back in the queue, due now; exit 2 when there is no undelivered one.
    func retry(id: String) throws
    /// Counts by state.
    func counts() throws -> [String: Int]
}

extension Outbox: DeliveryQueue {
    public var location: String { path }
}
