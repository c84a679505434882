import Foundation
import TandemCore
import TandemGit
public import TandemProfiles
public import TandemRegistry

/// An environment's profile as its production branch holds it: the committed `environments/NAME.yaml` at the
/// head of the branch (the remote's head when the profile names a remote), resolved with what it extends from
/// the same commit. The rules that judge a promotion into an environment (approvals, approvers, policy,
/// `protected`) come from here, never from the working tree or the branch being promoted, which can only
/// tighten them (docs/security.md).
public struct ProductionSide: Sendable {
    /// The production branch.
    public var branch: String
    /// Its head, where the profiles were read.
    public var commit: String
    /// Every profile committed there.
    public var profiles: ProfileSet
    /// The environment's own.
    public var profile: Profile
    /// The model configs committed there (`models/*.yaml`): whose `owners` judge each model's promotions.
    public var models: ModelCatalogue
    /// The environment's rules for each model that has owners (`Profile.applying`), checked when read.
    var modelRules: [String: Profile] = [:]

    /// The rules that judge a promotion of `model`: the owners its config on the production branch names, over the
    /// environment's; the environment's alone for a model that is not on the production branch yet.
    public func rules(for model: String) -> Profile { modelRules[model] ?? profile }

    /// What profile locations start with: `production@1a2b3c4d5e6f:environments`.
    public var label: String { "\(branch)@\(commit.prefix(12)):environments" }

    /// Reads the production side of the environment `checkout` (the working tree's profile) names: its
    /// `git.production_branch` on its `git.remote`. Nil when the folder is not a git repository or the branch does
    /// not exist yet.
    ///
    /// - Throws: `Failure` (exit 3) when the remote does not answer or its head cannot be fetched;
    ///   `ProfileError` (exit 2, located on the branch) when the committed profiles do not load;
    ///   `Failure` (exit 2) when the branch has no profile of the environment or names another
    ///   production branch or remote than the checkout does.
    public static func read(_ checkout: Profile, repositoryRoot: String) throws -> ProductionSide? {
        let git = Git(folder: repositoryRoot)
        guard git.isRepository else { return nil }
        let settings = checkout.git
        let promotion = GitPromotion(git: git, branch: settings.productionBranch, remote: settings.remote)
        guard let head = try promotion.currentHead() else { return nil }
        guard (try? git.run(["cat-file", "-e", "\(head)^{commit}"])) != nil else {
            throw Failure(
                .failed,
                "cannot fetch \(settings.productionBranch) @ \(head.prefix(12)) from \(settings.remote ?? "this repository"), "
                    + "where \(checkout.name)'s rules are read; check the remote")
        }
        let branch = settings.productionBranch
        let set = try profiles(at: head, label: "\(branch)@\(head.prefix(12)):environments", repositoryRoot: repositoryRoot)
        guard let profile = set.profiles[checkout.name] else {
            throw Failure(
                .invalidInput,
                "\(branch) @ \(head.prefix(12)) has no environments/\(checkout.name).yaml, where \(checkout.name)'s "
                    + "approvals, policy and protection are read; commit the profile on \(branch) first")
        }
        if profile.git.productionBranch != settings.productionBranch || profile.git.remote != settings.remote {
            throw Failure(
                .invalidInput,
                "\(profile.file) names production branch '\(profile.git.productionBranch)' on remote "
                    + "'\(profile.git.remote ?? "none")', but \(checkout.file) in this checkout names "
                    + "'\(settings.productionBranch)' on '\(settings.remote ?? "none")'; run from a checkout that agrees "
                    + "with \(branch) (a branch cannot move production)")
        }
        let label = "\(branch)@\(head.prefix(12)):"
        let models = try ModelCatalogue.committed(at: head, label: label, in: git)
        var side = ProductionSide(branch: branch, commit: head, profiles: set, profile: profile, models: models)
        for (name, config) in models.models {
            side.modelRules[name] = try profile.applying(config.owners, model: name, label: label + config.file)
        }
        return side
    }

    /// The profiles committed at `commit`, keyed by environment, as one checked set.
    public static func profiles(at commit: String, label: String, repositoryRoot: String) throws -> ProfileSet {
        let git = Git(folder: repositoryRoot)
        var files: [String: Data] = [:]
        for (path, size) in try git.files(in: "environments", at: commit).sorted(by: { $0.key < $1.key }) {
            guard path.hasSuffix(".yaml") else { continue }
            let name = String((path as NSString).lastPathComponent.dropLast(5))
            // Sized before it is read: a profile is bounded like every input (1 MiB).
            if size > InputLimits.yamlBytes {
                throw ProfileError(
                    location: SourceLocation(file: "\(label)/\(name).yaml", line: 1, column: 1),
                    problem: "is \(size) bytes, more than the \(InputLimits.yamlBytes >> 20) MiB a profile may have",
                    fix: "a profile is a few KiB; restore the production branch's environments/\(name).yaml")
            }
            files[name] = try git.output(["cat-file", "blob", "\(commit):\(path)"])
        }
        return try ProfileSet.load(repositoryRoot: repositoryRoot, files: files, directory: label)
    }

    /// The production branch that a registry's latest `promotion.promoted` or `promotion.rolled_back` entry
    /// names: `.none` when nothing was ever promoted into it, `.some(nil)` for entries older than the record.
    public static func recordedBranch(in registry: any ModelRegistry) throws -> String?? {
        guard
            let last = try registry.auditLog().last(where: {
                $0.action == "promotion.promoted" || $0.action == "promotion.rolled_back"
            })
        else { return .none }
        return .some(last.detail["production_branch"])
    }
}
