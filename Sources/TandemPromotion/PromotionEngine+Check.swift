import Foundation
import TandemCore
import TandemGit
import TandemProfiles
import TandemRegistry

extension PromotionEngine {
    /// One model's lane in the target, as `check` found it.
    public struct LaneCheck: Sendable, Codable, Equatable {
        public var model: String
        /// The target registry's champion version, nil when there is none.
        public var champion: Int?
        /// The version the model's lock file on the production branch names, nil when there is none.
        public var lock: Int?
        /// The promotion that made that champion, nil when none did.
        public var promotion: String?
        /// What does not agree; empty when the lane holds.
        public var differences: [String]

        public var holds: Bool { differences.isEmpty }
    }

    /// The invariant of every model's lane in the target (docs/models.md, "The invariant"): for each model with a
    /// champion or a lock file on the production branch, the champion version = the version, environment and
    /// digest the production branch's lock file names = the version of the promotion (or rollback) whose merge
    /// produced the production branch's copy of that model's files (its lock file and its config, compared with
    /// their content at that merge). `models` limits it to some models.
    public func check(models only: [String]? = nil) throws -> [LaneCheck] {
        let target = context.target
        let targetRegistry = try context.openTargetRegistry()
        let branch = context.repository.productionBranch(target.git.productionBranch, remote: target.git.remote)
        let head = try branch.currentHead()
        let lockFiles = try head.map { try git.files(in: ModelCatalogue.folder, at: $0) } ?? [:]
        let catalogue = try head.map {
            try ModelCatalogue.committed(at: $0, label: "\(target.git.productionBranch)@\($0.prefix(12)):", in: git)
        }
        var names = Set(try targetRegistry.models())
        for path in lockFiles.keys where path.hasSuffix(".lock.json") {
            names.insert(String((path as NSString).lastPathComponent.dropLast(".lock.json".count)))
        }
        if let only { names = names.intersection(only) }
        let promotions = try context.store.all().filter { $0.target == target.name && $0.state == .promoted }
        var checks: [LaneCheck] = []
        for name in names.sorted() {
            var c = LaneCheck(model: name, differences: [])
            let champion = try Failure.unlessNotFound { try targetRegistry.version(.alias(name, "champion")) }
            c.champion = champion?.version
            let lockPath = ModelLock.path(model: name)
            var lockText: String?
            if let head, let size = lockFiles[lockPath] {
                guard size <= InputLimits.lockFileBytes else {
                    c.differences.append("\(lockPath) on \(target.git.productionBranch) is \(size) bytes, not a lock file")
                    checks.append(c)
                    continue
                }
                lockText = git.show(lockPath, at: head)
            }
            let lock = lockText.flatMap { try? ModelLock.parse($0) }
            c.lock = lock?.version
            if lockText != nil, lock == nil {
                c.differences.append("\(lockPath) on \(target.git.productionBranch) is not a readable lock file")
            }
            switch (champion, lock) {
            case (nil, nil):
                break
            case (nil, let lock?):
                c.differences.append(
                    "\(lockPath) on \(target.git.productionBranch) names \(name)@\(lock.version) but \(target.name) has no champion of \(name)"
                )
            case (let champion?, nil):
                c.differences.append(
                    "\(target.name)'s champion is \(name)@\(champion.version) but \(target.git.productionBranch) has no \(lockPath)"
                )
            case (let champion?, let lock?):
                if lock.version != champion.version {
                    c.differences.append(
                        "\(target.name)'s champion is \(name)@\(champion.version) but \(lockPath) on \(target.git.productionBranch) names @\(lock.version)"
                    )
                }
                if lock.environment != target.name {
                    c.differences.append("\(lockPath) on \(target.git.productionBranch) names environment '\(lock.environment)'")
                }
                if lock.artifactDigest != champion.artifactDigest {
                    c.differences.append(
                        "\(lockPath) names artifact sha256:\(lock.artifactDigest.prefix(12))…, the champion's is sha256:\(champion.artifactDigest.prefix(12))…"
                    )
                }
            }
            if let champion, let head {
                let made = promotions.filter { $0.model == name && $0.targetVersion == champion.version && $0.mergeCommit != nil }
                    .max { $0.updatedAt < $1.updatedAt }
                c.promotion = made?.id
                if let made, let merged = made.mergeCommit {
                    var files = [lockPath]
                    if let config = catalogue?.paths[name] { files.append(config) }
                    for file in files where git.show(file, at: merged) != git.show(file, at: head) {
                        c.differences.append(
                            "\(file) on \(target.git.productionBranch) is not the copy promotion \(made.id) of \(name)@\(champion.version) made (merge \(merged.prefix(12)))"
                        )
                    }
                } else {
                    c.differences.append("no promotion record made \(name)@\(champion.version) champion of \(target.name)")
                }
            }
            checks.append(c)
        }
        return checks
    }

    /// Runs `check` on one model after a promotion or a rollback changed it; a lane that does not hold is recorded in
    /// the target's audit log (`lanes.crossed`) and stops the stage with exit 1 naming the differences.
    func requireLane(_ model: String, after what: String) throws {
        let found = try check(models: [model]).filter { !$0.holds }
        guard !found.isEmpty else { return }
        let text = found.flatMap(\.differences).joined(separator: "; ")
        try context.openTargetRegistry().appendAudit(
            actor: context.actor, action: "lanes.crossed", subject: model, detail: ["after": what, "differences": text])
        throw Failure(
            .refused,
            "after \(what), \(model)'s lane in \(context.target.name) does not hold: \(text); see `tandem promote check --env \(context.target.name)`"
        )
    }
}
