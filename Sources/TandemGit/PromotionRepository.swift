import Foundation

/// What the promotion engine needs of a git repository: to resolve refs, read committed files, and work on a
/// production branch. `Git` is the real one (the `git` command in a working tree); TandemTesting has one that holds
/// branches and commits as values, for the engine's unit tests.
public protocol PromotionRepository: Sendable {
    /// The commit a ref (a branch, a tag, `HEAD`, a commit id) points at; throws `Failure` when there is none.
    func commit(of ref: String) throws -> String
    /// The size in bytes of a file as committed at `ref`, nil when it has no such file.
    func blobSize(_ path: String, at ref: String) -> Int?
    /// The content of a file as committed at `ref`, nil when it has no such file.
    func show(_ path: String, at ref: String) -> String?
    /// The first parent of a commit.
    func firstParent(of commit: String) throws -> String
    /// The files directly in `folder` as committed at `ref`: path (relative to the repository root) → size in bytes,
    /// read from the tree listing (nothing is read from the files themselves).
    func files(in folder: String, at ref: String) throws -> [String: Int]
    /// The best common ancestor of two commits, nil when they share none.
    func mergeBase(_ a: String, _ b: String) -> String?
    /// The production branch `branch` of this repository, published to `remote` when one is named.
    func productionBranch(_ branch: String, remote: String?) -> any ProductionBranch
}

/// A production branch, as a promotion and a rollback change it (`GitPromotion` for a git repository): merged into
/// without touching a working tree, tagged, published (branch and tag in one atomic step when there is a remote),
/// and its local ref moved.
public protocol ProductionBranch: Sendable {
    /// The branch's head (the remote's when there is one), nil when the branch does not exist.
    func currentHead() throws -> String?
    /// The commit that puts `commit` on top of `base` with `files` (path → content) written into it; a conflict
    /// throws `Failure` (exit 1) with nothing changed.
    func merge(_ commit: String, onto base: String?, message: String, author: String, files: [String: String]) throws
        -> String
    /// Creates an annotated tag; idempotent at the same commit, `Failure` (exit 2) at another.
    func tag(_ name: String, at commit: String, message: String, author: String) throws
    /// Deletes a local tag, if there is one.
    func deleteTag(_ name: String)
    /// Deletes a local tag only when it is annotated with a message containing `marker`.
    func deleteTag(_ name: String, ifMessageContains marker: String)
    /// Publishes the branch at `commit` with `tag`, both or neither; a branch someone else moved throws `Failure`
    /// (exit 1). Without a remote it does nothing (the local branch is moved by `moveLocalBranch`).
    func publish(_ commit: String, tag: String?) throws
    /// Whether the remote's branch is at `commit` (false without a remote).
    func remoteIsAt(_ commit: String) -> Bool
    /// Moves the local branch from `old` (nil: it must not exist) to `new`.
    func moveLocalBranch(to new: String, from old: String?) throws
    /// A commit on top of `head` that undoes exactly what `merged` changed from `base` (a promotion's merge and the
    /// production head before it), as `git revert -m 1` would: a three-way merge of `head` and `base` from `merged`.
    /// Paths changed since by later commits merge; a path both changed throws `Failure` (`.refused`, exit 1) naming
    /// the paths and the commits that changed them, with nothing changed.
    func undo(_ merged: String, from base: String, onto head: String, message: String, author: String) throws -> String
}

extension Git: PromotionRepository {
    public func firstParent(of commit: String) throws -> String { try run(["rev-parse", "\(commit)^1"]) }

    public func files(in folder: String, at ref: String) throws -> [String: Int] {
        var files: [String: Int] = [:]
        for line in try run(["ls-tree", "-l", ref, folder.hasSuffix("/") ? folder : folder + "/"]).split(separator: "\n") {
            // "<mode> blob <sha> <size>\tmodels/relevance.yaml"
            let parts = line.split(separator: "\t", maxSplits: 1)
            let fields = parts.first?.split(separator: " ", omittingEmptySubsequences: true) ?? []
            guard parts.count == 2, fields.count == 4, fields[1] == "blob", let size = Int(fields[3]) else { continue }
            files[String(parts[1])] = size
        }
        return files
    }

    public func mergeBase(_ a: String, _ b: String) -> String? { try? run(["merge-base", a, b]) }

    public func productionBranch(_ branch: String, remote: String?) -> any ProductionBranch {
        GitPromotion(git: self, branch: branch, remote: remote)
    }
}

extension GitPromotion: ProductionBranch {}
