import Foundation
import GRDB
import TandemCore
public import TandemStorage

/// The durable outbox of an environment (`outbox.sqlite` in its registry root): every message is stored
/// before any attempt to send it, so nothing is lost when a receiver is down or Tandem crashes.
///
/// Flushers that run at the same time (several `tandem notify flush`, a promotion's own flush) share the work
/// through claims: a flusher takes one due message at a time with a lease (`claim`), in an IMMEDIATE
/// transaction, so no two live flushers send the same message; its `record` ends the claim. A killed flusher's
/// claim expires with its lease and the next flusher sends the message again, with the same `webhook-id`.
public final class Outbox: @unchecked Sendable {
    let queue: DatabaseQueue
    public let path: String

    public init(root: String) throws(StoreError) {
        path = (root as NSString).appendingPathComponent("outbox.sqlite")
        queue = try SQLiteDatabase.open(
            path: path,
            migrations: [
                (
                    "v1",
                    { db in
                        try db.execute(
                            sql: """
                                CREATE TABLE messages(
                                    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, stream TEXT NOT NULL,
                                    message TEXT NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL,
                                    next_attempt_at REAL NOT NULL, created_epoch REAL NOT NULL, last_status INTEGER,
                                    last_error TEXT, last_response TEXT, delivered_at TEXT);
                                CREATE INDEX messages_pending ON messages(state, stream, seq);
                                """)
                    }
                ),
                (
                    "v2-claims",
                    { db in
                        // Who is sending a message, and until when the claim holds (epoch seconds; 0: unclaimed).
                        try db.execute(
                            sql: """
                                ALTER TABLE messages ADD COLUMN claimed_by TEXT;
                                ALTER TABLE messages ADD COLUMN claimed_until REAL NOT NULL DEFAULT 0;
                                """)
                    }
                ),
            ])
    }

    /// Stores messages (in one transaction, in order).
    public func enqueue(_ messages: [OutboxMessage]) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let now = Date().timeIntervalSince1970
        try queue.write { db in
            for m in messages {
                try db.execute(
                    sql: """
                        INSERT INTO messages(id, stream, message, state, attempts, next_attempt_at, created_epoch)
                        VALUES (?, ?, ?, 'pending', 0, ?, ?)
                        """,
                    arguments: [m.id, m.stream, String(decoding: try encoder.encode(m), as: UTF8.self), now, now])
            }
        }
    }

    /// A stored message with its delivery state.
    public struct Entry: Sendable, Codable {
        public var sequence: Int64
        public var message: OutboxMessage
        public var delivery: DeliveryState
        public var createdEpoch: Double

        public init(sequence: Int64, message: OutboxMessage, delivery: DeliveryState, createdEpoch: Double) {
            self.sequence = sequence
            self.message = message
            self.delivery = delivery
            self.createdEpoch = createdEpoch
        }
    }

    static func entry(_ row: Row) throws -> Entry {
        Entry(
            sequence: row["seq"],
            message: try JSONDecoder().decode(OutboxMessage.self, from: Data((row["message"] as String).utf8)),
            delivery: DeliveryState(
                state: row["state"], attempts: row["attempts"], nextAttemptAt: row["next_attempt_at"],
                lastStatus: row["last_status"],
                lastError: row["last_error"], lastResponse: row["last_response"], deliveredAt: row["delivered_at"],
                claimedBy: row["claimed_by"], claimedUntil: (row["claimed_until"] as Double?).flatMap { $0 > 0 ? $0 : nil }),
            createdEpoch: row["created_epoch"])
    }

    /// The next message of each stream that is pending (earlier ones of a stream go first: in order per stream).
    public func heads() throws -> [Entry] {
        try queue.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT m.* FROM messages m JOIN (
                        SELECT stream, MIN(seq) AS seq FROM messages WHERE state = 'pending' GROUP BY stream
                    ) h ON m.seq = h.seq ORDER BY m.seq
                    """
            ).map(Self.entry)
        }
    }

    /// Messages by state (all when nil), oldest first.
    public func list(state: String? = nil, limit: Int = 1000) throws -> [Entry] {
        try queue.read { db in
            if let state {
                return try Row.fetchAll(
                    db, sql: "SELECT * FROM messages WHERE state = ? ORDER BY seq LIMIT ?", arguments: [state, limit]
                )
                .map(Self.entry)
            }
            return try Row.fetchAll(db, sql: "SELECT * FROM messages ORDER BY seq LIMIT ?", arguments: [limit]).map(Self.entry)
        }
    }

    /// Records attempts' outcomes, in one transaction, and ends their claims. Only a claim's holder (`owner`) records
    /// a failure or a release; a delivery is recorded by whoever made it, even after its lease expired (the message
    /// was sent). Returns, for each, whether it was recorded (false: another flusher holds the message now, or it was
    /// delivered meanwhile).
    @discardableResult
    public func record(_ outcomes: [Outcome]) throws -> [Bool] {
        try queue.write { db in
            try outcomes.map { o in
                if o.state == "release" {
                    try db.execute(
                        sql: """
                            UPDATE messages SET claimed_by = NULL, claimed_until = 0
                            WHERE id = ? AND state = 'pending' AND claimed_by IS ?
                            """,
                        arguments: [o.id, o.owner])
                    return db.changesCount == 1
                }
                try db.execute(
                    sql: """
                        UPDATE messages SET state = ?, attempts = ?, next_attempt_at = ?, last_status = ?, last_error = ?,
                        last_response = ?, delivered_at = CASE WHEN ? = 'delivered' THEN ? ELSE delivered_at END,
                        claimed_by = NULL, claimed_until = 0
                        WHERE id = ? AND state = 'pending' AND (claimed_by IS ? OR ? = 'delivered')
                        """,
                    arguments: [
                        o.state, o.attempts, o.nextAttemptAt, o.status, o.error, o.response, o.state, Timestamp.nowMillis(),
                        o.id, o.owner, o.state,
                    ])
                return db.changesCount == 1
            }
        }
    }

    /// Puts a dead (or pending) message back in the queue, due now.
    public func retry(id: String) throws {
        try queue.write { db in
            try db.execute(
                sql:
                    "UPDATE messages SET state = 'pending', next_attempt_at = ?, attempts = 0 WHERE id = ? AND state != 'delivered'",
                arguments: [Date().timeIntervalSince1970, id])
            guard db.changesCount == 1 else {
                throw StoreError(
                    "no undelivered message '\(id)' in the outbox; see `tandem notify list --dead`", exitStatus: .badInput)
            }
        }
    }

    /// Counts by state.
    public func counts() throws -> [String: Int] {
        try queue.read { db in
            Dictionary(
                uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM messages GROUP BY state").map {
                    ($0["state"] as String, $0["n"] as Int)
                })
        }
    }
}
