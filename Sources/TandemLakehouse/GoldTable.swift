import Foundation
import TandemCore

/// The on-disk form of a gold table version (one folder, immutable once registered):
///
/// - `keys.tsv`: one line per row, `query \t video_url \t judged_at` (queries and canonical URLs hold no
///   tabs or line breaks after normalisation);
/// - `labels.i8`: one signed byte per row;
/// - `features.f32`: rows × width float32, little-endian, row-major;
/// - `manifest.json`: feature set, schema, row count and digest.
///
/// The digest is SHA-256 over `keys.tsv`, then `labels.i8`, then `features.f32`.
public enum GoldTable {
    /// Streams rows into a staging folder, hashing as it goes.
    public final class Writer {
        public let folder: String
        public let width: Int
        private let keys: FileHandle
        private let features: FileHandle
        private var labels: [Int8] = []
        private var keyBuffer: [UInt8] = []
        private var featureBuffer: [Float] = []
        private var keyDigest = StreamingDigest()
        private var featureDigest = StreamingDigest()
        public private(set) var rowCount = 0

        public init(folder: String, width: Int) throws {
            self.folder = folder
            self.width = width
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            for name in ["keys.tsv", "features.f32"] {
                FileManager.default.createFile(atPath: (folder as NSString).appendingPathComponent(name), contents: nil)
            }
            keys = try FileHandle(forWritingTo: URL(fileURLWithPath: (folder as NSString).appendingPathComponent("keys.tsv")))
            features = try FileHandle(
                forWritingTo: URL(fileURLWithPath: (folder as NSString).appendingPathComponent("features.f32")))
            keyBuffer.reserveCapacity(1 << 20)
            featureBuffer.reserveCapacity(1 << 18)
        }

        /// Appends one row.
        public func append(query: String, videoURL: String, judgedAt: String, label: Int8, row: UnsafeBufferPointer<Float>) throws
        {
            keyBuffer.append(contentsOf: query.utf8)
            keyBuffer.append(0x09)
            keyBuffer.append(contentsOf: videoURL.utf8)
            keyBuffer.append(0x09)
            keyBuffer.append(contentsOf: judgedAt.utf8)
            keyBuffer.append(0x0A)
            labels.append(label)
            featureBuffer.append(contentsOf: row)
            rowCount += 1
            if keyBuffer.count >= 1 << 20 || featureBuffer.count >= 1 << 18 { try flush() }
        }

        private func flush() throws {
            keyBuffer.withUnsafeBytes { keyDigest.update($0) }
            try keys.write(contentsOf: keyBuffer)
            keyBuffer.removeAll(keepingCapacity: true)
            try featureBuffer.withUnsafeBytes { raw in
                featureDigest.update(raw)
                try features.write(contentsOf: raw)
            }
            featureBuffer.removeAll(keepingCapacity: true)
        }

        /// Flushes, writes labels and the manifest, and returns the content digest.
        public func finish(featureSet: FeatureSet) throws -> String {
            try flush()
            try keys.synchronize()
            try features.synchronize()
            try keys.close()
            try features.close()
            let labelData = labels.withUnsafeBytes { Data($0) }
            try labelData.write(to: URL(fileURLWithPath: (folder as NSString).appendingPathComponent("labels.i8")))
            var total = StreamingDigest()
            total.update(keyDigest.finalizeHex())
            total.update(ContentDigest.sha256Hex(labelData))
            total.update(featureDigest.finalizeHex())
            let digest = total.finalizeHex()
            let manifest: [String: Any] = [
                "format": "tandem-gold/1", "feature_set": featureSet.name, "row_count": rowCount,
                "width": width, "features": featureSet.names, "digest": digest,
            ]
            let data = try JSONSerialization.data(withJSONObject: manifest, options: [.sortedKeys, .prettyPrinted])
            try data.write(to: URL(fileURLWithPath: (folder as NSString).appendingPathComponent("manifest.json")))
            return digest
        }
    }

    /// A gold table read back into memory (the trainer's and evaluator's input).
    public struct Loaded: Sendable {
        public var queries: [String]
        public var videoURLs: [String]
        public var judgedAt: [String]
        public var labels: [Int8]
        public var features: [Float]
        public var width: Int
        public var rowCount: Int { labels.count }
    }

    /// Reads a gold table folder and checks it against its registered digest.
    public static func load(folder: String, expectedDigest: String) throws -> Loaded {
        func read(_ name: String) throws -> Data {
            let path = (folder as NSString).appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: path) else {
                throw UsageError(
                    "\(path): missing from the gold table; the feature store is damaged, re-run the ETL",
                    exitStatus: .infrastructure)
            }
            return data
        }
        let keyData = try read("keys.tsv")
        let labelData = try read("labels.i8")
        let featureData = try read("features.f32")
        var total = StreamingDigest()
        total.update(ContentDigest.sha256Hex(keyData))
        total.update(ContentDigest.sha256Hex(labelData))
        total.update(ContentDigest.sha256Hex(featureData))
        guard total.finalizeHex() == expectedDigest else {
            throw UsageError(
                "\(folder): the gold table's content does not match its registered digest; it was altered",
                exitStatus: .infrastructure)
        }
        var queries: [String] = [], urls: [String] = [], times: [String] = []
        keyData.withUnsafeBytes { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            for line in bytes.split(separator: 0x0A) {
                let fields = line.split(separator: 0x09, omittingEmptySubsequences: false)
                queries.append(String(decoding: fields[0], as: UTF8.self))
                urls.append(fields.count > 1 ? String(decoding: fields[1], as: UTF8.self) : "")
                times.append(fields.count > 2 ? String(decoding: fields[2], as: UTF8.self) : "")
            }
        }
        let labels = labelData.withUnsafeBytes { Array($0.bindMemory(to: Int8.self)) }
        let features = featureData.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        let width = labels.isEmpty ? 0 : features.count / labels.count
        return Loaded(queries: queries, videoURLs: urls, judgedAt: times, labels: labels, features: features, width: width)
    }
}
