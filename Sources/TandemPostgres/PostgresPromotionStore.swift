import Foundation
import TandemCore
public import TandemPromotion

/// The promotions of an environment, their journal and the promotion locks, in its PostgreSQL state root. It has
/// the semantics of the SQLite `PromotionStore` (the promotion state conformance suite runs against both); the
/// lock of a target is a row under a primary key, taken with `INSERT … ON CONFLICT DO NOTHING`, so two runners
/// that take it at the same moment get one holder between them.
public final class PostgresPromotionStore: PromotionStateStore, @unchecked Sendable {
    let state: PostgresState
    var db: PostgresConnection { state.connection }

    public init(_ state: PostgresState) { self.state = state }

    static func encode(_ p: Promotion) throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return String(decoding: try e.encode(p), as: UTF8.self)
    }

    static func decode(_ body: String?) throws -> Promotion {
        try JSONDecoder().decode(Promotion.self, from: Data((body ?? "").utf8))
    }

    public func insert(_ p: Promotion) throws {
        do {
            try db.execute(
                "INSERT INTO tandem_promotions(id, requested_at, target, model, body) VALUES ($1, $2, $3, $4, $5)",
                [p.id, p.requestedAt, p.target, p.model, try Self.encode(p)])
        } catch let error as PostgresConnection.StatementError where error.isUniqueViolation {
            throw Failure(.conflict, "a promotion '\(p.id)' exists already in \(db.location)")
        }
    }

    public func insertUnlessActive(_ p: Promotion) throws -> Promotion? {
        try db.transaction { () throws -> Promotion? in
            // One starter of this model into this target at a time, on any runner, until the transaction ends.
            try db.execute("SELECT pg_advisory_xact_lock(hashtext($1))", ["tandem-start:\(p.target)/\(p.model)"])
            for row in try db.execute(
                "SELECT body FROM tandem_promotions WHERE target = $1 AND model = $2 ORDER BY requested_at DESC",
                [p.target, p.model])
            {
                let other = try Self.decode(row[0])
                if !other.state.isFinal { return other }
            }
            try db.execute(
                "INSERT INTO tandem_promotions(id, requested_at, target, model, body) VALUES ($1, $2, $3, $4, $5)",
                [p.id, p.requestedAt, p.target, p.model, try Self.encode(p)])
            return nil
        }
    }

    public func update(_ id: String, _ change: (inout Promotion) throws -> Void) throws -> Promotion {
        try db.transaction {
            // The row stays locked until the transaction ends: another runner's update waits, then sees this one's.
            guard let row = try db.execute("SELECT body FROM tandem_promotions WHERE id = $1 FOR UPDATE", [id]).first else {
                throw Failure(.notFound, "no promotion '\(id)'; see `tandem promote list`")
            }
            var p = try Self.decode(row[0])
            try change(&p)
            try db.execute("UPDATE tandem_promotions SET body = $1 WHERE id = $2", [try Self.encode(p), id])
            return p
        }
    }

    public func save(_ p: Promotion) throws {
        try db.execute("UPDATE tandem_promotions SET body = $1 WHERE id = $2", [try Self.encode(p), p.id])
    }

    public func promotion(_ id: String) throws -> Promotion {
        if let exact = try db.execute("SELECT body FROM tandem_promotions WHERE id = $1", [id]).first {
            return try Self.decode(exact[0])
        }
        let matches = try db.execute("SELECT body FROM tandem_promotions WHERE starts_with(id, $1) LIMIT 2", [id])
        guard matches.count == 1 else { throw Failure(.notFound, "no promotion '\(id)'; see `tandem promote list`") }
        return try Self.decode(matches[0][0])
    }

    public func all() throws -> [Promotion] {
        try db.execute("SELECT body FROM tandem_promotions ORDER BY requested_at DESC, id").map { try Self.decode($0[0]) }
    }

    public func journal(_ id: String, step: String, status: String, detail: [String: String]) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let text = String(decoding: try encoder.encode(detail), as: UTF8.self)
        try db.execute(
            """
            INSERT INTO tandem_journal VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (promotion_id, step) DO UPDATE SET status = excluded.status, at = excluded.at, detail = excluded.detail
            """,
            [id, step, status, Timestamp.nowMillis(), text])
    }

    public func journalEntries(_ id: String) throws -> [String: (status: String, detail: [String: String])] {
        var out: [String: (String, [String: String])] = [:]
        for row in try db.execute("SELECT step, status, detail FROM tandem_journal WHERE promotion_id = $1", [id]) {
            out[row[0] ?? ""] = (
                row[1] ?? "", try JSONDecoder().decode([String: String].self, from: Data((row[2] ?? "").utf8))
            )
        }
        return out
    }

    public func lock(target: String, promotion: String) throws -> String? {
        try db.transaction {
            try db.execute(
                "INSERT INTO tandem_locks VALUES ($1, $2, $3) ON CONFLICT (target) DO NOTHING",
                [target, promotion, Timestamp.nowMillis()])
            let holder = try db.execute("SELECT promotion_id FROM tandem_locks WHERE target = $1", [target]).first?[0] ?? nil
            return holder == promotion ? nil : holder
        }
    }

    public func unlock(target: String, promotion: String) throws {
        try db.execute("DELETE FROM tandem_locks WHERE target = $1 AND promotion_id = $2", [target, promotion])
    }
}
