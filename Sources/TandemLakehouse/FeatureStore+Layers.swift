import Foundation
import GRDB
import TandemCore
import TandemStorage

extension FeatureStore {
    /// The bronze file already ingested with this digest, if any (re-running on the same file adds nothing).
    public func bronzeFile(kind: String, digest: String) throws -> Int64? {
        try queue.read { db in
            try Int64.fetchOne(db, sql: "SELECT id FROM bronze_files WHERE kind = ? AND digest = ?", arguments: [kind, digest])
        }
    }

    /// Appends a file to bronze, every line with its number and SHA-256, in one transaction.
    public func ingestBronze(
        kind: String, reader: LineReader, digest: String, sourcePath: String,
        eachBlock: (UnsafeBufferPointer<UInt8>, [Range<Int>], Int, Int64) throws -> Void
    ) throws -> Int64 {
        try queue.inTransaction { db in
            try db.execute(
                sql:
                    "INSERT INTO bronze_files(kind, source_path, digest, line_count, byte_count, ingested_at) VALUES (?, ?, ?, 0, ?, ?)",
                arguments: [kind, sourcePath, digest, reader.size, Timestamp.nowMillis()])
            let fileID = db.lastInsertedRowID
            var insert = try BulkInsert(
                db, sql: "INSERT INTO bronze_lines(file_id, line_no, digest, content) VALUES (?, ?, ?, ?)")
            var lines = 0
            try reader.forEachBlock { buffer, ranges, first, position in
                for (k, range) in ranges.enumerated() {
                    let line = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buffer)[range])
                    let lineDigest = LineDigest.sha256(line)
                    insert.bind(fileID)
                    insert.bind(Int64(first + k))
                    lineDigest.withUnsafeBytes { insert.bind(bytes: $0) }
                    insert.bind(bytes: line)
                    try insert.step()
                }
                lines += ranges.count
                try eachBlock(buffer, ranges, first, position)
            }
            try db.execute(sql: "UPDATE bronze_files SET line_count = ? WHERE id = ?", arguments: [lines, fileID])
            return .commit
        }
        return try queue.read { db in
            try Int64.fetchOne(db, sql: "SELECT id FROM bronze_files WHERE kind = ? AND digest = ?", arguments: [kind, digest])
                ?? 0
        }
    }

    /// Bronze line counts per file kind.
    public func bronzeLineCount() throws -> Int {
        try queue.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM bronze_lines") ?? 0 }
    }

    /// Replaces the silver tables with a new silver version, with its quarantine, in one transaction.
    public func writeSilver(
        _ silver: SilverLayer, quarantine: [QuarantinedLine], videosFile: Int64, judgmentsFile: Int64,
        digest: String, report: String
    ) throws -> Int64 {
        try queue.write { db in
            try db.execute(
                sql:
                    "INSERT INTO silver_versions(created_at, videos_file, judgments_file, digest, report) VALUES (?, ?, ?, ?, ?)",
                arguments: [Timestamp.nowMillis(), videosFile, judgmentsFile, digest, report])
            let version = db.lastInsertedRowID
            try db.execute(sql: "DELETE FROM silver_videos; DELETE FROM silver_judgments")
            var videos = try BulkInsert(db, sql: "INSERT INTO silver_videos VALUES (?, ?, ?, ?, ?, ?, ?)")
            var publishedText: [String] = []
            publishedText.reserveCapacity(silver.videos.count)
            for v in silver.videos {
                let published = v.published.silverText
                publishedText.append(published)
                videos.bind(v.url); videos.bind(v.title); videos.bind(v.description); videos.bind(v.channel)
                videos.bind(v.durationS); videos.bind(v.views); videos.bind(published)
                try videos.step()
            }
            var judgments = try BulkInsert(db, sql: "INSERT INTO silver_judgments VALUES (?, ?, ?, ?, ?)")
            for (i, j) in silver.judgments.enumerated() {
                judgments.bind(Int64(i))
                judgments.bind(silver.queries[Int(j.queryIndex)])
                judgments.bind(silver.videos[Int(j.videoIndex)].url)
                judgments.bind(Int64(j.label))
                judgments.bind(j.judgedAt.silverText)
                try judgments.step()
            }
            var q = try BulkInsert(db, sql: "INSERT INTO quarantine VALUES (?, ?, ?, ?, ?, ?)")
            for line in quarantine {
                q.bind(version); q.bind(line.kind); q.bind(line.file); q.bind(Int64(line.lineNumber))
                q.bind(line.reason.rawValue)
                line.content.withUnsafeBytes { q.bind(bytes: $0) }
                try q.step()
            }
            return version
        }
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
                    content: Array((row["content"] as Data?) ?? Data()))
            }
        }
    }
}

/// SHA-256 of one bronze line.
enum LineDigest {
    static func sha256(_ line: UnsafeRawBufferPointer) -> [UInt8] {
        var d = StreamingDigest()
        d.update(line)
        return d.finalizeBytes()
    }
}
