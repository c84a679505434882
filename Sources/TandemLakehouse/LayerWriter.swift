import Dispatch
import Foundation
import TandemCore
import TandemFeatures

/// Writes the silver files and the gold table of a silver layer in one pass over its rows, in chunks whose
/// halves are computed on both cores (features through the view's one `ViewPlan`, and every byte of text),
/// then written in order by the calling thread, so the output is the same whatever the thread count.
struct LayerWriter {
    let layer: SilverLayer
    let view: FeatureView
    let silverFolder: String
    let goldFolder: String
    let goldExport: String?
    var chunkRows = 32_768
    var workers = 2

    struct Output {
        var silverDigest: String
        var goldDigest: String
        var rows: Int
        /// The corpus statistics the gold rows were computed with (frozen with the table).
        var statistics: CorpusStatistics
    }

    /// Per-worker buffers, reused across chunks.
    final class Buffers: @unchecked Sendable {
        var features: [Float] = []
        var labels: [Int8] = []
        var keys: [UInt8] = []
        var silver = JSONText(capacity: 1 << 20)
        var export = JSONText(capacity: 1 << 20)
        var row: [Float] = []
    }

    func write(progress: (Double) -> Void) throws -> Output {
        // A new folder (never an existing one, nor a link at its name): the staging is this run's alone.
        try FileManager.default.createDirectory(atPath: silverFolder, withIntermediateDirectories: false)
        let videosFile = try AppendOnlyFile(path: (silverFolder as NSString).appendingPathComponent("silver_videos.jsonl"))
        var text = JSONText(capacity: 1 << 20)
        for v in layer.videos {
            SilverExport.videoLine(v, into: &text)
            if text.bytes.count > 1 << 20 {
                try videosFile.write(text.bytes)
                text.removeAll()
            }
        }
        try videosFile.write(text.bytes)
        let videosDigest = try videosFile.finish()
        let historyFile = try AppendOnlyFile(
            path: (silverFolder as NSString).appendingPathComponent("silver_video_history.jsonl"))
        text.removeAll()
        // Every version of every video, flattened: the plan reads a row's video as of its judgment.
        var versions: [VideoRecord] = []
        var latest: [Int] = []
        versions.reserveCapacity(layer.videos.count)
        for h in layer.history {
            for k in h.indices {
                SilverExport.historyLine(h, k, into: &text)
                versions.append(h[k].record)
            }
            latest.append(versions.count - 1)
            if text.bytes.count > 1 << 20 {
                try historyFile.write(text.bytes)
                text.removeAll()
            }
        }
        try historyFile.write(text.bytes)
        let historyDigest = try historyFile.finish()

        let computer = ViewPlan(view: view, videos: versions, corpus: latest)
        let latestVersion = latest
        let width = computer.width
        let judgmentsFile = try AppendOnlyFile(path: (silverFolder as NSString).appendingPathComponent("silver_judgments.jsonl"))
        let gold = try GoldTable.Writer(folder: goldFolder, width: width)
        let export = try goldExport.map { try ExportFile(path: $0) }
        // Two sets of buffers: while chunk N is written and digested on this thread, chunk N + 1 is computed on
        // the workers, so that both cores stay busy (the files are written in chunk order all the same).
        let workers = self.workers
        let sets = (0..<2).map { _ in (0..<workers).map { _ in Buffers() } }
        let total = layer.judgments.count
        let exporting = export != nil
        @Sendable func compute(_ range: Range<Int>, into buffers: [Buffers]) {
            let per = (range.count + workers - 1) / workers
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                let lo = min(range.upperBound, range.lowerBound + w * per)
                let hi = min(range.upperBound, lo + per)
                fill(buffers[w], rows: lo..<hi, computer: computer, latest: latestVersion, exporting: exporting)
            }
        }
        let chunks = stride(from: 0, to: total, by: chunkRows).map { $0..<min(total, $0 + chunkRows) }
        if let first = chunks.first { compute(first, into: sets[0]) }
        let next = DispatchGroup()
        defer { next.wait() }
        for (i, chunk) in chunks.enumerated() {
            if i + 1 < chunks.count {
                let (range, buffers) = (chunks[i + 1], sets[(i + 1) % 2])
                next.enter()
                DispatchQueue.global().async {
                    compute(range, into: buffers)
                    next.leave()
                }
            }
            for b in sets[i % 2] {
                try judgmentsFile.write(b.silver.bytes)
                try gold.append(keys: b.keys, labels: b.labels, features: b.features)
                if let export { try export.write(b.export.bytes) }
            }
            next.wait()
            progress(Double(chunk.upperBound) / Double(max(1, total)))
        }
        let judgmentsDigest = try judgmentsFile.finish()
        try export?.commit()
        var silver = StreamingDigest()
        silver.update(videosDigest)
        silver.update(judgmentsDigest)
        silver.update(historyDigest)
        return Output(
            silverDigest: silver.finalizeHex(), goldDigest: try gold.finish(featureSet: view.featureSet), rows: gold.rowCount,
            statistics: computer.statistics)
    }

    /// Computes one half-chunk: features, labels, gold keys, silver lines and (if asked) gold export lines.
    /// The version of video `v` as of `time`: the latest observed at or before it, else the first (valid from the
    /// start of time); an index into the flattened versions, whose last for `v` is `latest[v]`.
    @inline(__always)
    private func version(_ v: Int, at time: DataTimestamp, latest: [Int]) -> Int {
        let h = layer.history[v]
        if h.count == 1 { return latest[v] }
        var lo = 1
        var hi = h.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if h[mid].observedAt.seconds <= time.seconds { lo = mid + 1 } else { hi = mid }
        }
        return latest[v] - (h.count - lo)
    }

    private func fill(_ b: Buffers, rows: Range<Int>, computer: ViewPlan, latest: [Int], exporting: Bool) {
        let width = computer.width
        b.features.reserveCapacity(rows.count * width)
        b.features.removeAll(keepingCapacity: true)
        b.labels.removeAll(keepingCapacity: true)
        b.keys.removeAll(keepingCapacity: true)
        b.silver.removeAll()
        b.export.removeAll()
        if b.row.count != width { b.row = [Float](repeating: 0, count: width) }
        var currentQuery = UInt32.max
        var analysis = computer.analyze(normalizedQuery: "")
        for i in rows {
            let j = layer.judgments[i]
            if j.queryIndex != currentQuery {
                currentQuery = j.queryIndex
                analysis = computer.analyze(normalizedQuery: layer.queries[Int(j.queryIndex)])
            }
            let when = DataTimestamp(seconds: j.judgedAt.seconds)
            b.row.withUnsafeMutableBufferPointer {
                computer.computeRow(
                    query: analysis, videoIndex: version(Int(j.videoIndex), at: when, latest: latest), at: when, into: $0)
            }
            b.features.append(contentsOf: b.row)
            b.labels.append(j.label)
            let query = layer.queries[Int(j.queryIndex)]
            let url = layer.videos[Int(j.videoIndex)].url
            b.keys.append(contentsOf: query.utf8)
            b.keys.append(0x09)
            b.keys.append(contentsOf: url.utf8)
            b.keys.append(0x09)
            when.appendSilverText(to: &b.keys)
            b.keys.append(0x0A)
            b.silver.raw("{\"query\":")
            b.silver.string(query)
            b.silver.raw(",\"video_url\":")
            b.silver.string(url)
            b.silver.raw(",\"label\":")
            b.silver.integer(j.label)
            b.silver.raw(",\"judged_at\":")
            b.silver.timestamp(when)
            b.silver.raw("}")
            b.silver.newline()
            if exporting {
                b.export.raw("{\"query\":")
                b.export.string(query)
                b.export.raw(",\"video_url\":")
                b.export.string(url)
                b.export.raw(",\"label\":")
                b.export.integer(j.label)
                b.export.raw(",\"features\":[")
                for (k, value) in b.row.enumerated() {
                    if k > 0 { b.export.raw(",") }
                    b.export.number(value)
                }
                b.export.raw("]}")
                b.export.newline()
            }
        }
    }
}
