import Foundation
import TandemCore
public import TandemWebhooks

/// The webhook outbox of an environment in its PostgreSQL state root, shared by the flushers of every runner.
///
/// It has the semantics of the SQLite `Outbox` (the outbox and claims conformance suites run against both). A
/// flusher claims the head of a stream with `SELECT … FOR UPDATE SKIP LOCKED`: a head another flusher is claiming
/// at that moment is skipped rather than waited for, and the claim's `UPDATE` re-checks the lease, so two flushers
/// never hold one message; the lease makes a killed flusher's message due again, sent with the same `webhook-id`.
public final class PostgresOutbox: DeliveryQueue, @unchecked Sendable {
    let state: PostgresState
    var db: PostgresConnection { state.connection }

    public init(_ state: PostgresState) { self.state = state }

    public var location: String { db.location.description }

    static let columns =
        "seq, message, state, attempts, next_attempt_at, last_status, last_error, last_response, delivered_at, claimed_by, "
        + "claimed_until, created_epoch"

    static func entry(_ row: [String?]) throws -> Outbox.Entry {
        func double(_ i: Int) -> Double { row[i].flatMap(Double.init) ?? 0 }
        let until = double(10)
        return Outbox.Entry(
            sequence: row[0].flatMap { Int64($0) } ?? 0,
            message: try JSONDecoder().decode(OutboxMessage.self, from: Data((row[1] ?? "").utf8)),
            delivery: DeliveryState(
                state: row[2] ?? "", attempts: row[3].flatMap { Int($0) } ?? 0, nextAttemptAt: double(4),
                lastStatus: row[5].flatMap { Int($0) }, lastError: row[6], lastResponse: row[7], deliveredAt: row[8],
                claimedBy: row[9], claimedUntil: until > 0 ? until : nil),
            createdEpoch: double(11))
    }

    public func enqueue(_ messages: [OutboxMessage]) throws {
        guard !messages.isEmpty else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let now = String(Date().timeIntervalSince1970)
        let rows = try messages.map { m in [m.id, m.stream, String(decoding: try encoder.encode(m), as: UTF8.self)] }
        do {
            try db.transaction {
                // In order, at most 1,000 rows a statement (PostgreSQL takes up to 65,535 parameters in one).
                var start = 0
                while start < rows.count {
                    let chunk = rows[start..<min(rows.count, start + 1000)]
                    var values: [String] = []
                    var parameters: [String?] = [now]
                    for row in chunk {
                        let n = parameters.count
                        values.append(
                            "($\(n + 1), $\(n + 2), $\(n + 3), 'pending', 0, $1::double precision, $1::double precision)")
                        parameters += row
                    }
                    try db.execute(
                        "INSERT INTO tandem_outbox(id, stream, message, state, attempts, next_attempt_at, created_epoch) VALUES "
                            + values.joined(separator: ", "),
                        parameters)
                    start += chunk.count
                }
            }
        } catch let error as PostgresConnection.StatementError where error.isUniqueViolation {
            throw Failure(
                .conflict, "the outbox in \(location) holds a message of this batch already; nothing of the batch was stored")
        }
    }

    public func list(state: String?, limit: Int) throws -> [Outbox.Entry] {
        let rows =
            if let state {
                try db.execute(
                    "SELECT \(Self.columns) FROM tandem_outbox WHERE state = $1 ORDER BY seq LIMIT $2",
                    [state, String(max(0, limit))])
            } else {
                try db.execute("SELECT \(Self.columns) FROM tandem_outbox ORDER BY seq LIMIT $1", [String(max(0, limit))])
            }
        return try rows.map(Self.entry)
    }

    public func claim(owner: String, lease: Double, now: Double, eligible: (Outbox.Entry) -> Bool) throws -> Outbox.Claim {
        try db.transaction {
            let heads = try db.execute(
                """
                SELECT * FROM (SELECT DISTINCT ON (stream) \(Self.columns) FROM tandem_outbox WHERE state = 'pending'
                ORDER BY stream, seq) h ORDER BY seq
                """
            ).map(Self.entry).filter(eligible)
            var next: Double?
            var inFlight = false
            for head in heads {
                let held = head.delivery.claimedUntil.map { $0 >= now } ?? false
                if !held && head.delivery.nextAttemptAt <= now {
                    let taken = try db.execute(
                        """
                        UPDATE tandem_outbox SET claimed_by = $1, claimed_until = $2::double precision WHERE seq = (
                            SELECT seq FROM tandem_outbox WHERE seq = $3::bigint AND state = 'pending'
                            AND claimed_until < $4::double precision FOR UPDATE SKIP LOCKED)
                        RETURNING seq
                        """,
                        [owner, String(now + lease), String(head.sequence), String(now)])
                    // Skipped (another flusher is claiming it this moment) or claimed meanwhile: look at the next head.
                    guard taken.count == 1 else {
                        inFlight = true
                        continue
                    }
                    var claimed = head
                    claimed.delivery.claimedBy = owner
                    claimed.delivery.claimedUntil = now + lease
                    return .claimed(claimed)
                }
                inFlight = inFlight || held
                let due = max(head.delivery.nextAttemptAt, held ? (head.delivery.claimedUntil ?? now) : 0)
                next = min(next ?? due, due)
            }
            return .wait(next: inFlight ? (next ?? now) : next, inFlight: inFlight)
        }
    }

    @discardableResult
    public func record(
        id: String, owner: String, state: String, attempts: Int, nextAttemptAt: Double, status: Int?, error: String?,
        response: String?
    ) throws -> Bool {
        let rows = try db.execute(
            """
            UPDATE tandem_outbox SET state = $1, attempts = $2::integer, next_attempt_at = $3::double precision,
            last_status = $4::integer, last_error = $5, last_response = $6,
            delivered_at = CASE WHEN $1 = 'delivered' THEN $7 ELSE delivered_at END, claimed_by = NULL, claimed_until = 0
            WHERE id = $8 AND state = 'pending' AND (claimed_by IS NOT DISTINCT FROM $9 OR $1 = 'delivered')
            RETURNING seq
            """,
            [
                state, String(attempts), String(nextAttemptAt), status.map(String.init), error, response, Timestamp.nowMillis(),
                id, owner,
            ])
        return rows.count == 1
    }

    public func retry(id: String) throws {
        let rows = try db.execute(
            """
            UPDATE tandem_outbox SET state = 'pending', next_attempt_at = $1::double precision, attempts = 0
            WHERE id = $2 AND state <> 'delivered' RETURNING seq
            """,
            [String(Date().timeIntervalSince1970), id])
        guard rows.count == 1 else {
            throw Failure(.notFound, "no undelivered message '\(id)' in the outbox; see `tandem notify list --dead`")
        }
    }

    public func counts() throws -> [String: Int] {
        var out: [String: Int] = [:]
        for row in try db.execute("SELECT state, COUNT(*) FROM tandem_outbox GROUP BY state") {
            out[row[0] ?? ""] = row[1].flatMap { Int($0) } ?? 0
        }
        return out
    }
}
