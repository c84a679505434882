public import Foundation
public import TandemCore

/// A git working tree, driven through the `git` command (the same tool users and CI run).
public struct Git: Sendable {
    /// The working tree's folder.
    public let folder: String

    public init(folder: String) { self.folder = folder }

    /// The output of a git command (trimmed), or an error with git's message.
    @discardableResult
    public func run(_ arguments: [String], environment extra: [String: String] = [:]) throws -> String {
        String(decoding: try output(arguments, environment: extra), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The exact bytes a git command prints, or an error with git's message.
    public func output(_ arguments: [String], environment extra: [String: String] = [:]) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "-C", folder] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["GIT_TERMINAL_PROMPT"] = "0"
        for (k, v) in extra { environment[k] = v }
        process.environment = environment
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        do {
            try process.run()
        } catch {
            throw Failure(.failed, "cannot run git (\(error)); install git")
        }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let message = String(decoding: errData, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw Failure(.failed, "git \(arguments.first ?? "") failed in \(folder): \(Redaction.redactURLCredentials(message))")
        }
        return data
    }

    /// Whether the folder is inside a git working tree.
    public var isRepository: Bool { (try? run(["rev-parse", "--is-inside-work-tree"])) == "true" }

    /// The commit HEAD points at.
    public func head() throws -> String { try run(["rev-parse", "HEAD"]) }

    /// The commit a ref points at.
    public func commit(of ref: String) throws -> String { try run(["rev-parse", "--verify", "\(ref)^{commit}"]) }

    /// The current branch, or nil on a detached HEAD.
    public func currentBranch() throws -> String? {
        let name = try run(["rev-parse", "--abbrev-ref", "HEAD"])
        return name == "HEAD" ? nil : name
    }

    /// True when tracked files differ from HEAD.
    public func isDirty() throws -> Bool { !(try run(["status", "--porcelain", "--untracked-files=no"])).isEmpty }

    /// The URL of a remote, with any credentials removed.
    public func remoteURL(_ name: String = "origin") -> String? {
        (try? run(["remote", "get-url", name])).map(Redaction.redactURLCredentials)
    }

    /// Whether `ancestor` is an ancestor of (or equal to) `descendant`.
    public func isAncestor(_ ancestor: String, of descendant: String) -> Bool {
        (try? run(["merge-base", "--is-ancestor", ancestor, descendant])) != nil
    }

    /// The content of a file at a commit, or nil when it is not there.
    public func show(_ path: String, at ref: String) -> String? { try? run(["show", "\(ref):\(path)"]) }

    /// The size in bytes of a file as committed at `ref` (nil when it has no such file), to check before `show`.
    public func blobSize(_ path: String, at ref: String) -> Int? {
        (try? run(["cat-file", "-s", "\(ref):\(path)"])).flatMap { Int($0) }
    }

    /// The last commit that changed a path, reachable from `ref`.
    public func lastCommit(touching path: String, from ref: String = "HEAD") -> String? {
        guard let c = try? run(["log", "-n", "1", "--format=%H", ref, "--", path]), !c.isEmpty else { return nil }
        return c
    }

    /// Commits one file on the current branch with a message; returns the new commit.
    public func commitFile(_ path: String, message: String, author: String) throws -> String {
        try run(["add", "--", path])
        try run(
            [
                "-c", "user.name=\(author)", "-c", "user.email=\(author)@tandem.invalid", "commit", "--only", "-m", message, "--",
                path,
            ],
            environment: ["GIT_AUTHOR_NAME": author, "GIT_COMMITTER_NAME": author])
        return try head()
    }
}
