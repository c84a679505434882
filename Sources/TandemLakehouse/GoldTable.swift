import Foundation
import TandemCore
public import TandemFeatures
import TandemStorage

#if canImport(Glibc)
    import Glibc
    private let systemWrite = Glibc.write
#else
    import Darwin
    private let systemWrite = Darwin.write
#endif

/// Writing and reading a gold table version's folder (the format is described on `GoldTable`).
extension GoldTable {
    /// Streams chunks of rows into a staging folder, hashing as it goes.
    public final class Writer {
        public let folder: String
        public let width: Int
        private let keys: AppendOnlyFile
        private let features: AppendOnlyFile
        private var labels: [Int8] = []
        public private(set) var rowCount = 0

        public init(folder: String, width: Int) throws {
            self.folder = folder
            self.width = width
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
            keys = try AppendOnlyFile(path: (folder as NSString).appendingPathComponent("keys.tsv"))
            features = try AppendOnlyFile(path: (folder as NSString).appendingPathComponent("features.f32"))
        }

        /// Appends rows: their key lines, labels and features (`labels.count` × width values).
        public func append(keys keyBytes: [UInt8], labels newLabels: [Int8], features values: [Float]) throws {
            precondition(values.count == newLabels.count * width, "a gold chunk's features must be rows × width")
            try keys.write(keyBytes)
            try values.withUnsafeBytes { try features.write($0) }
            labels.append(contentsOf: newLabels)
            rowCount += newLabels.count
        }

        /// Writes labels and the manifest, and returns the content digest.
        public func finish(featureSet: FeatureSet) throws -> String {
            let keyDigest = try keys.finish()
            let featureDigest = try features.finish()
            let labelData = labels.withUnsafeBytes { Data($0) }
            try labelData.write(
                to: URL(fileURLWithPath: (folder as NSString).appendingPathComponent("labels.i8")), options: .withoutOverwriting)
            var total = StreamingDigest()
            total.update(keyDigest)
            total.update(ContentDigest.sha256Hex(labelData))
            total.update(featureDigest)
            let digest = total.finalizeHex()
            let manifest: [String: Any] = [
                "format": "tandem-gold/1", "feature_set": featureSet.name, "row_count": rowCount,
                "width": width, "features": featureSet.names, "digest": digest,
            ]
            let data = try JSONSerialization.data(withJSONObject: manifest, options: [.sortedKeys, .prettyPrinted])
            try data.write(
                to: URL(fileURLWithPath: (folder as NSString).appendingPathComponent("manifest.json")),
                options: .withoutOverwriting)
            return digest
        }
    }

    /// A gold table read back into memory (the trainer's and evaluator's input).
    /// Reads a gold table folder and checks it against its registered digest.
    public static func load(folder: String, expectedDigest: String) throws -> Loaded {
        func read(_ name: String) throws -> Data {
            let path = (folder as NSString).appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: path) else {
                throw Failure(
                    .failed, "\(path): missing from the gold table; the feature store is damaged, re-run the ETL")
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
            throw Failure(
                .failed, "\(folder): the gold table's content does not match its registered digest; it was altered")
        }
        var queries: [String] = []
        var urls: [String] = []
        var times: [String] = []
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

/// A file written in appends, hashed as it is written, synced when finished. It is created exclusively
/// (`O_CREAT | O_EXCL | O_NOFOLLOW`): a file or a link already at its path is never written through. Failures
/// carry the path and the operating system's error (for `WriteFailure`).
final class AppendOnlyFile {
    let path: String
    private let handle: FileHandle
    private var digest = StreamingDigest()

    init(path: String) throws {
        self.path = path
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw WriteFailure.lastError(path) }
        self.handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
    }

    func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    func write(_ raw: UnsafeRawBufferPointer) throws {
        guard let base = raw.baseAddress, raw.count > 0 else { return }
        digest.update(raw)
        var offset = 0
        while offset < raw.count {
            let n = systemWrite(handle.fileDescriptor, base + offset, raw.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw WriteFailure.lastError(path)
            }
            offset += n
        }
    }

    /// Syncs and closes the file; returns the SHA-256 hex of everything written.
    func finish() throws -> String {
        guard fsync(handle.fileDescriptor) == 0 else { throw WriteFailure.lastError(path) }
        try handle.close()
        return digest.finalizeHex()
    }
}
