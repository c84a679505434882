import Foundation
import TandemCore
import TandemFeatures

/// A file written beside its final path and renamed into place when complete, so a reader never sees half of it.
final class ExportFile {
    let path: String
    let temporary: String
    let handle: FileHandle

    init(path: String) throws {
        self.path = path
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        temporary = path + ".tmp-\(getpid())"
        guard FileManager.default.createFile(atPath: temporary, contents: nil),
            let handle = FileHandle(forWritingAtPath: temporary)
        else {
            throw Failure(.failed, "\(path): cannot be written; check the folder's permissions")
        }
        self.handle = handle
    }

    func write(_ bytes: [UInt8]) throws { try handle.write(contentsOf: bytes) }

    func commit() throws {
        try handle.close()
        guard rename(temporary, path) == 0 else {
            throw Failure(.failed, "\(path): cannot be written (\(String(cString: strerror(errno))))")
        }
    }

    deinit { unlink(temporary) }
}

/// The silver exports of docs/data-contract.md: `silver_judgments.jsonl` and `silver_videos.jsonl` with exactly its fields.
/// A silver version's files are already in this form; exporting copies them.
public enum SilverExport {
    /// Copies a silver version's files into `folder`.
    public static func copy(from silverFolder: String, to folder: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for name in ["silver_videos.jsonl", "silver_judgments.jsonl"] {
            let target = (folder as NSString).appendingPathComponent(name)
            try? FileManager.default.removeItem(atPath: target)
            try FileManager.default.copyItem(atPath: (silverFolder as NSString).appendingPathComponent(name), toPath: target)
        }
    }

    static func videoLine(_ v: VideoRecord, into text: inout JSONText) {
        text.raw("{\"video_url\":")
        text.string(v.url)
        text.raw(",\"title\":")
        text.string(v.title)
        text.raw(",\"description\":")
        text.string(v.description)
        text.raw(",\"channel\":")
        text.string(v.channel)
        text.raw(",\"duration_s\":")
        text.integer(v.durationS)
        text.raw(",\"views\":")
        text.integer(v.views)
        text.raw(",\"published\":")
        text.timestamp(v.published)
        text.raw("}")
        text.newline()
    }
}
