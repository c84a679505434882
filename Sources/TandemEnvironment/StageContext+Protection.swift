import Foundation
import TandemCore
import TandemProfiles
import TandemPromotion
public import TandemRegistry
import TandemStorage

extension StageContext {
    /// Who may write an environment's registry besides the promotion engine, as its production side says.
    public struct Protection: Sendable {
        /// True when only the promotion engine writes the registry, and only approvers move its aliases.
        public var protected: Bool
        /// Who may move aliases (and roll back) when it is protected.
        public var approvers: [String]
        /// The profile both come from (`production@1a2b3c4d5e6f:environments/prod.yaml`, or the checkout's).
        public var file: String
    }

    /// The environment's protection, read from its production branch (`ProductionSide`): a checkout that says
    /// `protected: false` cannot unprotect an environment whose production branch says `protected: true`; it can
    /// only protect one that is not. Without a production branch the checkout's profile decides, unless the
    /// registry records promotions (then its rules cannot be read, and nothing is allowed).
    ///
    /// - Throws: `Failure` (exit 2) when the registry records promotions to another production branch than
    ///   the checkout names, or to one that does not exist; the errors of `ProductionSide.read`.
    public func protection() throws -> Protection {
        let own = Protection(protected: profile.protected, approvers: profile.approvals.approvers, file: profile.file)
        guard readsProductionSide else { return own }
        guard let side = try ProductionSide.read(profile, repositoryRoot: repositoryRoot) else {
            if case .some(let recorded) = try recordedProductionBranch() {
                let branch = recorded ?? profile.git.productionBranch
                throw Failure(
                    .invalidInput,
                    "\(profile.name)'s registry records promotions to production branch '\(branch)', but "
                        + "'\(profile.git.productionBranch)' (\(profile.file): git.production_branch) does not exist"
                        + (profile.git.remote.map { " on remote '\($0)'" } ?? "")
                        + "; its rules (protection, approvers) are read there, so restore that branch or run from a "
                        + "checkout that names it")
            }
            return own
        }
        try requireRecordedProductionBranch(side.branch)
        guard side.profile.protected else { return own }
        return Protection(protected: true, approvers: side.profile.approvals.approvers, file: side.profile.file)
    }

    /// Refuses (exit 2) a production branch other than the one the registry's promotions went to: a branch
    /// that renames `git.production_branch` in its own profile cannot point the gate at a branch it controls.
    public func requireRecordedProductionBranch(_ branch: String) throws {
        guard case .some(.some(let recorded)) = try recordedProductionBranch(), recorded != branch else { return }
        throw Failure(
            .invalidInput,
            "\(profile.name)'s registry records promotions to production branch '\(recorded)' (its latest promotion "
                + "entry; see `tandem models history --env \(profile.name)`), but \(profile.file) names '\(branch)'; "
                + "a branch cannot move production: run from a checkout whose git.production_branch is '\(recorded)'")
    }

    /// The production branch the registry's latest promotion or rollback went to (`ProductionSide.recordedBranch`),
    /// reading the registry only when it exists.
    public func recordedProductionBranch() throws -> String?? {
        var folder: String?
        if case .file = profile.roots.registry {
            guard let path = profiles.absolutePath(of: profile.roots.registry),
                RootGuard.stamp(of: path)?.environment == profile.name, SQLiteModelRegistry.holdsRegistry(path)
            else { return .none }
            folder = path
        }
        let registry = try RegistryBackends.open(profile.roots.registry, folder: folder)
        return try ProductionSide.recordedBranch(in: registry)
    }
}

extension StageContext {
    /// The registry, opened to move or delete an alias as `actor`: in a protected environment (as its production
    /// branch says) only one of its approvers may, through the promotion engine's writer; elsewhere any stage may.
    ///
    /// - Throws: `Failure` (exit 2) naming the approvers when `actor` is not one of a protected environment's.
    public func registryForAliasMove(actor: String) throws -> any ModelRegistry {
        let protection = try protection()
        if protection.protected {
            guard protection.approvers.contains(actor) else {
                let list = protection.approvers.isEmpty ? "none listed" : protection.approvers.joined(separator: ", ")
                throw Failure(
                    .invalidInput,
                    "'\(actor)' is not an approver of \(profile.name) (\(protection.file): approvals.approvers: "
                        + "\(list)); only an approver may move or delete an alias of a protected environment "
                        + "(TANDEM_ACTOR, else the OS user, says who you are)")
            }
        }
        return try openRegistry(writer: protection.protected ? .promotionEngine : .stage("models"))
    }
}
