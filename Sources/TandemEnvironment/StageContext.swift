import Foundation
import TandemCore
import TandemFeatures
public import TandemLakehouse
import TandemPostgres
public import TandemProfiles
public import TandemPromotion
public import TandemStorage
public import TandemWebhooks

/// What a stage knows once its common options are resolved: the repository, its profiles and the environment.
public struct StageContext: Sendable {
    public let repositoryRoot: String
    public let profiles: ProfileSet
    public let profile: Profile
    /// False for `tandem local test`'s rehearsal roots, which no production branch governs: their protection is
    /// the (localised) profile's own.
    public var readsProductionSide = true

    /// A context for `profile` of `profiles` (`readsProductionSide: false` judges by the checkout's profiles, as
    /// `tandem local test` does).
    public init(repositoryRoot: String, profiles: ProfileSet, profile: Profile, readsProductionSide: Bool = true) {
        self.repositoryRoot = repositoryRoot
        self.profiles = profiles
        self.profile = profile
        self.readsProductionSide = readsProductionSide
    }

    /// Finds the repository, loads and checks every profile, and selects the environment.
    public static func load(project: String?, environment name: String) throws -> StageContext {
        let set = try loadProfiles(project: project)
        return StageContext(repositoryRoot: set.repositoryRoot, profiles: set, profile: try set.profile(named: name))
    }

    /// Finds the repository and loads its profiles.
    public static func loadProfiles(project: String?) throws -> ProfileSet {
        let environment = ProcessInfo.processInfo.environment
        let start = project ?? FileManager.default.currentDirectoryPath
        guard
            let root = project.map({ ($0 as NSString).standardizingPath })
                ?? ProfileSet.findRepositoryRoot(from: start, environment: environment)
        else {
            throw Failure(
                .invalidInput,
                "no environments/ folder in \(start) or any parent; run Tandem inside its repository, "
                    + "or pass --project DIR (or set TANDEM_PROJECT)")
        }
        return try ProfileSet.load(repositoryRoot: root)
    }

    /// The absolute folder of a file:// root, or an error saying the scheme is not served yet.
    public func folder(of role: RootRole) throws -> String {
        let root =
            switch role {
            case .features: profile.roots.features
            case .state: profile.roots.state ?? profile.roots.registry
            default: profile.roots.registry
            }
        guard let path = profiles.absolutePath(of: root) else {
            throw Failure(
                .invalidInput,
                "\(profile.file): roots.\(role.rawValue) is \(root), and \(root.scheme):// \(role.rawValue) roots are "
                    + "parsed but not served by this version of Tandem; use a file:// root for now")
        }
        return path
    }

    /// The promotion state (promotions, journal, locks) and the outbox, opened for writing: in the PostgreSQL
    /// database `roots.state` names (connected, migrated, its owner checked), else in the SQLite files of the
    /// `roots.state` folder, else of the registry's root (where they always lived).
    public func openState(stage: String) throws -> StateStores {
        if case .postgres(let url) = profile.roots.state {
            let location: PostgresLocation
            do { location = try PostgresLocation.parse(url) } catch {
                throw Failure(.invalidInput, "\(profile.file): roots.state: \(error.description)")
            }
            if let variable = location.passwordEnv, (ProcessInfo.processInfo.environment[variable] ?? "").isEmpty {
                throw Failure(
                    .invalidInput,
                    "\(profile.locations["roots.state"].map { "\($0)" } ?? profile.file): roots.state names password_env=\(variable), and $\(variable) is not set; set it to the "
                        + "password of the database role (in CI, from the secret store)")
            }
            let state = try PostgresState(location, environment: profile.name, resolve: { self.resolve($0) })
            return StateStores(
                promotions: PostgresPromotionStore(state), outbox: PostgresOutbox(state), location: location.description)
        }
        let folder = try claimState(stage: stage)
        return StateStores(
            promotions: try PromotionStore(root: folder), outbox: try Outbox(root: folder), location: "file://" + folder)
    }

    /// The folder of the promotion state (promotions, journal, locks) and the outbox, claimed for writing: `roots.state`
    /// when the profile names one, else the registry's root (where they always lived).
    public func claimState(stage: String) throws -> String {
        guard profile.roots.state != nil else { return try claim(.registry, stage: stage) }
        let path = try folder(of: .state)
        try RootGuard.claim(path: path, environment: profile.name, role: .state, writer: .stage(stage))
        return path
    }

    /// Claims a root for writing (runtime isolation) and returns its folder: the one gate every stage's writes
    /// into a `file://` root pass (`RootGuard.claim`); the stores then keep every file inside it.
    public func claim(_ role: RootRole, stage: String) throws -> String {
        let path = try folder(of: role)
        try RootGuard.claim(
            path: path, environment: profile.name, role: role,
            protected: profile.protected || (role == .registry && (try protection().protected)), writer: .stage(stage))
        return path
    }

    /// Opens the feature store of this environment for writing, first reclaiming the staging that killed runs
    /// of this store left behind.
    public func openFeatureStore(stage: String) throws -> FeatureStore {
        let store = try FeatureStore(root: try claim(.features, stage: stage))
        store.reclaimStaging()
        return store
    }

    /// Opens the feature store for reading; it must exist.
    public func openFeatureStoreForReading() throws -> FeatureStore {
        let path = try folder(of: .features)
        try requireOwnRoot(
            path, role: .features,
            ifEmpty: "the features root of '\(profile.name)' is empty; run `tandem etl --env \(profile.name)` first")
        return try FeatureStore(root: path)
    }

    /// A root opened for reading must exist and be this environment's, for this role (`RootGuard.open`).
    public func requireOwnRoot(_ path: String, role: RootRole, ifEmpty: String) throws {
        try RootGuard.open(path: path, environment: profile.name, role: role, ifEmpty: ifEmpty)
    }

    /// `path` resolved against the repository root (unless absolute).
    public func resolve(_ path: String) -> String {
        ProfileSet.absolutePath(path, repositoryRoot: repositoryRoot)
    }
}

/// An environment's promotion state and outbox, as its state root serves them.
public struct StateStores: Sendable {
    public var promotions: any PromotionStateStore
    public var outbox: any DeliveryQueue
    /// Where they are (a folder, or a database URL; never a secret).
    public var location: String
}
