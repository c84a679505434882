import Foundation
import GRDB
import TandemCore
public import TandemStorage

/// Where promotions persist (`promotions.sqlite` in the source environment's registry root): each promotion,
/// its journal of promoting steps, and the lock that keeps two promotions to one environment apart.
public final class PromotionStore: @unchecked Sendable {
    let queue: DatabaseQueue

    public init(root: String) throws(StoreError) {
        queue = try SQLiteDatabase.open(
            path: (root as NSString).appendingPathComponent("promotions.sqlite"),
            migrations: [
                (
                    "v1",
                    { db in
                        try db.execute(
                            sql: """
                                CREATE TABLE promotions(id TEXT PRIMARY KEY, requested_at TEXT NOT NULL, body TEXT NOT NULL);
                                CREATE TABLE journal(
                                    promotion_id TEXT NOT NULL, step TEXT NOT NULL, status TEXT NOT NULL, at TEXT NOT NULL,
                                    detail TEXT NOT NULL, PRIMARY KEY(promotion_id, step));
                                CREATE TABLE locks(target TEXT PRIMARY KEY, promotion_id TEXT NOT NULL, at TEXT NOT NULL);
                                """)
                    }
                )
            ])
    }

    static func encode(_ p: Promotion) throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return String(decoding: try e.encode(p), as: UTF8.self)
    }

    public func insert(_ p: Promotion) throws {
        try queue.write { db in
            try db.execute(sql: "INSERT INTO promotions VALUES (?, ?, ?)", arguments: [p.id, p.requestedAt, try Self.encode(p)])
        }
    }

    public func insertUnlessActive(_ p: Promotion) throws -> Promotion? {
        var active: Promotion?
        // IMMEDIATE: the write lock is held from the first read, so two starters cannot both find none.
        try queue.inTransaction(.immediate) { db in
            for body in try String.fetchAll(db, sql: "SELECT body FROM promotions ORDER BY requested_at DESC") {
                let other = try JSONDecoder().decode(Promotion.self, from: Data(body.utf8))
                if other.target == p.target && other.model == p.model && !other.state.isFinal {
                    active = other
                    return .rollback
                }
            }
            try db.execute(sql: "INSERT INTO promotions VALUES (?, ?, ?)", arguments: [p.id, p.requestedAt, try Self.encode(p)])
            return .commit
        }
        return active
    }

    public func update(_ id: String, _ change: (inout Promotion) throws -> Void) throws -> Promotion {
        var out: Promotion?
        try queue.inTransaction(.immediate) { db in
            guard let body = try String.fetchOne(db, sql: "SELECT body FROM promotions WHERE id = ?", arguments: [id]) else {
                throw Failure(.notFound, "no promotion '\(id)'; see `tandem promote list`")
            }
            var p = try JSONDecoder().decode(Promotion.self, from: Data(body.utf8))
            try change(&p)
            try db.execute(sql: "UPDATE promotions SET body = ? WHERE id = ?", arguments: [try Self.encode(p), id])
            out = p
            return .commit
        }
        guard let out else { throw Failure(.failed, "the update of promotion '\(id)' saved nothing") }
        return out
    }

    public func save(_ p: Promotion) throws {
        try queue.write { db in
            try db.execute(sql: "UPDATE promotions SET body = ? WHERE id = ?", arguments: [try Self.encode(p), p.id])
        }
    }

    public func promotion(_ id: String) throws -> Promotion {
        let body = try queue.read { db -> String? in
            if let exact = try String.fetchOne(db, sql: "SELECT body FROM promotions WHERE id = ?", arguments: [id]) {
                return exact
            }
            let matches = try String.fetchAll(db, sql: "SELECT body FROM promotions WHERE id LIKE ? || '%'", arguments: [id])
            return matches.count == 1 ? matches[0] : nil
        }
        guard let body else { throw Failure(.notFound, "no promotion '\(id)'; see `tandem promote list`") }
        return try JSONDecoder().decode(Promotion.self, from: Data(body.utf8))
    }

    public func all() throws -> [Promotion] {
        try queue.read { db in try String.fetchAll(db, sql: "SELECT body FROM promotions ORDER BY requested_at DESC") }
            .map { try JSONDecoder().decode(Promotion.self, from: Data($0.utf8)) }
    }

    // MARK: Journal

    /// Records that a step is about to run (`started`) or has run (`done`), with what undoing it needs.
    public func journal(_ id: String, step: String, status: String, detail: [String: String]) throws {
        let text = String(decoding: try JSONEncoder().encode(detail), as: UTF8.self)
        try queue.write { db in
            try db.execute(
                sql: """
                    INSERT INTO journal VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT(promotion_id, step) DO UPDATE SET status = excluded.status, at = excluded.at, detail = excluded.detail
                    """,
                arguments: [id, step, status, Timestamp.nowMillis(), text])
        }
    }

    public func journalEntries(_ id: String) throws -> [String: (status: String, detail: [String: String])] {
        try queue.read { db in
            var out: [String: (String, [String: String])] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT * FROM journal WHERE promotion_id = ?", arguments: [id]) {
                out[row["step"]] = (
                    row["status"], try JSONDecoder().decode([String: String].self, from: Data((row["detail"] as String).utf8))
                )
            }
            return out
        }
    }

    // MARK: Lock

    /// Takes the target's lock for a promotion; returns the holder when another promotion has it.
    public func lock(target: String, promotion: String) throws -> String? {
        try queue.write { db in
            if let holder = try String.fetchOne(db, sql: "SELECT promotion_id FROM locks WHERE target = ?", arguments: [target]) {
                return holder == promotion ? nil : holder
            }
            try db.execute(sql: "INSERT INTO locks VALUES (?, ?, ?)", arguments: [target, promotion, Timestamp.nowMillis()])
            return nil
        }
    }

    public func unlock(target: String, promotion: String) throws {
        try queue.write { db in
            try db.execute(sql: "DELETE FROM locks WHERE target = ? AND promotion_id = ?", arguments: [target, promotion])
        }
    }

    public func lockHolder(target: String) throws -> String? {
        try queue.read { db in
            try String.fetchOne(db, sql: "SELECT promotion_id FROM locks WHERE target = ?", arguments: [target])
        }
    }
}
