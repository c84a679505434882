import Foundation

/// The commit and cleanliness of the code in a repository (lineage of what a stage produced).
public struct GitInfo: Sendable {
    public var commit: String
    public var branch: String?
    public var dirty: Bool
    public var remote: String?

    /// The repository's head commit, branch, whether the tree is dirty, and its remote (nil outside a repository).
    public static func current(at folder: String) -> GitInfo? {
        let git = Git(folder: folder)
        guard let commit = try? git.head() else { return nil }
        return GitInfo(
            commit: commit, branch: (try? git.currentBranch()) ?? nil, dirty: (try? git.isDirty()) ?? false,
            remote: git.remoteURL())
    }
}
