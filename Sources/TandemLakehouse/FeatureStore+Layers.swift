import Foundation
import GRDB
import TandemCore
public import TandemFeatures
import TandemStorage

extension FeatureStore {
    /// Binds a video's attributes (title … published), the columns after its key in silver's video tables.
    static func bindAttributes(_ v: VideoRecord, _ insert: inout BulkInsert) {
        insert.bind(v.title)
        insert.bind(v.description)
        insert.bind(v.channel)
        insert.bind(v.durationS)
        insert.bind(v.views)
        insert.bind(v.published.silverText)
    }

    /// A row of silver's video tables as a record.
    static func videoRecord(_ row: Row) -> VideoRecord {
        VideoRecord(
            url: row["video_url"], title: row["title"], description: row["description"], channel: row["channel"],
            durationS: row["duration_s"], views: row["views"],
            published: DataTimestamp(row["published"] as String) ?? DataTimestamp(seconds: 0))
    }

    /// Registers a new silver version: its files (written in `stagingFolder`) move to `silver/vN`, the silver
    /// videos table is replaced (the corpus the feature code path reads), and the quarantine is recorded, all in
    /// one transaction. When the latest silver version already has this digest (a concurrent ETL of the same
    /// input recorded it first, under the same write lock), that version is returned with `isNew` false.
    public func registerSilver(
        stagingFolder: String, videos: [VideoRecord], history: [[VideoVersion]], quarantine: [QuarantinedLine],
        videosFile: Int64,
        judgmentsFile: Int64, digest: String, report: String
    ) throws -> (id: Int64, isNew: Bool) {
        try RootGuard.contained(stagingFolder, in: root)
        return try write { db in
            if let latest = try Row.fetchOne(db, sql: "SELECT id, digest FROM silver_versions ORDER BY id DESC LIMIT 1"),
                latest["digest"] as String == digest
            {
                return (latest["id"] as Int64, false)
            }
            let next = (try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM silver_versions") ?? 0) + 1
            let relative = "silver/v\(next)"
            let final = try RootGuard.file(relative, in: self.root)
            try self.removeLeftover(final)
            try db.execute(
                sql: """
                    INSERT INTO silver_versions(id, created_at, videos_file, judgments_file, digest, report, path)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [next, Timestamp.nowMillis(), videosFile, judgmentsFile, digest, report, relative])
            try db.execute(sql: "DELETE FROM silver_videos")
            var insert = try BulkInsert(db, sql: "INSERT INTO silver_videos VALUES (?, ?, ?, ?, ?, ?, ?)")
            for v in videos {
                insert.bind(v.url)
                Self.bindAttributes(v, &insert)
                try insert.step()
            }
            try db.execute(sql: "DELETE FROM silver_video_versions")
            var versions = try BulkInsert(db, sql: "INSERT INTO silver_video_versions VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
            for h in history {
                for version in h {
                    versions.bind(version.record.url)
                    versions.bind(version.observedAt.silverText)
                    Self.bindAttributes(version.record, &versions)
                    try versions.step()
                }
            }
            var q = try BulkInsert(
                db,
                sql:
                    "INSERT INTO quarantine(silver_version, kind, file, line_no, reason, content, detail) VALUES (?, ?, ?, ?, ?, ?, ?)"
            )
            for line in quarantine {
                q.bind(next)
                q.bind(line.kind)
                q.bind(line.file)
                q.bind(Int64(line.lineNumber))
                q.bind(line.reason.rawValue)
                line.content.withUnsafeBytes { q.bind(bytes: $0) }
                q.bind(line.detail)
                try q.step()
            }
            _ = try RootGuard.createFolder((final as NSString).deletingLastPathComponent, in: self.root)
            guard rename(stagingFolder, final) == 0 else {
                throw WriteFailure.error(WriteFailure.lastError(final), path: final, root: self.root)
            }
            return (next, true)
        }
    }

    /// The folder of a silver version.
    public func silverFolder(version: Int64) -> String {
        (root as NSString).appendingPathComponent("silver/v\(version)")
    }

    /// The quarantined lines of a silver version (the latest when nil).
    public func quarantinedLines(silverVersion: Int64? = nil, limit: Int = 100) throws -> [QuarantinedLine] {
        try queue.read { db in
            let version = try silverVersion ?? Int64.fetchOne(db, sql: "SELECT MAX(id) FROM silver_versions") ?? 0
            return try Row.fetchAll(
                db, sql: "SELECT * FROM quarantine WHERE silver_version = ? ORDER BY kind, line_no LIMIT ?",
                arguments: [version, limit]
            ).map { row in
                QuarantinedLine(
                    kind: row["kind"], file: row["file"], lineNumber: row["line_no"],
                    reason: QuarantineReason(rawValue: row["reason"]) ?? .badJSON,
                    content: Array((row["content"] as Data?) ?? Data()), detail: row["detail"])
            }
        }
    }
}
