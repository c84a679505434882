public import Foundation
import GRDB
import TandemCore

/// Claims: how flushers that run at the same time share an outbox without sending a message twice.
///
/// A flusher claims a batch of messages at a time, each the oldest pending message of its stream (so streams stay in order),
/// due, and not claimed by anyone whose lease still holds. The claim is taken in an IMMEDIATE transaction (SQLite's
/// write lock is held from the first read), so two flushers never claim the same message. The holder sends it and
/// records the outcome, which ends the claim. A flusher that dies holding a claim leaves it to expire: after the
/// lease, the next flusher claims the message and sends it again with the same `webhook-id`.
extension Outbox {
    /// What `claim` found.
    public enum Claim: Sendable {
        /// This message is now the caller's until its lease ends.
        case claimed(Entry)
        /// Nothing can be claimed now. `next` is when a message of this caller's may fall due (a retry's time, or an
        /// expiring claim); `inFlight` is true when another flusher holds a message whose outcome may make the
        /// next one of its stream due sooner.
        case wait(next: Double?, inFlight: Bool)
    }

    /// What `claimBatch` found: the messages now the caller's (each the head of its stream), and, for the
    /// messages it could not claim, when one may fall due (`next`) and whether another flusher holds one (`inFlight`).
    public struct Batch: Sendable {
        public var claimed: [Entry]
        public var next: Double?
        public var inFlight: Bool

        public init(claimed: [Entry], next: Double?, inFlight: Bool) {
            self.claimed = claimed
            self.next = next
            self.inFlight = inFlight
        }

        /// Nothing claimed: when one of `heads` (the eligible stream heads) may fall due — its retry time, or the end
        /// of the lease another flusher holds on it — and whether another flusher holds one.
        public static func waiting(for heads: [Entry], now: Double) -> Batch {
            var batch = Batch(claimed: [], next: nil, inFlight: false)
            for head in heads {
                let held = head.delivery.claimedUntil.map { $0 >= now } ?? false
                batch.inFlight = batch.inFlight || held
                let due = max(head.delivery.nextAttemptAt, held ? (head.delivery.claimedUntil ?? now) : 0)
                batch.next = min(batch.next ?? due, due)
            }
            return batch
        }
    }

    /// An attempt's outcome, to record (`DeliveryQueue.record`). `release` gives a claimed message back untried
    /// (its state, attempts and retry time unchanged).
    public struct Outcome: Sendable {
        public var id: String
        public var owner: String
        /// `delivered`, `pending` (to retry at `nextAttemptAt`), `dead`, or `release`.
        public var state: String
        public var attempts: Int
        public var nextAttemptAt: Double
        public var status: Int?
        public var error: String?
        public var response: String?

        public init(
            id: String, owner: String, state: String, attempts: Int, nextAttemptAt: Double, status: Int?, error: String?,
            response: String?
        ) {
            self.id = id
            self.owner = owner
            self.state = state
            self.attempts = attempts
            self.nextAttemptAt = nextAttemptAt
            self.status = status
            self.error = error
            self.response = response
        }

        public static func release(id: String, owner: String) -> Outcome {
            Outcome(id: id, owner: owner, state: "release", attempts: 0, nextAttemptAt: 0, status: nil, error: nil, response: nil)
        }
    }

    /// The default lease, in seconds: longer than any one attempt (a flusher's request timeout is at most half
    /// of it), so a live flusher's claim never expires while it is sending.
    public static let defaultLease: Double = 60

    /// The lease, from `TANDEM_OUTBOX_LEASE_SECONDS` when set to a positive number, else `defaultLease`.
    public static func lease(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> Double {
        environment["TANDEM_OUTBOX_LEASE_SECONDS"].flatMap(Double.init).flatMap { $0 > 0 ? $0 : nil } ?? defaultLease
    }

    /// A name for one flusher, unique across processes and hosts: `host:pid:random`.
    public static func claimant() -> String {
        "\(ProcessInfo.processInfo.hostName):\(getpid()):\(UUID().uuidString.prefix(8).lowercased())"
    }

    /// Claims up to `limit` due messages that `eligible` accepts, each the head of its stream, for `owner`, for
    /// `lease` seconds, in one IMMEDIATE transaction (one commit for the batch).
    public func claimBatch(
        owner: String, lease: Double, now: Double, limit: Int, eligible: (Entry) -> Bool
    ) throws -> Batch {
        var batch = Batch(claimed: [], next: nil, inFlight: false)
        try queue.inTransaction(.immediate) { db in
            // The claimable heads (the oldest pending message of each stream, due, its lease expired), oldest first,
            // a page at a time until `limit` of them are eligible.
            let page = max(64, limit * 2)
            var offset = 0
            var candidates: [Entry] = []
            while candidates.count < limit {
                let rows = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT m.* FROM messages m JOIN (
                            SELECT stream, MIN(seq) AS seq FROM messages WHERE state = 'pending' GROUP BY stream
                        ) h ON m.seq = h.seq WHERE m.next_attempt_at <= ? AND m.claimed_until < ? ORDER BY m.seq LIMIT ? OFFSET ?
                        """, arguments: [now, now, page, offset])
                for head in try rows.map(Self.entry) where candidates.count < limit && eligible(head) {
                    candidates.append(head)
                }
                if rows.count < page { break }
                offset += page
            }
            for head in candidates {
                try db.execute(
                    sql:
                        "UPDATE messages SET claimed_by = ?, claimed_until = ? WHERE seq = ? AND state = 'pending' AND claimed_until < ?",
                    arguments: [owner, now + lease, head.sequence, now])
                guard db.changesCount == 1 else { continue }
                var claimed = head
                claimed.delivery.claimedBy = owner
                claimed.delivery.claimedUntil = now + lease
                batch.claimed.append(claimed)
            }
            guard batch.claimed.isEmpty else { return .commit }
            let heads = try Row.fetchAll(
                db,
                sql: """
                    SELECT m.* FROM messages m JOIN (
                        SELECT stream, MIN(seq) AS seq FROM messages WHERE state = 'pending' GROUP BY stream
                    ) h ON m.seq = h.seq ORDER BY m.seq
                    """
            ).map(Self.entry).filter(eligible)
            batch = .waiting(for: heads, now: now)
            return .commit
        }
        return batch
    }
}
