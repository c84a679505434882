import Dispatch
import Foundation
import TandemCore
public import TandemFeatures

/// The medallion ETL: raw JSON lines → bronze (every line kept) → silver (canonical, deduplicated, with the
/// quarantine) → gold (features of a feature set), registered as a new feature table version.
///
/// A failure at any point leaves the previous feature table version as the latest: bronze copies and silver
/// and gold folders are written under staging names and moved into place by the transaction that registers
/// them. Both cores are used: judgment lines are checked, and gold rows computed, in halves of each block.
public struct ETLPipeline {
    /// What to run.
    public struct Options: Sendable {
        public var environment: String
        public var inputFolder: String
        /// The feature view whose gold table to build (the built-in relevance_v1 when nil).
        public var view: FeatureView?
        public var exportSilver: String?
        public var exportGold: String?
        public var codeCommit: String?
        public var codeDirty: Bool?

        public init(
            environment: String, inputFolder: String, view: FeatureView? = nil, exportSilver: String? = nil,
            exportGold: String? = nil, codeCommit: String? = nil, codeDirty: Bool? = nil
        ) {
            self.environment = environment
            self.inputFolder = inputFolder
            self.view = view
            self.exportSilver = exportSilver
            self.exportGold = exportGold
            self.codeCommit = codeCommit
            self.codeDirty = codeDirty
        }
    }

    public let store: FeatureStore
    public let options: Options
    /// Called with a stage name and a fraction done, for a progress bar.
    public var progress: (@Sendable (String, Double) -> Void)?
    /// How many threads check lines and compute rows.
    public var workers = 2

    public init(store: FeatureStore, options: Options) {
        self.store = store
        self.options = options
    }

    public func run() throws -> ETLReport {
        var timer = StageTimer()
        let view = try options.view ?? FeatureViewCatalogue.relevanceV1()
        try store.checkRecordable(view)
        let sources = ["videos", "judgments"].map { (options.inputFolder as NSString).appendingPathComponent("\($0).jsonl") }
        // Open both first: a missing, empty or non-UTF-8 file fails before anything is written.
        for source in sources {
            _ = try LineReader(path: source, missing: "the input folder must hold videos.jsonl and judgments.jsonl")
        }

        var silver = SilverBuilder()
        var inputs: [String: ETLReport.Input] = [:]
        var appended = 0
        for (kind, source) in zip(["videos", "judgments"], sources) {
            var bronze = try store.stageBronze(kind: kind, source: source)
            timer.lap("bronze_copy_\(kind)")
            var index = BronzeIndexBuilder()
            silver.defaultObservedAt = DataTimestamp(seconds: (DataTimestamp(bronze.ingestedAt) ?? .init(seconds: 0)).seconds)
            let lines = try ingest(kind: kind, bronze: bronze, source: source, into: &silver, index: &index)
            var registered = false
            if bronze.isNew {
                registered = try store.registerBronze(&bronze, source: source, index: index.bytes, lineCount: lines)
                if registered { appended += lines }
                // Another ETL of the same file registered it first, at its own time: observe as it did.
                let ingested = DataTimestamp(seconds: (DataTimestamp(bronze.ingestedAt) ?? .init(seconds: 0)).seconds)
                if kind == "videos", ingested != silver.defaultObservedAt { silver.retimeDefaultObservations(to: ingested) }
            }
            inputs[kind] = ETLReport.Input(
                path: source, digest: bronze.digest, lines: lines, bytes: bronze.bytes, bronzeFile: bronze.id ?? 0,
                appended: registered)
            timer.lap("read_\(kind)")
        }

        let layer = silver.finish(previous: try store.silverHistory())
        timer.lap("silver_build")
        let quarantine = Self.quarantineReport(silver)
        guard !layer.judgments.isEmpty else {
            // Refused before anything is written to silver or gold: the latest version stays the latest.
            let examples =
                silver.quarantine.filter { $0.kind == "judgments" }.prefix(5)
                + silver.quarantine.filter { $0.kind == "videos" }.prefix(3)
            throw ETLError.noSilverJudgments(
                input: options.inputFolder, quarantine: quarantine, examples: Array(examples),
                latest: try store.featureTables(set: view.name).last?.reference)
        }

        // Staging owned by this process (a killed run's is reclaimed by the next one), removed on every way out.
        let silverStaging = try store.newStaging("silver")
        let goldStaging = try store.newStaging("gold")
        defer {
            try? FileManager.default.removeItem(atPath: silverStaging)
            try? FileManager.default.removeItem(atPath: goldStaging)
        }
        let written = try store.writing(goldStaging) {
            try LayerWriter(
                layer: layer, view: view, silverFolder: silverStaging, goldFolder: goldStaging,
                goldExport: options.exportGold, workers: workers
            ).write { fraction in progress?("silver+gold", fraction) }
        }
        timer.lap("silver_gold_write")

        let silverVersion: Int64
        let silverUnchanged: Bool
        if let latest = try store.latestSilver(), latest.digest == written.silverDigest {
            silverVersion = latest.id
            silverUnchanged = true
        } else {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let registered = try store.registerSilver(
                stagingFolder: silverStaging, videos: layer.videos, history: layer.history, quarantine: silver.quarantine,
                videosFile: inputs["videos"]?.bronzeFile ?? 0, judgmentsFile: inputs["judgments"]?.bronzeFile ?? 0,
                digest: written.silverDigest, report: String(decoding: try encoder.encode(quarantine), as: UTF8.self))
            silverVersion = registered.id
            silverUnchanged = !registered.isNew
        }
        let table: FeatureTableVersion
        let unchanged: Bool
        if let latest = try store.featureTables(set: view.name).last, latest.digest == written.goldDigest,
            try store.view(of: latest).digest == view.digest
        {
            table = latest
            unchanged = true
        } else {
            let lineage = FeatureTableVersion.Lineage(
                inputs: ["videos.jsonl": inputs["videos"]?.digest ?? "", "judgments.jsonl": inputs["judgments"]?.digest ?? ""],
                codeCommit: options.codeCommit, codeDirty: options.codeDirty,
                bronzeFiles: [inputs["videos"]?.bronzeFile ?? 0, inputs["judgments"]?.bronzeFile ?? 0],
                silverVersion: silverVersion)
            // A concurrent ETL of the same input may have registered this content first: then its version is ours.
            let registered = try store.register(
                stagingFolder: goldStaging, view: view, statistics: written.statistics, rowCount: written.rows,
                digest: written.goldDigest,
                lineage: lineage)
            table = registered.table
            unchanged = !registered.isNew
        }
        timer.lap("register")
        if let folder = options.exportSilver {
            try store.writing(folder) { try SilverExport.copy(from: store.silverFolder(version: silverVersion), to: folder) }
            timer.lap("export_silver")
        }
        let total = timer.total()
        let lineCount = (inputs["videos"]?.lines ?? 0) + (inputs["judgments"]?.lines ?? 0)
        return ETLReport(
            environment: options.environment, featuresRoot: store.root, inputs: inputs,
            rows: .init(
                bronzeLines: appended, silverVideos: layer.videos.count, silverJudgments: layer.judgments.count,
                quarantined: silver.quarantine.count, goldRows: written.rows),
            silverVersion: silverVersion, silverUnchanged: silverUnchanged, featureTable: table.reference,
            featureTableDigest: table.digest, featureTableUnchanged: unchanged, quarantine: quarantine,
            timingsMs: timer.laps, rowsPerSecond: Double(lineCount) / max(1e-9, total))
    }

    /// Per-worker state for checking judgment lines.
    final class Worker: @unchecked Sendable {
        var parser = RawRecordParser()
        var outcomes: [Result<ValidJudgment, QuarantineReason>] = []
        var digests: [UInt8] = []
    }

    /// Reads a bronze copy: checks every line (judgments on all workers), feeds silver, and builds the line index.
    private func ingest(
        kind: String, bronze: BronzeFile, source: String, into silver: inout SilverBuilder,
        index: inout BronzeIndexBuilder
    ) throws -> Int {
        let reader = try LineReader(path: bronze.path)
        let indexing = bronze.isNew
        var lines = 0
        let offset = kind == "videos" ? 0.0 : 0.1
        let share = kind == "videos" ? 0.1 : 0.9
        if kind == "videos" {
            var parser = RawRecordParser()
            try reader.forEachBlock(longLine: { long in
                long.prefix.withUnsafeBufferPointer {
                    silver.addVideo(.failure(.badJSON), line: $0, file: source, lineNumber: long.number, detail: long.detail)
                }
                if indexing { index.append(offset: UInt64(long.offset), length: long.indexedLength, digest: long.digest) }
                lines += 1
            }) { buffer, ranges, first, bufferOffset in
                for (k, range) in ranges.enumerated() {
                    let line = UnsafeBufferPointer(rebasing: buffer[range])
                    silver.addVideo(parser.video(line), line: line, file: source, lineNumber: first + k)
                    if indexing {
                        index.append(
                            offset: UInt64(bufferOffset) + UInt64(range.lowerBound), length: UInt32(range.count),
                            digest: LineDigest.sha256(UnsafeRawBufferPointer(line)))
                    }
                }
                lines += ranges.count
                progress?("bronze+silver", offset + share * Double(bufferOffset) / Double(max(1, reader.size)))
            }
            return lines
        }
        let workers = (0..<self.workers).map { _ in Worker() }
        let videos = silver.videoIndex
        try reader.forEachBlock(longLine: { long in
            long.prefix.withUnsafeBufferPointer {
                silver.addJudgment(.failure(.badJSON), line: $0, file: source, lineNumber: long.number, detail: long.detail)
            }
            if indexing { index.append(offset: UInt64(long.offset), length: long.indexedLength, digest: long.digest) }
            lines += 1
        }) { buffer, ranges, first, bufferOffset in
            let per = (ranges.count + workers.count - 1) / workers.count
            let shared = SharedBuffer(buffer)
            DispatchQueue.concurrentPerform(iterations: workers.count) { w in
                let buffer = shared.buffer
                let worker = workers[w]
                worker.outcomes.removeAll(keepingCapacity: true)
                worker.digests.removeAll(keepingCapacity: true)
                let lo = min(ranges.count, w * per)
                let hi = min(ranges.count, lo + per)
                for range in ranges[lo..<hi] {
                    let line = UnsafeBufferPointer(rebasing: buffer[range])
                    worker.outcomes.append(worker.parser.judgment(line, videos: videos))
                    if indexing { worker.digests.append(contentsOf: LineDigest.sha256(UnsafeRawBufferPointer(line))) }
                }
            }
            var k = 0
            for worker in workers {
                for (n, outcome) in worker.outcomes.enumerated() {
                    let range = ranges[k]
                    silver.addJudgment(
                        outcome, line: UnsafeBufferPointer(rebasing: buffer[range]), file: source, lineNumber: first + k)
                    if indexing {
                        index.append(
                            offset: UInt64(bufferOffset) + UInt64(range.lowerBound), length: UInt32(range.count),
                            digest: Array(worker.digests[(n * 32)..<(n * 32 + 32)]))
                    }
                    k += 1
                }
            }
            lines += ranges.count
            progress?("bronze+silver", offset + share * Double(bufferOffset) / Double(max(1, reader.size)))
        }
        return lines
    }

    static func quarantineReport(_ silver: SilverBuilder) -> ETLReport.Quarantine {
        ETLReport.Quarantine(
            judgments: .init(
                linesTotal: silver.judgmentCounts.linesTotal, quarantined: silver.judgmentCounts.quarantined,
                valid: silver.judgmentCounts.valid, duplicatesDropped: silver.judgmentCounts.duplicatesDropped,
                silverJudgments: silver.judgmentCounts.silver),
            videos: .init(
                linesTotal: silver.videoCounts.linesTotal, quarantined: silver.videoCounts.quarantined,
                valid: silver.videoCounts.valid, duplicatesDropped: silver.videoCounts.duplicatesDropped,
                silverVideos: silver.videoCounts.silver))
    }
}

/// A read-only buffer handed to worker threads for the duration of one `concurrentPerform`.
struct SharedBuffer: @unchecked Sendable {
    let buffer: UnsafeBufferPointer<UInt8>
    init(_ buffer: UnsafeBufferPointer<UInt8>) { self.buffer = buffer }
}

/// SHA-256 of one bronze line.
enum LineDigest {
    static func sha256(_ line: UnsafeRawBufferPointer) -> [UInt8] {
        var d = StreamingDigest()
        d.update(line)
        return d.finalizeBytes()
    }
}

/// Wall-clock laps of a run, in milliseconds.
struct StageTimer {
    private let started = ContinuousClock.now
    private var last = ContinuousClock.now
    private(set) var laps: [String: Double] = [:]

    mutating func lap(_ name: String) {
        let now = ContinuousClock.now
        laps[name] = Self.ms(now - last)
        last = now
    }

    /// Seconds since the start; records `total`.
    mutating func total() -> Double {
        let ms = Self.ms(ContinuousClock.now - started)
        laps["total"] = ms
        return ms / 1000
    }

    static func ms(_ d: Duration) -> Double {
        d.seconds * 1000
    }
}
