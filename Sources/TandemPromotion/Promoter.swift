import Foundation
import TandemCore
import TandemGit
import TandemProfiles
import TandemRegistry

/// The promoting step: the model version and the branch move into the target together, or neither does.
///
/// Each step is written to the journal before it runs (`started`) and after (`done`), with what is needed to
/// finish or undo it. The commit point is the publication of the branch (the atomic push of branch and tag
/// when the target names a remote, else the move of the local branch): a crash before it is undone by
/// `recover`, a crash after it is finished by `recover`. Aliases move only after the commit point, so the
/// target's branch and its champion are always both the old pair or both the new pair once recovered.
struct Promoter {
    let engine: PromotionEngine
    var context: PromotionContext { engine.context }

    static let steps = ["lock", "copy_version", "merge", "tag", "publish", "branch", "aliases", "finish"]

    func gitPromotion() -> any ProductionBranch {
        context.repository.productionBranch(context.target.git.productionBranch, remote: context.target.git.remote)
    }

    /// What the message of the tag a promotion makes ends with: how `undo` knows the tag is its own.
    func tagMarker(_ p: Promotion) -> String { "promotion \(p.id)" }

    func tagName(_ p: Promotion) -> String { "\(context.target.git.tagPrefix)/\(p.model)/v\(p.targetVersion ?? p.version)" }

    /// Runs (or resumes) every step after the last one done.
    func promote(_ promotion: Promotion) throws -> Promotion {
        var p = promotion
        let store = context.store
        var journal = try store.journalEntries(p.id)
        func done(_ step: String) -> Bool { journal[step]?.status == "done" }
        func mark(_ step: String, _ status: String, _ detail: [String: String] = [:]) throws {
            try store.journal(p.id, step: step, status: status, detail: detail)
            journal = try store.journalEntries(p.id)
            if status == "done" { context.afterStep(step) }
        }
        if !done("lock") {
            if let holder = try store.lock(target: p.target, promotion: p.id) {
                // Nothing was done: the promotion waits again, its approvals kept, and `advance` retries.
                let waiting =
                    "\(p.target) is being promoted by \(holder); `tandem promote advance \(p.id)` continues after it ends"
                try engine.transition(p, to: .awaitingApproval, event: nil, summary: waiting)
                throw Failure(
                    .waiting,
                    "\(p.target) is being promoted by \(holder); wait for it to finish (or `tandem promote recover \(holder)`), "
                        + "then `tandem promote advance \(p.id)`")
            }
            try mark("lock", "done")
        }
        let targetRegistry = try context.openTargetRegistry()
        let git = gitPromotion()
        do {
            if !done("copy_version") {
                try mark("copy_version", "started")
                let source = try context.sourceRegistry.version(.version(p.model, p.version))
                let origin = "\(p.source):\(source.reference)"
                let copied = try VersionCopy.copy(
                    source, from: context.sourceRegistry, origin: origin, into: targetRegistry, actor: context.actor,
                    reuse: true)
                p.targetVersion = copied.version
                try store.save(p)
                try mark("copy_version", "done", ["version": String(copied.version)])
            }
            if !done("merge") {
                try mark("merge", "started")
                let head = try git.currentHead()
                // The production branch's lock file names the target's version, so that `tandem models verify`
                // in the target agrees on it (the branch's names the source's). It anchors the target's audit head,
                // and expects this promotion's `promotion.promoted` entry after it.
                let copied = try targetRegistry.version(.version(p.model, p.targetVersion ?? 0))
                let anchor = AuditAnchor.head(of: try targetRegistry.auditLog(), promotion: p.id)
                let lockPath = ModelLock.path(model: p.model)
                let merged = try git.merge(
                    p.commit, onto: head,
                    message: "Promote \(p.branch) with \(p.model)@\(p.version) to \(p.target) (\(p.id))\n\n"
                        + "\(lockPath) names \(p.target):\(copied.reference), copied from \(p.source):\(p.model)@\(p.version).",
                    author: context.actor,
                    files: [lockPath: try ModelLock(environment: p.target, version: copied, auditHead: anchor).text()])
                p.mergeCommit = merged
                p.previousBranchHead = head
                try store.save(p)
                try mark("merge", "done", ["commit": merged, "previous": head ?? ""])
            }
            if !done("tag") {
                try mark("tag", "started", ["tag": tagName(p)])
                try git.tag(
                    tagName(p), at: p.mergeCommit ?? p.commit,
                    message:
                        "\(p.model)@\(p.targetVersion ?? 0) in \(p.target), from \(p.source):\(p.model)@\(p.version); \(tagMarker(p))",
                    author: context.actor)
                p.tag = tagName(p)
                try store.save(p)
                try mark("tag", "done", ["tag": tagName(p)])
            }
        } catch {
            try undo(p, because: "\(error)", registry: targetRegistry)
            throw error
        }
        // The commit point.
        if !done("publish") {
            try mark("publish", "started")
            do {
                try git.publish(p.mergeCommit ?? p.commit, tag: p.tag)
            } catch {
                try undo(p, because: "\(error)", registry: targetRegistry)
                throw error
            }
            try mark("publish", "done")
        }
        if !done("branch") {
            try mark("branch", "started")
            try git.moveLocalBranch(to: p.mergeCommit ?? p.commit, from: p.previousBranchHead)
            try mark("branch", "done")
        }
        if !done("aliases") {
            try mark("aliases", "started")
            let previous = try Failure.unlessNotFound { try targetRegistry.version(.alias(p.model, "champion")) }
            if let previous, previous.version != p.targetVersion {
                try targetRegistry.setAlias(name: p.model, alias: "previous", version: previous.version, actor: context.actor)
                p.previousChampion = previous.version
            }
            try targetRegistry.setAlias(name: p.model, alias: "champion", version: p.targetVersion ?? 0, actor: context.actor)
            try store.save(p)
            try mark("aliases", "done", ["previous": p.previousChampion.map(String.init) ?? ""])
        }
        // Once per promotion: a process killed after this entry (and the finish step) resumes here, and must not
        // record the promotion twice in prod's audit log.
        let recorded = try targetRegistry.auditLog().contains {
            $0.action == "promotion.promoted" && $0.detail["promotion"] == p.id
        }
        if !recorded {
            try targetRegistry.appendAudit(
                actor: context.actor, action: "promotion.promoted", subject: "\(p.model)@\(p.targetVersion ?? 0)",
                detail: [
                    "promotion": p.id, "branch": p.branch, "commit": p.commit, "merge_commit": p.mergeCommit ?? "",
                    "model_digest": p.modelDigest, "report_digest": p.reportDigest ?? "",
                    "approved_by": engine.countedApprovers(p).joined(separator: ","),
                    "previous_champion": p.previousChampion.map(String.init) ?? "",
                    "production_branch": context.target.git.productionBranch,
                ])
        }
        try store.unlock(target: p.target, promotion: p.id)
        try mark("finish", "done")
        let promoted = try engine.transition(
            p, to: .promoted, event: "promotion.promoted",
            summary: "\(p.target) runs \(p.model)@\(p.targetVersion ?? 0) on \(context.target.git.productionBranch) "
                + "@ \((p.mergeCommit ?? p.commit).prefix(12))")
        try engine.requireLane(p.model, after: "promotion \(p.id)")
        return promoted
    }

    /// Undoes a promotion that stopped before its commit point: the local tag it made goes (never a tag of the
    /// same name it found there), the lock is released, the promotion fails with its reason. The production branch
    /// and the champion are as they were. A version already copied into the target stays (versions are
    /// immutable and numbered, and the audit chain records each one): not champion, carrying nothing of this
    /// promotion, reused by a later promotion of the same version; the reason and the target's audit log
    /// (`promotion.undone`) say so.
    func undo(_ promotion: Promotion, because reason: String, registry: (any ModelRegistry)? = nil) throws {
        var p = promotion
        let journal = try context.store.journalEntries(p.id)
        if let tag = p.tag ?? journal["tag"]?.detail["tag"] { gitPromotion().deleteTag(tag, ifMessageContains: tagMarker(p)) }
        // The copy may have happened even when its step was not marked done (a crash inside it): ask the registry.
        var kept: ModelVersion?
        var unknown: String?
        if journal["copy_version"] != nil {
            do {
                let targetRegistry = try registry ?? context.openTargetRegistry()
                let origin = "\(p.source):\(p.model)@\(p.version)"
                kept = try targetRegistry.versions(name: p.model).first {
                    $0.copiedFrom == origin && $0.artifactDigest == p.modelDigest
                }
                if let kept {
                    try targetRegistry.appendAudit(
                        actor: context.actor, action: "promotion.undone", subject: "\(p.model)@\(kept.version)",
                        detail: [
                            "promotion": p.id, "branch": p.branch, "commit": p.commit, "kept_version": String(kept.version),
                            "reason": reason,
                        ])
                }
            } catch {
                unknown = "\(error)"
            }
        }
        try context.store.unlock(target: p.target, promotion: p.id)
        try context.store.journal(p.id, step: "undone", status: "done", detail: ["reason": reason])
        let branch = context.target.git.productionBranch
        if let kept {
            p.targetVersion = kept.version
            p.reason =
                "promotion undone: \(branch) and the champion of \(p.target) are unchanged; \(p.target)'s registry keeps "
                + "\(kept.reference), copied from \(kept.copiedFrom ?? "\(p.source)") (not champion; a later promotion of that "
                + "version reuses it): \(reason)"
        } else if let unknown {
            p.reason =
                "promotion undone: \(branch) and the champion of \(p.target) are unchanged; whether \(p.target)'s registry "
                + "keeps a copy of \(p.model)@\(p.version) could not be checked (\(unknown)): \(reason)"
        } else {
            p.targetVersion = nil
            p.reason = "promotion undone, nothing changed in \(p.target): \(reason)"
        }
        try engine.transition(p, to: .failed, event: "promotion.failed", summary: p.reason ?? "")
    }

    /// Finishes or undoes a promotion interrupted while promoting.
    func recover(_ promotion: Promotion) throws -> Promotion {
        let p = promotion
        guard p.state == .promoting else { return p }
        let journal = try context.store.journalEntries(p.id)
        let git = gitPromotion()
        var committed = journal["publish"]?.status == "done"
        if !committed, journal["publish"]?.status == "started", let merged = p.mergeCommit {
            // The push may or may not have happened: ask the remote (or the local branch without one).
            committed =
                context.target.git.remote != nil
                ? git.remoteIsAt(merged) : (try? engine.git.commit(of: context.target.git.productionBranch)) == merged
        }
        if committed {
            if journal["publish"]?.status != "done" {
                try context.store.journal(p.id, step: "publish", status: "done", detail: [:])
            }
            return try promote(p)
        }
        try undo(p, because: "interrupted before \(context.target.git.productionBranch) was published; recovered by undoing")
        return try context.store.promotion(p.id)
    }
}

extension PromotionEngine {
    /// Finishes or undoes a promotion interrupted while promoting.
    public func recover(_ id: String) throws -> Promotion {
        try Promoter(engine: self).recover(try context.store.promotion(id))
    }

    /// Promotions interrupted while promoting (for `recover` without an id).
    public func interrupted() throws -> [Promotion] {
        try context.store.all().filter { $0.state == .promoting }
    }
}
