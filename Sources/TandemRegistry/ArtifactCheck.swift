import Foundation
import TandemCore

/// What every registry does with the bytes it reads back: they must exist and hash to the digest they were stored
/// under, or the registry was tampered with (exit 3).
enum ArtifactCheck {
    /// The bytes, when they are there and match `digest`; `location` says where they were read (a path, a server).
    static func verified(_ data: Data?, digest: String, location: String) throws -> Data {
        guard let data else {
            throw Failure(.tampered, "\(location): the artifact \(digest.prefix(12))… is missing from the registry")
        }
        guard ContentDigest.sha256Hex(data) == digest else {
            throw Failure(.tampered, "\(location): the artifact does not match its digest \(digest.prefix(12))…; it was altered")
        }
        return data
    }
}
