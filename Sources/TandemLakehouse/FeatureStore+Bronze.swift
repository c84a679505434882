import Foundation
import GRDB
import TandemCore
import TandemFeatures
import TandemStorage

/// A raw input file kept in bronze: an immutable, content-addressed copy (`bronze/KIND/DIGEST.jsonl`) and a
/// line index (`DIGEST.idx`: per line, its byte offset, length and SHA-256), registered in `bronze_files`.
public struct BronzeFile: Sendable {
    public var id: Int64?
    public var kind: String
    public var digest: String
    /// The absolute path of the bronze copy, which the ETL reads.
    public var path: String
    public var bytes: Int64
    /// False when a file with the same digest was already in bronze (re-running adds nothing).
    public var isNew: Bool
    /// When the file was first ingested (milliseconds, UTC): recorded with a new file when it is registered.
    public var ingestedAt: String
}

/// One entry of a bronze line index: 44 bytes, little-endian.
public struct BronzeLineEntry: Sendable, Equatable {
    public var offset: UInt64
    public var length: UInt32
    public var digest: [UInt8]
}

extension FeatureStore {
    /// Copies an input file into bronze (hashing it on the way), unless the same content is already there.
    ///
    /// The copy is written under a staging name owned by this process and removed if anything fails.
    public func stageBronze(kind: String, source: String) throws -> BronzeFile {
        let staging = try newStaging("bronze/\(kind)")
        let folder = (staging as NSString).deletingLastPathComponent
        let (digest, bytes): (String, Int64)
        do {
            (digest, bytes) = try Self.copy(source, to: staging)
        } catch {
            unlink(staging)
            throw WriteFailure.error(error, path: staging, root: root)
        }
        let final = (folder as NSString).appendingPathComponent("\(digest).jsonl")
        if let existing = try queue.read({ db in
            try Row.fetchOne(
                db, sql: "SELECT id, ingested_at FROM bronze_files WHERE kind = ? AND digest = ?", arguments: [kind, digest])
        }) {
            unlink(staging)
            return BronzeFile(
                id: existing["id"], kind: kind, digest: digest, path: final, bytes: bytes, isNew: false,
                ingestedAt: existing["ingested_at"])
        }
        do {
            try RootGuard.contained(final, in: root)
        } catch {
            unlink(staging)
            throw error
        }
        guard rename(staging, final) == 0 else {
            let failure = WriteFailure.lastError(final)
            unlink(staging)
            throw WriteFailure.error(failure, path: final, root: root)
        }
        return BronzeFile(
            id: nil, kind: kind, digest: digest, path: final, bytes: bytes, isNew: true, ingestedAt: Timestamp.nowMillis())
    }

    /// Registers a new bronze file once its line index is written. Two ETLs of the same input may both copy it
    /// (the same bytes under the same name); the first to register it wins and the other takes its id.
    /// Returns whether this call registered it (false: another ETL had).
    @discardableResult
    public func registerBronze(_ file: inout BronzeFile, source: String, index: [UInt8], lineCount: Int) throws -> Bool {
        let indexPath = try RootGuard.contained((file.path as NSString).deletingPathExtension + ".idx", in: root)
        let staging = try newStaging("bronze/\(file.kind)")
        do {
            try Data(index).write(to: URL(fileURLWithPath: staging), options: .withoutOverwriting)
            guard rename(staging, indexPath) == 0 else { throw WriteFailure.lastError(indexPath) }
        } catch {
            unlink(staging)
            throw WriteFailure.error(error, path: indexPath, root: root)
        }
        let relative = { (path: String) in String(path.dropFirst(self.root.count + 1)) }
        let f = file
        let (winner, inserted): (Row?, Bool) = try write { db in
            try db.execute(
                sql: """
                    INSERT INTO bronze_files(kind, source_path, digest, line_count, byte_count, ingested_at, path, index_path)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(kind, digest) DO NOTHING
                    """,
                arguments: [
                    f.kind, source, f.digest, lineCount, f.bytes, f.ingestedAt, relative(f.path), relative(indexPath),
                ])
            let inserted = db.changesCount > 0
            return (
                try Row.fetchOne(
                    db, sql: "SELECT id, ingested_at FROM bronze_files WHERE kind = ? AND digest = ?",
                    arguments: [f.kind, f.digest]), inserted
            )
        }
        file.id = winner?["id"] ?? 0
        // A concurrent ETL that registered the same file first recorded its own ingestion time: take it.
        if let at: String = winner?["ingested_at"] { file.ingestedAt = at }
        return inserted
    }

    /// Bronze files, oldest first.
    public func bronzeFiles() throws -> [(
        id: Int64, kind: String, digest: String, lines: Int, source: String, ingestedAt: String
    )] {
        try queue.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM bronze_files ORDER BY id").map {
                (
                    id: $0["id"], kind: $0["kind"], digest: $0["digest"], lines: $0["line_count"], source: $0["source_path"],
                    ingestedAt: $0["ingested_at"]
                )
            }
        }
    }

    /// One bronze line: its bytes, checked against the digest recorded when it was ingested.
    public func bronzeLine(file id: Int64, line number: Int) throws -> (content: [UInt8], entry: BronzeLineEntry) {
        let found = try queue.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM bronze_files WHERE id = ?", arguments: [id])
        }
        guard let row = found else { throw StoreError("no bronze file \(id)", exitStatus: .badInput) }
        let index = try Data(contentsOf: URL(fileURLWithPath: (root as NSString).appendingPathComponent(row["index_path"])))
        guard number >= 1, number * 44 <= index.count else {
            throw StoreError("bronze file \(id) has no line \(number)", exitStatus: .badInput)
        }
        let entry = index.withUnsafeBytes { raw in
            BronzeLineEntry(
                offset: raw.loadUnaligned(fromByteOffset: (number - 1) * 44, as: UInt64.self),
                length: raw.loadUnaligned(fromByteOffset: (number - 1) * 44 + 8, as: UInt32.self),
                digest: Array(raw[((number - 1) * 44 + 12)..<((number - 1) * 44 + 44)]))
        }
        guard let handle = FileHandle(forReadingAtPath: (root as NSString).appendingPathComponent(row["path"])) else {
            throw StoreError("bronze file \(id) is missing its copy")
        }
        defer { try? handle.close() }
        try handle.seek(toOffset: entry.offset)
        let content = Array(try handle.read(upToCount: Int(entry.length)) ?? Data())
        var check = StreamingDigest()
        content.withUnsafeBytes { check.update($0) }
        guard check.finalizeBytes() == entry.digest else {
            throw StoreError("bronze file \(id) line \(number) does not match its recorded digest; the copy was altered")
        }
        return (content, entry)
    }

    /// Copies a file, returning the SHA-256 of its bytes and its size.
    static func copy(_ source: String, to destination: String) throws -> (String, Int64) {
        guard let input = FileHandle(forReadingAtPath: source) else {
            throw Failure(.invalidInput, "\(source): cannot be read")
        }
        defer { try? input.close() }
        // Hashed as written; created exclusively, so a link at the staging name is never followed.
        let output = try AppendOnlyFile(path: destination)
        var total: Int64 = 0
        while true {
            let block = try input.read(upToCount: 4 << 20) ?? Data()
            if block.isEmpty { break }
            try block.withUnsafeBytes { try output.write($0) }
            total += Int64(block.count)
        }
        return (try output.finish(), total)
    }
}

/// Appends bronze line-index entries.
struct BronzeIndexBuilder {
    private(set) var bytes: [UInt8] = []

    mutating func append(offset: UInt64, length: UInt32, digest: [UInt8]) {
        withUnsafeBytes(of: offset.littleEndian) { bytes.append(contentsOf: $0) }
        withUnsafeBytes(of: length.littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: digest)
    }
}
