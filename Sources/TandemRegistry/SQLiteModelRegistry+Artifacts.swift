public import Foundation
import TandemCore
import TandemStorage

/// The content-addressed artifact store of the registry root (`artifacts/sha256/AB/DIGEST`).
extension SQLiteModelRegistry {
    // MARK: Artifacts

    func artifactPath(_ digest: String) -> String {
        (root as NSString).appendingPathComponent("artifacts/sha256/\(digest.prefix(2))/\(digest)")
    }

    /// Stores an artifact under its digest: written under a staging name owned by this process in its folder
    /// (never through a link: every folder on the way is checked to stay inside the root), synced, and renamed
    /// into place. A failure (a full disk, a permission) removes the staging file and names the root and path.
    public func storeArtifact(_ data: Data) throws -> String {
        let digest = ContentDigest.sha256Hex(data)
        let path: String
        let folder: String
        do {
            path = try RootGuard.contained(artifactPath(digest), in: root)
            folder = try RootGuard.createFolder((path as NSString).deletingLastPathComponent, in: root)
        } catch let error as RootAccessError {
            throw Failure(error.kind == .link ? .tampered : .unreachable, error.description)
        } catch {
            throw Failure(.unreachable, "\(error)")
        }
        var st = stat()
        if lstat(path, &st) == 0 { return digest }
        Staging.reclaim(in: folder, root: root)
        let temporary = (folder as NSString).appendingPathComponent(Staging.name())
        do {
            try data.write(to: URL(fileURLWithPath: temporary), options: .withoutOverwriting)
            let handle = FileHandle(forWritingAtPath: temporary)
            try handle?.synchronize()
            try handle?.close()
            guard rename(temporary, path) == 0 else { throw WriteFailure.lastError(path) }
        } catch {
            unlink(temporary)
            throw Failure(.unreachable, "\(WriteFailure.error(error, path: temporary, root: root))")
        }
        return digest
    }

    /// Removes the artifact staging files that killed processes left in this registry (`Staging`).
    @discardableResult
    public func reclaimStaging() -> [String] { Self.reclaimStaging(root: root) }

    /// `reclaimStaging()` for the registry in `root`, without opening its database.
    @discardableResult
    public static func reclaimStaging(root: String) -> [String] {
        let sha = (root as NSString).appendingPathComponent("artifacts/sha256")
        guard (try? RootGuard.contained(sha, in: root)) != nil else { return [] }
        return ((try? FileManager.default.contentsOfDirectory(atPath: sha)) ?? []).sorted().flatMap {
            Staging.reclaim(in: (sha as NSString).appendingPathComponent($0), root: root)
        }
    }

    public func artifact(digest: String) throws -> Data {
        let path = artifactPath(digest)
        return try ArtifactCheck.verified(FileManager.default.contents(atPath: path), digest: digest, location: path)
    }
}
