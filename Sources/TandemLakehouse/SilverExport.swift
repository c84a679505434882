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
        for name in ["silver_videos.jsonl", "silver_judgments.jsonl", "silver_video_history.jsonl"] {
            let target = (folder as NSString).appendingPathComponent(name)
            try? FileManager.default.removeItem(atPath: target)
            try FileManager.default.copyItem(atPath: (silverFolder as NSString).appendingPathComponent(name), toPath: target)
        }
    }

    /// One line of `silver_video_history.jsonl`: a version of a video with `valid_from` (null for the first
    /// version: valid from the start of time) and `valid_to` (null for the current version).
    static func historyLine(_ versions: [VideoVersion], _ k: Int, into text: inout JSONText) {
        let v = versions[k].record
        text.raw("{\"video_url\":")
        text.string(v.url)
        text.raw(",\"valid_from\":")
        if k == 0 { text.raw("null") } else { text.timestamp(versions[k].observedAt) }
        text.raw(",\"valid_to\":")
        if k == versions.count - 1 { text.raw("null") } else { text.timestamp(versions[k + 1].observedAt) }
        text.raw(",\"observed_at\":")
        text.timestamp(versions[k].observedAt)
        attributes(v, into: &text)
    }

    static func videoLine(_ v: VideoRecord, into text: inout JSONText) {
        text.raw("{\"video_url\":")
        text.string(v.url)
        attributes(v, into: &text)
    }

    /// A video's attributes after its key fields, closing the line.
    private static func attributes(_ v: VideoRecord, into text: inout JSONText) {
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
