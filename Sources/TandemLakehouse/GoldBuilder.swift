import Foundation

/// Builds the gold layer: one row per silver judgment, joined to its silver video, through the one feature
/// code path (`FeatureComputer`).
public enum GoldBuilder {
    /// Writes the gold table into `folder` (and, if asked, a JSON-lines export); returns rows and digest.
    public static func build(
        _ layer: SilverLayer, featureSet: FeatureSet, into folder: String, exportTo exportPath: String?,
        progress: (Double) -> Void
    ) throws -> (Int, String) {
        let computer = FeatureComputer(videos: layer.videos, featureSet: featureSet)
        let writer = try GoldTable.Writer(folder: folder, width: computer.width)
        let export = try exportPath.map { try ExportFile(path: $0) }
        var text = JSONText(capacity: 1 << 20)
        var row = [Float](repeating: 0, count: computer.width)
        var currentQuery = UInt32.max
        var analysis = computer.analyze(normalizedQuery: "")
        let total = max(1, layer.judgments.count)
        for (i, j) in layer.judgments.enumerated() {
            if j.queryIndex != currentQuery {
                currentQuery = j.queryIndex
                analysis = computer.analyze(normalizedQuery: layer.queries[Int(j.queryIndex)])
            }
            let video = layer.videos[Int(j.videoIndex)]
            let when = DataTimestamp(seconds: j.judgedAt.seconds)
            try row.withUnsafeMutableBufferPointer { buffer in
                computer.computeRow(query: analysis, videoIndex: Int(j.videoIndex), at: when, into: buffer)
                try writer.append(
                    query: analysis.normalized, videoURL: video.url, judgedAt: when.silverText, label: j.label,
                    row: UnsafeBufferPointer(buffer))
            }
            if let export {
                text.raw("{\"query\":")
                text.string(analysis.normalized)
                text.raw(",\"video_url\":")
                text.string(video.url)
                text.raw(",\"label\":")
                text.integer(j.label)
                text.raw(",\"features\":[")
                for (k, value) in row.enumerated() {
                    if k > 0 { text.raw(",") }
                    text.number(value)
                }
                text.raw("]}")
                text.newline()
                if text.bytes.count > 1 << 20 {
                    try export.write(text.bytes)
                    text.removeAll()
                }
            }
            if i & 0xFFFF == 0 { progress(Double(i) / Double(total)) }
        }
        if let export {
            try export.write(text.bytes)
            try export.commit()
        }
        progress(1)
        return (writer.rowCount, try writer.finish(featureSet: featureSet))
    }
}

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
        guard FileManager.default.createFile(atPath: temporary, contents: nil) else {
            throw InputError(
                description: "\(path): cannot be written; check the folder's permissions", exitStatus: .infrastructure)
        }
        handle = try FileHandle(forWritingTo: URL(fileURLWithPath: temporary))
    }

    func write(_ bytes: [UInt8]) throws { try handle.write(contentsOf: bytes) }

    func commit() throws {
        try handle.close()
        guard rename(temporary, path) == 0 else {
            throw InputError(
                description: "\(path): cannot be written (\(String(cString: strerror(errno))))", exitStatus: .infrastructure)
        }
    }

    deinit { unlink(temporary) }
}

/// The silver exports of DATA.md: `silver_judgments.jsonl` and `silver_videos.jsonl` with exactly its fields.
public enum SilverExport {
    public static func write(_ layer: SilverLayer, to folder: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var text = JSONText(capacity: 1 << 20)
        let videos = try ExportFile(path: (folder as NSString).appendingPathComponent("silver_videos.jsonl"))
        for v in layer.videos {
            videoLine(v, into: &text)
            if text.bytes.count > 1 << 20 { try videos.write(text.bytes); text.removeAll() }
        }
        try videos.write(text.bytes)
        try videos.commit()
        text.removeAll()
        let judgments = try ExportFile(path: (folder as NSString).appendingPathComponent("silver_judgments.jsonl"))
        for j in layer.judgments {
            judgmentLine(j, layer: layer, into: &text)
            if text.bytes.count > 1 << 20 { try judgments.write(text.bytes); text.removeAll() }
        }
        try judgments.write(text.bytes)
        try judgments.commit()
    }

    static func videoLine(_ v: VideoRecord, into text: inout JSONText) {
        text.raw("{\"video_url\":"); text.string(v.url)
        text.raw(",\"title\":"); text.string(v.title)
        text.raw(",\"description\":"); text.string(v.description)
        text.raw(",\"channel\":"); text.string(v.channel)
        text.raw(",\"duration_s\":"); text.integer(v.durationS)
        text.raw(",\"views\":"); text.integer(v.views)
        text.raw(",\"published\":"); text.string(v.published.silverText)
        text.raw("}"); text.newline()
    }

    static func judgmentLine(_ j: SilverJudgment, layer: SilverLayer, into text: inout JSONText) {
        text.raw("{\"query\":"); text.string(layer.queries[Int(j.queryIndex)])
        text.raw(",\"video_url\":"); text.string(layer.videos[Int(j.videoIndex)].url)
        text.raw(",\"label\":"); text.integer(j.label)
        text.raw(",\"judged_at\":"); text.string(j.judgedAt.silverText)
        text.raw("}"); text.newline()
    }
}
