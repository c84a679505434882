import Foundation
import TandemCore

/// The medallion ETL: raw JSON lines → bronze (every line kept) → silver (canonical, deduplicated, with the
/// quarantine) → gold (features of a feature set), registered as a new feature table version.
///
/// A failure at any point leaves the previous feature table version as the latest: bronze is appended in
/// one transaction per file, silver is replaced in one transaction, and gold is written to a staging folder
/// that is moved into place by the transaction that registers it.
public struct ETLPipeline {
    /// What to run.
    public struct Options: Sendable {
        public var environment: String
        public var inputFolder: String
        public var featureSet: FeatureSet
        public var exportSilver: String?
        public var exportGold: String?
        public var codeCommit: String?
        public var codeDirty: Bool?

        public init(
            environment: String, inputFolder: String, featureSet: FeatureSet = .relevanceV1,
            exportSilver: String? = nil, exportGold: String? = nil, codeCommit: String? = nil, codeDirty: Bool? = nil
        ) {
            self.environment = environment
            self.inputFolder = inputFolder
            self.featureSet = featureSet
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

    public init(store: FeatureStore, options: Options) {
        self.store = store
        self.options = options
    }

    public func run() throws -> ETLReport {
        let clock = ContinuousClock()
        let started = clock.now
        var timings: [String: Double] = [:]
        func lap(_ name: String, since: ContinuousClock.Instant) {
            let d = clock.now - since
            timings[name] = Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
        }
        let videosPath = (options.inputFolder as NSString).appendingPathComponent("videos.jsonl")
        let judgmentsPath = (options.inputFolder as NSString).appendingPathComponent("judgments.jsonl")
        // Open both first: a missing, empty or non-UTF-8 file fails before anything is written.
        let videoReader = try LineReader(path: videosPath)
        let judgmentReader = try LineReader(path: judgmentsPath)

        var t = clock.now
        let videosDigest = try ContentDigest.sha256Hex(ofFile: videosPath)
        let judgmentsDigest = try ContentDigest.sha256Hex(ofFile: judgmentsPath)
        lap("digest_inputs", since: t)

        var silver = SilverBuilder()
        var inputs: [String: ETLReport.Input] = [:]
        var bronzeAppended = 0
        let totalBytes = Double(videoReader.size + judgmentReader.size)
        for (kind, reader, digest) in [("videos", videoReader, videosDigest), ("judgments", judgmentReader, judgmentsDigest)] {
            t = clock.now
            let offset = kind == "videos" ? 0 : Double(videoReader.size)
            let file = reader.path
            var lines = 0
            let consume: (UnsafeBufferPointer<UInt8>, [Range<Int>], Int, Int64) throws -> Void = {
                buffer, ranges, first, position in
                for (k, range) in ranges.enumerated() {
                    let line = UnsafeBufferPointer(rebasing: buffer[range])
                    if kind == "videos" {
                        silver.addVideo(line, file: file, lineNumber: first + k)
                    } else {
                        silver.addJudgment(line, file: file, lineNumber: first + k)
                    }
                }
                lines += ranges.count
                progress?("bronze+silver", (offset + Double(position)) / totalBytes)
            }
            let existing = try store.bronzeFile(kind: kind, digest: digest)
            let fileID: Int64
            if let existing {
                try reader.forEachBlock(consume)
                fileID = existing
            } else {
                fileID = try store.ingestBronze(kind: kind, reader: reader, digest: digest, sourcePath: file, eachBlock: consume)
                bronzeAppended += lines
            }
            inputs[kind] = ETLReport.Input(
                path: file, digest: digest, lines: lines, bytes: reader.size,
                bronzeFile: fileID, appended: existing == nil)
            lap("read_\(kind)", since: t)
        }

        t = clock.now
        let layer = silver.finish()
        let silverDigest = Self.silverDigest(layer)
        lap("silver_build", since: t)
        let quarantine = ETLReport.Quarantine(
            judgments: .init(
                linesTotal: silver.judgmentCounts.linesTotal, quarantined: silver.judgmentCounts.quarantined,
                valid: silver.judgmentCounts.valid, duplicatesDropped: silver.judgmentCounts.duplicatesDropped,
                silverJudgments: silver.judgmentCounts.silver),
            videos: .init(
                linesTotal: silver.videoCounts.linesTotal, quarantined: silver.videoCounts.quarantined,
                valid: silver.videoCounts.valid, duplicatesDropped: silver.videoCounts.duplicatesDropped,
                silverVideos: silver.videoCounts.silver))

        t = clock.now
        let silverVersion: Int64
        let silverUnchanged: Bool
        if let latest = try store.latestSilver(), latest.digest == silverDigest {
            silverVersion = latest.id
            silverUnchanged = true
        } else {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let report = String(decoding: try encoder.encode(quarantine), as: UTF8.self)
            silverVersion = try store.writeSilver(
                layer, quarantine: silver.quarantine, videosFile: inputs["videos"]?.bronzeFile ?? 0,
                judgmentsFile: inputs["judgments"]?.bronzeFile ?? 0, digest: silverDigest, report: report)
            silverUnchanged = false
        }
        lap("silver_write", since: t)

        t = clock.now
        progress?("gold", 0)
        let staging = (store.root as NSString).appendingPathComponent("gold/.staging-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(atPath: staging) }
        let (rowCount, goldDigest) = try GoldBuilder.build(
            layer, featureSet: options.featureSet, into: staging,
            exportTo: options.exportGold
        ) { fraction in
            progress?("gold", fraction)
        }
        lap("gold_build", since: t)

        t = clock.now
        let table: FeatureTableVersion
        let unchanged: Bool
        if let latest = try store.featureTables(set: options.featureSet.name).last, latest.digest == goldDigest {
            table = latest
            unchanged = true
        } else {
            let lineage = FeatureTableVersion.Lineage(
                inputs: ["videos.jsonl": videosDigest, "judgments.jsonl": judgmentsDigest],
                codeCommit: options.codeCommit, codeDirty: options.codeDirty,
                bronzeFiles: [inputs["videos"]?.bronzeFile ?? 0, inputs["judgments"]?.bronzeFile ?? 0],
                silverVersion: silverVersion)
            table = try store.register(
                stagingFolder: staging, featureSet: options.featureSet, rowCount: rowCount,
                digest: goldDigest, lineage: lineage)
            unchanged = false
        }
        lap("register", since: t)

        if let folder = options.exportSilver {
            t = clock.now
            try SilverExport.write(layer, to: folder)
            lap("export_silver", since: t)
        }
        lap("total", since: started)
        let lineCount = (inputs["videos"]?.lines ?? 0) + (inputs["judgments"]?.lines ?? 0)
        return ETLReport(
            environment: options.environment, featuresRoot: store.root, inputs: inputs,
            rows: .init(
                bronzeLines: bronzeAppended, silverVideos: layer.videos.count, silverJudgments: layer.judgments.count,
                quarantined: silver.quarantine.count, goldRows: rowCount),
            silverVersion: silverVersion, silverUnchanged: silverUnchanged, featureTable: table.reference,
            featureTableDigest: table.digest, featureTableUnchanged: unchanged, quarantine: quarantine, timingsMs: timings,
            rowsPerSecond: Double(lineCount) / max(1e-9, (timings["total"] ?? 1) / 1000))
    }

    /// SHA-256 of the silver layer's content, to tell whether a run changed it.
    static func silverDigest(_ layer: SilverLayer) -> String {
        var digest = StreamingDigest()
        var text = JSONText(capacity: 1 << 20)
        for v in layer.videos {
            SilverExport.videoLine(v, into: &text)
            if text.bytes.count > 1 << 20 { text.bytes.withUnsafeBytes { digest.update($0) }; text.removeAll() }
        }
        for j in layer.judgments {
            SilverExport.judgmentLine(j, layer: layer, into: &text)
            if text.bytes.count > 1 << 20 { text.bytes.withUnsafeBytes { digest.update($0) }; text.removeAll() }
        }
        text.bytes.withUnsafeBytes { digest.update($0) }
        return digest.finalizeHex()
    }
}
