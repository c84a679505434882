import Crypto
public import Foundation

/// SHA-256 content digests, as lower-case hex: the form lineage, lock files and audit logs record.
public enum ContentDigest {
    /// The SHA-256 of some bytes, as 64 hex digits.
    public static func sha256Hex<D: DataProtocol>(_ data: D) -> String {
        hex(SHA256.hash(data: data))
    }

    /// The SHA-256 of a UTF-8 string, as 64 hex digits.
    public static func sha256Hex(_ text: String) -> String {
        hex(SHA256.hash(data: Array(text.utf8)))
    }

    /// The SHA-256 of a raw buffer, as 64 hex digits.
    public static func sha256Hex(_ buffer: UnsafeRawBufferPointer) -> String {
        hex(SHA256.hash(data: buffer))
    }

    /// Hex of any digest.
    public static func hex<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The SHA-256 of a whole file, read in 1 MiB blocks.
    public static func sha256Hex(ofFile path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw Failure(.invalidInput, "\(path): cannot be read; check that it exists and is readable")
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        while true {
            let block = try handle.read(upToCount: 1 << 20) ?? Data()
            if block.isEmpty { break }
            hasher.update(data: block)
        }
        return hex(hasher.finalize())
    }
}

/// An incremental SHA-256 for content that is produced piece by piece (a gold table, an artifact).
public struct StreamingDigest {
    fileprivate var hasher = SHA256()

    /// A new, empty digest.
    public init() {}

    /// Adds bytes.
    public mutating func update(_ buffer: UnsafeRawBufferPointer) { hasher.update(bufferPointer: buffer) }

    /// Adds bytes.
    public mutating func update<D: DataProtocol>(_ data: D) { hasher.update(data: data) }

    /// Adds the UTF-8 of a string.
    public mutating func update(_ text: String) { hasher.update(data: Array(text.utf8)) }

    /// The digest as 64 hex digits.
    public func finalizeHex() -> String { ContentDigest.hex(hasher.finalize()) }
}

extension StreamingDigest {
    /// The digest's 32 bytes.
    public func finalizeBytes() -> [UInt8] { Array(hasher.finalize()) }
}
