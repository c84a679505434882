import Foundation
import TandemCore
import TandemGit

/// A production branch of an `InMemoryRepository`, with the semantics of `GitPromotion`.
struct InMemoryProductionBranch: ProductionBranch {
    let repository: InMemoryRepository
    let branch: String
    let remote: String?

    func currentHead() throws -> String? {
        try repository.locked {
            guard let remote else { return repository.branches[branch] }
            guard let refs = repository.remotes[remote] else {
                throw Failure(
                    .failed,
                    "git ls-remote failed in the in-memory repository: '\(remote)' does not appear to be a git repository")
            }
            return refs.branches[branch]
        }
    }

    func merge(_ commit: String, onto base: String?, message: String, author: String, files: [String: String]) throws
        -> String
    {
        try repository.locked {
            let r = repository
            let start: String
            var other: String?
            if let base, !r.isAncestorLocked(base, of: commit) {
                start = base
                if !r.isAncestorLocked(commit, of: base) { other = commit }
            } else {
                start = commit
            }
            if other == nil && files.isEmpty { return start }
            var tree = r.commits[start]?.files ?? [:]
            if let other { tree = try threeWay(ours: start, theirs: other, commit: commit, files: files) }
            for (path, content) in files { tree[path] = content }
            if other == nil && tree == r.commits[start]?.files { return start }
            return r.makeCommit(parents: [start] + (other.map { [$0] } ?? []), files: tree, message: message, author: author)
        }
    }

    /// The tree of merging `theirs` into `ours`: each path as the side that changed it from the merge base has it; a
    /// path both sides changed otherwise conflicts, unless the promotion writes it (`files`) or it is a model lock
    /// file (the promoted branch's wins), as `GitPromotion.merge` resolves them. The caller holds the lock.
    func threeWay(ours: String, theirs: String, commit: String, files: [String: String]) throws -> [String: String] {
        let r = repository
        let mine = r.ancestorsLocked(of: ours)
        var queue = [theirs]
        var seen: Set<String> = []
        var base: String?
        while !queue.isEmpty, base == nil {
            let next = queue.removeFirst()
            guard seen.insert(next).inserted else { continue }
            if mine.contains(next) { base = next } else { queue += r.commits[next]?.parents ?? [] }
        }
        let (tree, conflicted) = Self.merged(
            ours: r.commits[ours]?.files ?? [:], theirs: r.commits[theirs]?.files ?? [:],
            base: base.flatMap { r.commits[$0]?.files } ?? [:])
        let resolvable = conflicted.allSatisfy { files[$0] != nil }
        guard resolvable else {
            throw Failure(
                .refused,
                "merging \(commit.prefix(12)) into \(branch) conflicts in " + conflicted.joined(separator: ", ")
                    + "; resolve the conflict on the branch and start a new promotion")
        }
        return tree
    }

    func tag(_ name: String, at commit: String, message: String, author: String) throws {
        try repository.locked {
            if let existing = repository.tags[name] {
                guard existing.commit == commit else {
                    throw Failure(.invalidInput, "tag \(name) already exists on another commit")
                }
                return
            }
            repository.tags[name] = InMemoryRepository.Tag(commit: commit, message: message)
        }
    }

    func deleteTag(_ name: String) { _ = try? repository.locked { repository.tags[name] = nil } }

    func deleteTag(_ name: String, ifMessageContains marker: String) {
        _ = try? repository.locked {
            if repository.tags[name]?.message?.contains(marker) == true { repository.tags[name] = nil }
        }
    }

    func publish(_ commit: String, tag: String?) throws {
        guard let remote else { return }
        try repository.locked {
            let r = repository
            var refs = r.remotes[remote] ?? .init()
            let moved = refs.branches[branch].map { !r.isAncestorLocked($0, of: commit) } ?? false
            let tagTaken = tag.flatMap { refs.tags[$0] }.map { $0.commit != tag.flatMap { r.tags[$0]?.commit } } ?? false
            guard r.remotes[remote] != nil, !moved, !tagTaken else {
                throw Failure(
                    .refused,
                    "the atomic push of \(branch) and its tag to \(remote) was rejected (someone moved \(branch)?): "
                        + "! [rejected] \(branch) (non-fast-forward)")
            }
            refs.branches[branch] = commit
            if let tag, let local = r.tags[tag] { refs.tags[tag] = local }
            r.remotes[remote] = refs
        }
    }

    func remoteIsAt(_ commit: String) -> Bool {
        guard let remote else { return false }
        return repository.remoteBranch(branch, on: remote) == commit
    }

    func moveLocalBranch(to new: String, from old: String?) throws {
        try repository.locked {
            let current = repository.branches[branch]
            if current == new { return }
            guard remote != nil || current == old else {
                throw Failure(
                    .failed,
                    "git update-ref failed in the in-memory repository: cannot lock ref 'refs/heads/\(branch)': is at "
                        + "\(current ?? "nothing") but expected \(old ?? "nothing")")
            }
            repository.branches[branch] = new
        }
    }

    func undo(_ merged: String, from base: String, onto head: String, message: String, author: String) throws -> String {
        try repository.locked {
            let r = repository
            guard let m = r.commits[merged]?.files, let b = r.commits[base]?.files, let h = r.commits[head]?.files else {
                throw Failure(.failed, "git diff failed in the in-memory repository: a commit is missing")
            }
            // Three-way: ours = head, theirs = base, merge base = merged.
            let (tree, conflicted) = Self.merged(ours: h, theirs: b, base: m)
            guard conflicted.isEmpty else {
                throw Failure(
                    .refused,
                    "undoing \(merged.prefix(12)) on \(branch) conflicts in " + conflicted.joined(separator: ", ")
                        + ", which later commits changed; nothing was changed. Roll back those promotions first, or promote a fix"
                )
            }
            return r.makeCommit(parents: [head], files: tree, message: message, author: author)
        }
    }

    /// The three-way merge of two trees from their base: each path as the side that changed it has it; a path both
    /// changed otherwise is conflicted (and holds `theirs`).
    static func merged(ours o: [String: String], theirs t: [String: String], base b: [String: String]) -> (
        tree: [String: String], conflicted: [String]
    ) {
        var tree: [String: String] = [:]
        var conflicted: [String] = []
        for path in Set(o.keys).union(t.keys).union(b.keys).sorted() {
            let (x, y, z) = (o[path], t[path], b[path])
            if x == y || y == z {
                tree[path] = x
            } else if x == z {
                tree[path] = y
            } else {
                conflicted.append(path)
                tree[path] = y
            }
        }
        return (tree, conflicted)
    }
}
