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

    public func claimBatch(
        owner: String, lease: Double, now: Double, limit: Int, eligible: (Outbox.Entry) -> Bool
    ) throws -> Outbox.Batch {
        try db.transaction {
            // The claimable heads (the oldest pending message of each stream, due, its lease expired), oldest first,
            // a page at a time until `limit` of them are eligible: the cost of a batch does not grow with the
            // number of streams.
            var batch = Outbox.Batch(claimed: [], next: nil, inFlight: false)
            var candidates: [Outbox.Entry] = []
            let page = max(64, limit * 2)
            var offset = 0
            while candidates.count < limit {
                let rows = try db.execute(
                    """
                    SELECT \(Self.columns) FROM tandem_outbox WHERE seq IN (
                        SELECT min(seq) FROM tandem_outbox WHERE state = 'pending' GROUP BY stream)
                    AND next_attempt_at <= $1::double precision AND claimed_until < $1::double precision
                    ORDER BY seq LIMIT $2 OFFSET $3
                    """,
                    [String(now), String(page), String(offset)])
                for head in try rows.map(Self.entry) where candidates.count < limit && eligible(head) {
                    candidates.append(head)
                }
                if rows.count < page { break }
                offset += page
            }
            guard !candidates.isEmpty else {
                // Nothing to send now: when may something fall due, and is another flusher sending?
                let heads = try db.execute(
                    """
                    SELECT \(Self.columns) FROM tandem_outbox WHERE seq IN (
                        SELECT min(seq) FROM tandem_outbox WHERE state = 'pending' GROUP BY stream)
                    ORDER BY seq
                    """
                ).map(Self.entry).filter(eligible)
                return .waiting(for: heads, now: now)
            }
            // One statement for the batch: rows another flusher is claiming this moment are skipped, not waited for,
            // and the lease is checked again on the locked rows.
            let taken = try db.execute(
                """
                UPDATE tandem_outbox SET claimed_by = $1, claimed_until = $2::double precision WHERE seq IN (
                    SELECT seq FROM tandem_outbox WHERE seq = ANY($3::bigint[]) AND state = 'pending'
                    AND claimed_until < $4::double precision FOR UPDATE SKIP LOCKED)
                RETURNING seq
                """,
                [
                    owner, String(now + lease), "{" + candidates.map { String($0.sequence) }.joined(separator: ",") + "}",
                    String(now),
                ]
            ).compactMap { $0[0].flatMap { Int64($0) } }
            let claimed = Set(taken)
            for var head in candidates {
                guard claimed.contains(head.sequence) else {
                    // Skipped (another flusher is claiming it this moment): it may be free again soon.
                    batch.inFlight = true
                    batch.next = min(batch.next ?? now, now)
                    continue
                }
                head.delivery.claimedBy = owner
                head.delivery.claimedUntil = now + lease
                batch.claimed.append(head)
            }
            return batch
        }
    }

    /// A PostgreSQL array literal of text values (NULL for nil), each quoted and escaped.
    static func array(_ values: [String?]) -> String {
        "{"
            + values.map { v in
                guard let v else { return "NULL" }
                return "\"" + v.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
            }.joined(separator: ",") + "}"
    }

    @discardableResult
    public func record(_ outcomes: [Outbox.Outcome]) throws -> [Bool] {
        guard !outcomes.isEmpty else { return [] }
        let releases = outcomes.filter { $0.state == "release" }
        let attempts = outcomes.filter { $0.state != "release" }
        // Every outcome of the batch in one statement (arrays unnested into rows), all in one transaction.
        let recorded = try db.transaction { () throws -> Set<String> in
            var ids = Set<String>()
            if !attempts.isEmpty {
                let rows = try db.execute(
                    """
                    UPDATE tandem_outbox t SET state = v.state, attempts = v.attempts, next_attempt_at = v.next,
                    last_status = v.status, last_error = v.error, last_response = v.response,
                    delivered_at = CASE WHEN v.state = 'delivered' THEN $9 ELSE t.delivered_at END, claimed_by = NULL,
                    claimed_until = 0
                    FROM unnest($1::text[], $2::text[], $3::text[], $4::integer[], $5::double precision[], $6::integer[],
                        $7::text[], $8::text[]) AS v(id, owner, state, attempts, next, status, error, response)
                    WHERE t.id = v.id AND t.state = 'pending' AND (t.claimed_by IS NOT DISTINCT FROM v.owner OR v.state = 'delivered')
                    RETURNING t.id
                    """,
                    [
                        Self.array(attempts.map(\.id)), Self.array(attempts.map(\.owner)), Self.array(attempts.map(\.state)),
                        Self.array(attempts.map { String($0.attempts) }), Self.array(attempts.map { String($0.nextAttemptAt) }),
                        Self.array(attempts.map { $0.status.map(String.init) }), Self.array(attempts.map(\.error)),
                        Self.array(attempts.map(\.response)), Timestamp.nowMillis(),
                    ])
                for row in rows { if let id = row[0] { ids.insert(id) } }
            }
            if !releases.isEmpty {
                let rows = try db.execute(
                    """
                    UPDATE tandem_outbox t SET claimed_by = NULL, claimed_until = 0
                    FROM unnest($1::text[], $2::text[]) AS v(id, owner)
                    WHERE t.id = v.id AND t.state = 'pending' AND t.claimed_by IS NOT DISTINCT FROM v.owner RETURNING t.id
                    """,
                    [Self.array(releases.map(\.id)), Self.array(releases.map(\.owner))])
                for row in rows { if let id = row[0] { ids.insert(id) } }
            }
            return ids
        }
        return outcomes.map { recorded.contains($0.id) }
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
