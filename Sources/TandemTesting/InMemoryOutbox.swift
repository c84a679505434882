import Foundation
public import TandemCore
public import TandemWebhooks

/// A `MessageOutbox` held in memory, with the semantics of `Outbox` as the engine uses it (the outbox conformance
/// suite runs against both): messages stored all or none, in order, `pending` until delivered; a message id stored
/// twice refuses the whole batch. With an `Outage` down, every operation fails (exit 3) and nothing changes.
public final class InMemoryOutbox: MessageOutbox, @unchecked Sendable {
    private let lock = NSLock()
    private let outage: Outage?
    private var entries: [Outbox.Entry] = []

    public init(outage: Outage? = nil) { self.outage = outage }

    private func locked<T>(_ body: () throws -> T) throws -> T {
        lock.lock()
        defer { lock.unlock() }
        if outage?.isDown == true { throw OutboxUnavailable() }
        return try body()
    }

    public func enqueue(_ messages: [OutboxMessage]) throws {
        try locked {
            var ids = Set(entries.map(\.message.id))
            for m in messages where !ids.insert(m.id).inserted { throw DuplicateMessage(id: m.id) }
            let now = Date().timeIntervalSince1970
            for m in messages {
                entries.append(
                    Outbox.Entry(
                        sequence: Int64(entries.count + 1), message: m,
                        delivery: DeliveryState(
                            state: "pending", attempts: 0, nextAttemptAt: now, lastStatus: nil, lastError: nil,
                            lastResponse: nil, deliveredAt: nil),
                        createdEpoch: now))
            }
        }
    }

    public func list(state: String? = nil, limit: Int = 1000) throws -> [Outbox.Entry] {
        try locked { Array(entries.filter { state == nil || $0.delivery.state == state }.prefix(max(0, limit))) }
    }

    /// Every message enqueued so far, oldest first.
    public var messages: [OutboxMessage] {
        lock.lock()
        defer { lock.unlock() }
        return entries.map(\.message)
    }

    /// A batch that holds a message id the outbox has already (exit 3, as the SQLite outbox's constraint).
    public struct DuplicateMessage: TandemError {
        public var id: String
        public var description: String { "the outbox holds a message '\(id)' already; nothing of the batch was stored" }
        public var exitStatus: ExitStatus { .infrastructure }
    }

    /// The outbox cannot be reached (an outage).
    public struct OutboxUnavailable: TandemError {
        public var description: String { "the in-memory outbox is unreachable (an outage was started)" }
        public var exitStatus: ExitStatus { .infrastructure }
    }
}
