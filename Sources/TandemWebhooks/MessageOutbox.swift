import Foundation

/// Where messages wait to be delivered, as the promotion engine uses it: enqueued in order, listed by state.
/// `Outbox` is the real one (SQLite, with the claims its deliverers share); TandemTesting has one in memory. Both pass
/// the outbox conformance suite (Tests/TandemConformance).
public protocol MessageOutbox: Sendable {
    /// Stores messages, all or none, in order; every one is `pending` until delivered.
    func enqueue(_ messages: [OutboxMessage]) throws
    /// Messages by state (all when nil), oldest first, at most `limit`.
    func list(state: String?, limit: Int) throws -> [Outbox.Entry]
}

extension Outbox: MessageOutbox {}
