import Foundation
import TandemCore
public import TandemGit

/// A git repository held as values, for the promotion engine's tests: commits (parents, a whole tree of path →
/// content, message, author), local branches and tags, and remotes with branches and tags of their own. It is a
/// `PromotionRepository` with the semantics of `Git` and `GitPromotion` (ancestry, fast-forwards and three-way merges
/// with their conflicts, idempotent tags, an atomic push that a moved branch rejects, a local branch moved only from
/// where it was). With an `Outage` down, every operation fails (`Failure`, exit 3) or reads nothing, and nothing
/// changes.
public final class InMemoryRepository: PromotionRepository, @unchecked Sendable {
    /// One commit.
    public struct Commit: Sendable, Equatable {
        public var id: String
        public var parents: [String]
        public var files: [String: String]
        public var message: String
        public var author: String
    }

    /// A tag: annotated when it has a message.
    public struct Tag: Sendable, Equatable {
        public var commit: String
        public var message: String?
    }

    /// A remote's refs.
    struct Remote {
        var branches: [String: String] = [:]
        var tags: [String: Tag] = [:]
    }

    let lock = NSLock()
    let outage: Outage?
    var commits: [String: Commit] = [:]
    var branches: [String: String] = [:]
    var tags: [String: Tag] = [:]
    var remotes: [String: Remote] = [:]
    /// The branch `HEAD` names.
    public private(set) var headBranch = "main"

    public init(outage: Outage? = nil) { self.outage = outage }

    func locked<T>(_ body: () throws -> T) throws -> T {
        lock.lock()
        defer { lock.unlock() }
        if outage?.isDown == true { throw Failure(.failed, "git failed in the in-memory repository: unreachable (an outage)") }
        return try body()
    }

    // MARK: Building history

    /// Commits `files` (path → content; nil removes the path) on top of `branch` (created when it does not exist, from
    /// `from` or from nothing), moves the branch and returns the commit.
    @discardableResult
    public func commit(
        on branch: String, files: [String: String?], message: String = "change", author: String = "dev", from: String? = nil
    ) throws -> String {
        try locked {
            let parent = branches[branch] ?? from.flatMap { resolveLocked($0) }
            var tree = parent.flatMap { commits[$0]?.files } ?? [:]
            for (path, content) in files { tree[path] = content }
            let id = makeCommit(parents: parent.map { [$0] } ?? [], files: tree, message: message, author: author)
            branches[branch] = id
            return id
        }
    }

    /// Points a local branch at a commit (creating it), as `git branch -f` would.
    public func setBranch(_ name: String, to commit: String) throws {
        try locked { branches[name] = commit }
    }

    /// Adds a remote, empty or with `branches` (name → commit) pushed to it.
    public func addRemote(_ name: String, branches pushed: [String: String] = [:]) throws {
        try locked { remotes[name] = Remote(branches: pushed) }
    }

    /// Sets a remote's branch, as another person's push would.
    public func push(_ commit: String, to remote: String, branch: String) throws {
        try locked { remotes[remote, default: Remote()].branches[branch] = commit }
    }

    /// A remote's branch head, a remote's tag, a local branch, a local tag, a commit (nil when absent).
    public func remoteBranch(_ branch: String, on remote: String) -> String? { read { remotes[remote]?.branches[branch] } }
    public func remoteTag(_ name: String, on remote: String) -> Tag? { read { remotes[remote]?.tags[name] } }
    public func branch(_ name: String) -> String? { read { branches[name] } }
    public func tag(_ name: String) -> Tag? { read { tags[name] } }
    public func commitRecord(_ id: String) -> Commit? { read { commits[id] } }

    /// Creates a tag as a person would (lightweight without a message).
    public func createTag(_ name: String, at commit: String, message: String? = nil) throws {
        try locked { tags[name] = Tag(commit: commit, message: message) }
    }

    func read<T>(_ body: () -> T?) -> T? { (try? locked { body() }) ?? nil }

    func makeCommit(parents: [String], files: [String: String], message: String, author: String) -> String {
        let content = (parents + files.sorted { $0.key < $1.key }.map { "\($0.key)\u{0}\($0.value)" } + [message, author])
            .joined(separator: "\n")
        let id = String(ContentDigest.sha256Hex(content + "\n\(commits.count)").prefix(40))
        commits[id] = Commit(id: id, parents: parents, files: files, message: message, author: author)
        return id
    }

    // MARK: PromotionRepository

    /// A ref as `git rev-parse --verify REF^{commit}` reads it; the caller holds the lock.
    func resolveLocked(_ ref: String) -> String? {
        if ref == "HEAD" { return branches[headBranch] }
        if ref.hasPrefix("refs/heads/") { return branches[String(ref.dropFirst(11))] }
        if ref.hasPrefix("refs/tags/") { return tags[String(ref.dropFirst(10))]?.commit }
        if commits[ref] != nil { return ref }
        return branches[ref] ?? tags[ref]?.commit
    }

    public func commit(of ref: String) throws -> String {
        try locked {
            guard let id = resolveLocked(ref) else {
                throw Failure(
                    .failed, "git rev-parse failed in the in-memory repository: fatal: Needed a single revision (\(ref))")
            }
            return id
        }
    }

    public func blobSize(_ path: String, at ref: String) -> Int? { show(path, at: ref).map { $0.utf8.count } }

    public func show(_ path: String, at ref: String) -> String? {
        read { resolveLocked(ref).flatMap { commits[$0]?.files[path] } }
    }

    public func firstParent(of commit: String) throws -> String {
        try locked {
            guard let parent = commits[commit]?.parents.first else {
                throw Failure(.failed, "git rev-parse failed in the in-memory repository: \(commit.prefix(12)) has no parent")
            }
            return parent
        }
    }

    public func files(in folder: String, at ref: String) throws -> [String: Int] {
        try locked {
            guard let id = resolveLocked(ref), let files = commits[id]?.files else {
                throw Failure(.failed, "git ls-tree failed in the in-memory repository: no commit \(ref)")
            }
            let prefix = folder.hasSuffix("/") ? folder : folder + "/"
            return files.filter { $0.key.hasPrefix(prefix) && !$0.key.dropFirst(prefix.count).contains("/") }
                .mapValues { $0.utf8.count }
        }
    }

    public func mergeBase(_ a: String, _ b: String) -> String? {
        read {
            let mine = ancestorsLocked(of: a)
            var queue = [b]
            var seen: Set<String> = []
            while !queue.isEmpty {
                let next = queue.removeFirst()
                guard seen.insert(next).inserted else { continue }
                if mine.contains(next) { return next }
                queue += commits[next]?.parents ?? []
            }
            return nil
        }
    }

    public func productionBranch(_ branch: String, remote: String?) -> any ProductionBranch {
        InMemoryProductionBranch(repository: self, branch: branch, remote: remote)
    }

    /// Whether `ancestor` is `descendant` or one of its ancestors; the caller holds the lock.
    func isAncestorLocked(_ ancestor: String, of descendant: String) -> Bool {
        ancestorsLocked(of: descendant).contains(ancestor)
    }

    /// A commit and all its ancestors; the caller holds the lock.
    func ancestorsLocked(of commit: String) -> Set<String> {
        var seen: Set<String> = []
        var queue = [commit]
        while let next = queue.popLast() {
            guard seen.insert(next).inserted else { continue }
            queue += commits[next]?.parents ?? []
        }
        return seen
    }

    /// Whether `ancestor` is `descendant` or one of its ancestors.
    public func isAncestor(_ ancestor: String, of descendant: String) -> Bool {
        read { isAncestorLocked(ancestor, of: descendant) } ?? false
    }
}
