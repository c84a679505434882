import Foundation
import TandemCore

/// The git side of a promotion: merge a commit into a production branch without touching anyone's working
/// tree (in a temporary worktree), tag it, publish branch and tag in one atomic push, move the local branch.
public struct GitPromotion: Sendable {
    public let git: Git
    public let branch: String
    public let remote: String?

    public init(git: Git, branch: String, remote: String?) {
        self.git = git
        self.branch = branch
        self.remote = remote
    }

    /// The production branch's head: the remote's when there is a remote (fetched first), else the local one.
    public func currentHead() throws -> String? {
        if let remote {
            let line = try git.run(["ls-remote", remote, "refs/heads/\(branch)"])
            guard let sha = line.split(separator: "\t").first.map(String.init), !sha.isEmpty else { return nil }
            _ = try? git.run(["fetch", "--quiet", remote, "refs/heads/\(branch)"])
            return sha
        }
        return try? git.commit(of: "refs/heads/\(branch)")
    }

    /// The commit that puts `commit` on top of `base` with `files` (path → content) written into it. Without
    /// files: `commit` itself when it fast-forwards (or there is no base), `base` when it already holds it, else a
    /// merge commit. With files that change something: a commit on top of that one, or the merge commit holding
    /// them. Every new commit is made in a temporary worktree (nobody's working tree is touched) with `message`
    /// as its whole message. A conflict throws, leaving nothing changed.
    public func merge(
        _ commit: String, onto base: String?, message: String, author: String, files: [String: String] = [:]
    ) throws -> String {
        let start: String
        var other: String?
        if let base, !git.isAncestor(base, of: commit) {
            start = base
            if !git.isAncestor(commit, of: base) { other = commit }
        } else {
            start = commit
        }
        if other == nil && files.isEmpty { return start }
        return try withWorktree(at: start, named: "merge") { tree, folder in
            let identity = ["-c", "user.name=\(author)", "-c", "user.email=\(author)@tandem.invalid"]
            if let other {
                do {
                    try tree.run(identity + ["merge", "--no-ff", "--no-commit", other])
                } catch {
                    // A file written by the promotion (the model's lock file) replaces both sides. Any other conflict,
                    // another model's lock file included, fails the promotion with nothing changed.
                    let unmerged = (try? tree.run(["diff", "--name-only", "--diff-filter=U"])) ?? ""
                    let conflicted = unmerged.split(separator: "\n").map(String.init)
                    let resolvable =
                        !conflicted.isEmpty
                        && conflicted.allSatisfy { files[$0] != nil }
                    let theirs = conflicted.filter { files[$0] == nil }
                    var resolved = resolvable
                    if resolved && !theirs.isEmpty {
                        resolved =
                            (try? tree.run(["checkout", "--theirs", "--"] + theirs)) != nil
                            && (try? tree.run(["add", "--"] + theirs)) != nil
                    }
                    guard resolved else {
                        _ = try? tree.run(["merge", "--abort"])
                        throw Failure(
                            .refused,
                            "merging \(commit.prefix(12)) into \(branch) conflicts in " + conflicted.joined(separator: ", ")
                                + "; resolve the conflict on the branch and start a new promotion")
                    }
                }
            }
            for (path, content) in files.sorted(by: { $0.key < $1.key }) {
                let full = (folder as NSString).appendingPathComponent(path)
                try FileManager.default.createDirectory(
                    atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try content.write(toFile: full, atomically: true, encoding: .utf8)
                try tree.run(["add", "--", path])
            }
            // Nothing to commit: the files were already so and there is no merge.
            if other == nil, (try? tree.run(["diff", "--cached", "--quiet"])) != nil { return start }
            // The message is given whole (`-m`), never git's prepared one with its `# Conflicts:` lines.
            try tree.run(identity + ["commit", "--quiet", "--cleanup=strip", "-m", message])
            return try tree.head()
        }
    }

    /// Runs `body` in a temporary detached worktree at `commit` (nobody's working tree is touched), removed after.
    func withWorktree<T>(at commit: String, named name: String, _ body: (Git, String) throws -> T) throws -> T {
        let folder = NSTemporaryDirectory() + "tandem-\(name)-\(UUID().uuidString)"
        try git.run(["worktree", "add", "--quiet", "--detach", folder, commit])
        defer {
            _ = try? git.run(["worktree", "remove", "--force", folder])
            try? FileManager.default.removeItem(atPath: folder)
        }
        return try body(Git(folder: folder), folder)
    }

    /// Creates an annotated tag (idempotent when it already points at the commit).
    public func tag(_ name: String, at commit: String, message: String, author: String) throws {
        if let existing = try? git.run(["rev-parse", "--verify", "refs/tags/\(name)^{commit}"]) {
            guard existing == commit else {
                throw Failure(.invalidInput, "tag \(name) already exists on another commit")
            }
            return
        }
        try git.run([
            "-c", "user.name=\(author)", "-c", "user.email=\(author)@tandem.invalid", "tag", "-a", name, commit, "-m", message,
        ])
    }

    public func deleteTag(_ name: String) { _ = try? git.run(["tag", "-d", name]) }

    /// Deletes a tag only when it is an annotated tag whose message contains `marker`: the one a promotion made,
    /// never another of the same name that was there before.
    public func deleteTag(_ name: String, ifMessageContains marker: String) {
        guard (try? git.run(["cat-file", "-t", "refs/tags/\(name)"])) == "tag",
            let message = try? git.run(["for-each-ref", "--format=%(contents)", "refs/tags/\(name)"]),
            message.contains(marker)
        else { return }
        deleteTag(name)
    }

    /// Pushes the branch and the tag in one atomic push; a branch someone else moved rejects both.
    public func publish(_ commit: String, tag: String?) throws {
        guard let remote else { return }
        var refs = ["\(commit):refs/heads/\(branch)"]
        if let tag { refs.append("refs/tags/\(tag)") }
        do {
            try git.run(["push", "--atomic", "--quiet", remote] + refs)
        } catch {
            throw Failure(
                .refused,
                "the atomic push of \(branch) and its tag to \(remote) was rejected (someone moved \(branch)?): \(error)")
        }
    }

    /// Whether the remote's branch is at `commit`.
    public func remoteIsAt(_ commit: String) -> Bool {
        guard let remote, let line = try? git.run(["ls-remote", remote, "refs/heads/\(branch)"]) else { return false }
        return line.hasPrefix(commit)
    }

    /// Moves the local branch from `old` (nil: it must not exist) to `new`.
    public func moveLocalBranch(to new: String, from old: String?) throws {
        let current = try? git.commit(of: "refs/heads/\(branch)")
        if current == new { return }
        if remote != nil {
            // With a remote, the local branch follows it; a stale local branch is simply moved.
            try git.run(["update-ref", "refs/heads/\(branch)", new])
        } else {
            try git.run(["update-ref", "refs/heads/\(branch)", new, old ?? String(repeating: "0", count: 40)])
        }
    }

    /// A commit on top of `head` that undoes what `merged` changed from `base` (see `ProductionBranch.undo`), made in a
    /// temporary worktree; a conflict throws with nothing changed.
    public func undo(_ merged: String, from base: String, onto head: String, message: String, author: String) throws
        -> String
    {
        try withWorktree(at: head, named: "undo") { tree, folder in
            let patch = try tree.output(["diff", "--full-index", "--binary", "--no-renames", merged, base])
            if !patch.isEmpty {
                let file = folder + ".patch"
                try patch.write(to: URL(fileURLWithPath: file))
                defer { try? FileManager.default.removeItem(atPath: file) }
                if (try? tree.run(["apply", "--3way", "--whitespace=nowarn", file])) == nil {
                    let unmerged = ((try? tree.run(["diff", "--name-only", "--diff-filter=U"])) ?? "")
                        .split(separator: "\n").map(String.init)
                    let touched = try tree.run(["diff", "--name-only", "--no-renames", merged, base]).split(separator: "\n").map(
                        String.init)
                    let paths = unmerged.isEmpty ? touched : unmerged
                    let later = (try? git.run(["log", "--format=%h %s", "\(merged)..\(head)", "--"] + paths)) ?? ""
                    throw Failure(
                        .refused,
                        "undoing \(merged.prefix(12)) on \(branch) conflicts in " + paths.joined(separator: ", ")
                            + ", which later commits changed"
                            + (later.isEmpty ? "" : ": " + later.split(separator: "\n").joined(separator: "; "))
                            + "; nothing was changed. Roll back those promotions first, or promote a fix")
                }
            }
            try tree.run(
                [
                    "-c", "user.name=\(author)", "-c", "user.email=\(author)@tandem.invalid", "commit", "--quiet",
                    "--allow-empty",
                    "--cleanup=strip", "-m", message,
                ])
            return try tree.head()
        }
    }
}
