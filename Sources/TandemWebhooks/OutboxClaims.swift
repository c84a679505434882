public import Foundation
import GRDB
import TandemCore

/// Claims: how flushers that run at the same time share an outbox without sending a message twice.
///
/// A flusher claims one message at a time: the oldest pending message of its stream (so streams stay in order),
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

    /// Claims the next due message that `eligible` accepts, for `owner`, for `lease` seconds.
    public func claim(
        owner: String, lease: Double, now: Double = Date().timeIntervalSince1970, eligible: (Entry) -> Bool = { _ in true }
    ) throws -> Claim {
        var outcome = Claim.wait(next: nil, inFlight: false)
        try queue.inTransaction(.immediate) { db in
            let heads = try Row.fetchAll(
                db,
                sql: """
                    SELECT m.* FROM messages m JOIN (
                        SELECT stream, MIN(seq) AS seq FROM messages WHERE state = 'pending' GROUP BY stream
                    ) h ON m.seq = h.seq ORDER BY m.seq
                    """
            ).map(Self.entry).filter(eligible)
            var next: Double?
            var inFlight = false
            for head in heads {
                let held = head.delivery.claimedUntil.map { $0 >= now } ?? false
                if !held && head.delivery.nextAttemptAt <= now {
                    try db.execute(
                        sql: """
                            UPDATE messages SET claimed_by = ?, claimed_until = ?
                            WHERE seq = ? AND state = 'pending' AND claimed_until < ?
                            """,
                        arguments: [owner, now + lease, head.sequence, now])
                    guard db.changesCount == 1 else { continue }
                    var claimed = head
                    claimed.delivery.claimedBy = owner
                    claimed.delivery.claimedUntil = now + lease
                    outcome = .claimed(claimed)
                    return .commit
                }
                inFlight = inFlight || held
                let due = max(head.delivery.nextAttemptAt, held ? (head.delivery.claimedUntil ?? now) : 0)
                next = min(next ?? due, due)
            }
            outcome = .wait(next: next, inFlight: inFlight)
            return .commit
        }
        return outcome
    }
}
