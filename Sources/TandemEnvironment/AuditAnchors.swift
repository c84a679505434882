import Foundation
import TandemGit
import TandemRegistry

/// The anchors of an environment's audit chain kept in git: every committed revision of a lock file
/// (`models/*.lock.json`) that names the environment and records an `audit_head`, on the current branch, on the
/// environment's production branch and on its remote-tracking copy (`REMOTE/BRANCH`, as last fetched).
///
/// `tandem train` records the registry's head in the lock file it commits; a promotion records the target's head
/// in the lock file it merges onto the production branch. The anchors are only as trustworthy as the branches
/// they are read from: the platform has to protect the production branch (who may push it).
public enum AuditAnchors {
    /// How many lock file revisions are read per branch, newest first.
    public static let depth = 200

    public static func collect(_ context: StageContext) -> [FoundAnchor] {
        let git = Git(folder: context.repositoryRoot)
        guard git.isRepository else { return [] }
        let branch = context.profile.git.productionBranch
        var refs = ["HEAD", branch]
        if let remote = context.profile.git.remote { refs.append("refs/remotes/\(remote)/\(branch)") }
        var seen = Set<String>()
        var found: [FoundAnchor] = []
        for ref in refs {
            guard (try? git.commit(of: ref)) != nil,
                let log = try? git.run([
                    "log", "--format=%x00%H", "--name-only", "-n", String(depth), ref, "--", "models/*.lock.json",
                ])
            else { continue }
            for record in log.split(separator: "\0") {
                let lines = record.split(separator: "\n").map(String.init)
                guard let commit = lines.first else { continue }
                for path in lines.dropFirst() where path.hasSuffix(".lock.json") && seen.insert("\(commit):\(path)").inserted {
                    guard let text = git.show(path, at: commit), let lock = try? ModelLock.parse(text),
                        lock.environment == context.profile.name, let anchor = lock.auditHead
                    else { continue }
                    let name = ref == "HEAD" ? ((try? git.currentBranch()) ?? nil) ?? "HEAD" : ref
                    found.append(FoundAnchor(source: "\(name)@\(commit.prefix(12)):\(path)", anchor: anchor))
                }
            }
        }
        return found
    }
}
