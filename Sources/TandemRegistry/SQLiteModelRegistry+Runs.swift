public import Foundation
import GRDB
import TandemCore

/// Tracked runs in the SQLite registry: parameters, tags, metric history, status.
extension SQLiteModelRegistry {
    // MARK: Runs

    @discardableResult
    public func createRun(_ run: RunRecord) throws -> String {
        try write { db in

            try db.execute(
                sql: "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                arguments: [
                    run.id, run.experiment, run.name, run.status, run.parentID, run.startedAt, run.endedAt, try Self.json(run),
                ])
        }
        return run.id

    }

    public func updateRun(_ run: RunRecord) throws {
        try write { db in
            try db.execute(
                sql: "UPDATE runs SET status = ?, ended_at = ?, body = ? WHERE id = ?",
                arguments: [run.status, run.endedAt, try Self.json(run), run.id])
            guard db.changesCount == 1 else { throw Failure(.notFound, "no run \(run.id)") }
        }
    }

    public func logMetrics(runID: String, _ points: [MetricPoint]) throws {
        try write { db in
            let statement = try db.makeStatement(sql: "INSERT INTO run_metrics VALUES (?, ?, ?, ?, ?)")
            for p in points { try statement.execute(arguments: [runID, p.key, p.value, p.step, p.timestamp]) }
        }
    }

    public func run(id: String) throws -> RunRecord {
        let body = try read { db in try String.fetchOne(db, sql: "SELECT body FROM runs WHERE id = ?", arguments: [id]) }
        guard let body else {
            throw Failure(.notFound, "no run '\(id)' in this registry; list them with `tandem runs list`")
        }
        do { return try Self.decode(RunRecord.self, body) } catch { throw Self.registryError(error) }
    }

    public func runs(experiment: String?, limit: Int) throws -> [RunRecord] {
        try read { db in
            let bodies: [String]
            if let experiment {
                bodies = try String.fetchAll(
                    db, sql: "SELECT body FROM runs WHERE experiment = ? ORDER BY started_at DESC, id LIMIT ?",
                    arguments: [experiment, limit])
            } else {
                bodies = try String.fetchAll(
                    db, sql: "SELECT body FROM runs ORDER BY started_at DESC, id LIMIT ?", arguments: [limit])
            }
            return try bodies.map { try Self.decode(RunRecord.self, $0) }
        }
    }

    public func metricHistory(runID: String) throws -> [MetricPoint] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM run_metrics WHERE run_id = ? ORDER BY key, step, rowid", arguments: [runID])
                .map {
                    MetricPoint(key: $0["key"], value: $0["value"], step: $0["step"], timestamp: $0["timestamp"])
                }
        }
    }
}
