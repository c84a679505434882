import Foundation
public import TandemCore

/// What a storage root holds.
public enum RootRole: String, Sendable, Codable {
    case features, registry, local
    /// Promotions, their journal and locks, and the webhook outbox (`roots.state`), when they do not live in the
    /// registry's root.
    case state
}

/// Who is writing into a root: an ordinary stage, or the promotion engine (the only writer of a
/// protected environment's registry).
public enum RootWriter: Sendable {
    case stage(String)
    case promotionEngine
}

/// The ownership stamp written into a root the first time an environment writes there.
public struct RootStamp: Codable, Sendable, Equatable {
    public var environment: String
    public var role: RootRole
    public var createdAt: String

    enum CodingKeys: String, CodingKey {
        case environment, role
        case createdAt = "created_at"
    }
}

/// Refusals of the runtime isolation check.
public struct RootAccessError: TandemError {
    /// What kind of refusal, for callers that decide on it.
    public enum Kind: Sendable, Equatable {
        /// The root (or a folder above it) belongs to another environment, or the root to another role.
        case foreign
        /// A protected registry written by anything but the promotion engine.
        case protected
        /// A link (symbolic, or a hard link shared with another file) inside the root, or a path outside it.
        case link
        /// The root holds a store's files but its ownership stamp is missing or unreadable.
        case damaged
        /// The root is empty (opened for reading before anything was written).
        case empty
        /// The folder cannot be created, inspected or written.
        case unwritable
    }

    public var description: String
    public var exitStatus: ExitStatus
    /// What kind of refusal.
    public var kind: Kind
    /// The failure code of the refusal: another environment's or a protected root is `.denied`, a link or a
    /// damaged root `.tampered`, an empty root `.notFound`, a folder that cannot be written `.failed`.
    public var code: Failure.Code {
        switch kind {
        case .foreign, .protected: .denied
        case .link, .damaged: .tampered
        case .empty: .notFound
        case .unwritable: .failed
        }
    }

    /// Makes a refusal.
    public init(description: String, exitStatus: ExitStatus, kind: Kind) {
        self.description = description
        self.exitStatus = exitStatus
        self.kind = kind
    }
}

/// Runtime isolation between environments (docs/architecture.md, "Isolation"): the first write into a root stamps it with the
/// owning environment; a stage for one environment refuses to write into a root owned by another.
///
/// This is the one gate through which a stage opens a `file://` root, for writing (`claim`) or reading (`open`):
/// both check the stamp (environment and role), refuse a root that holds a store's files but lost its stamp, and
/// refuse a root reached through another environment's folder. The stores then resolve every file they open
/// through `contained(_:in:)`, so a link inside the root cannot lead out of it.
public enum RootGuard {
    /// The name of the stamp file at the top of every root.
    public static let stampName = ".tandem-root.json"

    /// The files and folders a role's stores write at the top of a root: a root holding any of them holds data.
    public static func storeEntries(of role: RootRole) -> [String] {
        let databases: [String]
        switch role {
        case .features: databases = ["lakehouse.sqlite"]
        case .registry: databases = ["registry.sqlite", "promotions.sqlite", "outbox.sqlite"]
        case .local: databases = []
        case .state: databases = ["promotions.sqlite", "outbox.sqlite"]
        }
        let folders: [String] =
            switch role {
            case .features: ["bronze", "silver", "gold"]
            case .registry: ["artifacts"]
            case .local, .state: []
            }
        return databases.flatMap { name in SQLiteDatabase.sidecars.map { name + $0 } } + folders
    }

    /// Opens `path` for writing on behalf of `environment`, creating and stamping it on first use.
    ///
    /// - Throws: `RootAccessError` (exit 2) when the root or one of its parents belongs to another
    ///   environment or role, or when a protected registry is written by anything but the promotion engine;
    ///   (exit 3) when the root holds a store's files but no readable stamp (it is never stamped afresh), or
    ///   when the folder cannot be created or written.
    @discardableResult
    public static func claim(
        path: String, environment: String, role: RootRole, protected: Bool = false, writer: RootWriter
    ) throws(RootAccessError) -> RootStamp {
        if protected, role == .registry, case .stage(let stage) = writer {
            throw RootAccessError(
                description: "\(path): the \(environment) registry is written only by the promotion engine; "
                    + "'\(stage)' may read it but not write it (promote a model with `tandem promote start`)",
                exitStatus: .badInput, kind: .protected)
        }
        try checkParents(of: path, environment: environment)
        let fm = FileManager.default
        do {
            try fm.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw RootAccessError(
                description: "\(path): cannot create the \(role.rawValue) root of '\(environment)' (\(reason(error))); "
                    + "check the path and its permissions",
                exitStatus: .infrastructure, kind: .unwritable)
        }
        let stampPath = (path as NSString).appendingPathComponent(stampName)
        try containedStamp(stampPath, in: path)
        if let existing = try readStamp(stampPath) {
            try check(existing, at: path, environment: environment, role: role)
            guard fm.isWritableFile(atPath: path) else {
                throw RootAccessError(
                    description: "\(path): the root is not writable; check its permissions",
                    exitStatus: .infrastructure, kind: .unwritable)
            }
            return existing
        }
        try refuseUnstamped(path, role: role, environment: environment)
        let stamp = RootStamp(environment: environment, role: role, createdAt: Timestamp.now())
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        do {
            let data = try encoder.encode(stamp)
            // Exclusive create through a hard link: of two first writers, exactly one stamp wins.
            let temporary = stampPath + ".\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp"
            try data.write(to: URL(fileURLWithPath: temporary), options: .withoutOverwriting)
            defer { unlink(temporary) }
            if link(temporary, stampPath) != 0, errno != EEXIST {
                throw RootAccessError(
                    description: "\(path): cannot stamp the root (\(String(cString: strerror(errno))))",
                    exitStatus: .infrastructure, kind: .unwritable)
            }
        } catch let error as RootAccessError {
            throw error
        } catch {
            throw RootAccessError(
                description: "\(path): cannot write into the \(role.rawValue) root (\(reason(error))); "
                    + "check its permissions and free space",
                exitStatus: .infrastructure, kind: .unwritable)
        }
        guard let winner = try readStamp(stampPath) else {
            throw RootAccessError(
                description: "\(path): the root's stamp vanished while it was written", exitStatus: .infrastructure,
                kind: .damaged)
        }
        try check(winner, at: path, environment: environment, role: role)
        return winner
    }

    /// Opens `path` for reading on behalf of `environment`: it must carry this environment's stamp for `role`.
    ///
    /// - Throws: `RootAccessError` `.empty` (exit 2, with `ifEmpty` as the message) when nothing was written
    ///   there yet; `.foreign` (exit 2) when it belongs to another environment or role; `.damaged` (exit 3) when
    ///   it holds a store's files but no readable stamp.
    @discardableResult
    public static func open(path: String, environment: String, role: RootRole, ifEmpty: String) throws(RootAccessError)
        -> RootStamp
    {
        try checkParents(of: path, environment: environment)
        let stampPath = (path as NSString).appendingPathComponent(stampName)
        try containedStamp(stampPath, in: path)
        guard let stamp = try readStamp(stampPath) else {
            try refuseUnstamped(path, role: role, environment: environment)
            throw RootAccessError(description: "\(path): \(ifEmpty)", exitStatus: .badInput, kind: .empty)
        }
        if stamp.environment != environment {
            throw RootAccessError(
                description: "\(path): this root belongs to environment '\(stamp.environment)', not '\(environment)'",
                exitStatus: .badInput, kind: .foreign)
        }
        if stamp.role != role {
            throw RootAccessError(
                description: "\(path): this root is '\(environment)''s \(stamp.role.rawValue) root, not its "
                    + "\(role.rawValue) root; give each role its own folder",
                exitStatus: .badInput, kind: .foreign)
        }
        return stamp
    }

    /// The stamp of a root, if it has one that parses.
    public static func stamp(of path: String) -> RootStamp? {
        try? readStamp((path as NSString).appendingPathComponent(stampName))
    }

    /// A root without a stamp may be new, never damaged: one that holds a store's files lost its stamp.
    private static func refuseUnstamped(_ path: String, role: RootRole, environment: String) throws(RootAccessError) {
        let held = storeEntries(of: role).filter {
            var st = stat()
            return lstat((path as NSString).appendingPathComponent($0), &st) == 0
        }
        guard let first = held.first else { return }
        throw RootAccessError(
            description: "\(path): the \(role.rawValue) root holds \(first) but no ownership stamp (\(stampName)); "
                + "restore the stamp (it names the owning environment) before '\(environment)' reads or writes this "
                + "root: Tandem never stamps a root that already holds data",
            exitStatus: .infrastructure, kind: .damaged)
    }

    private static func containedStamp(_ stampPath: String, in root: String) throws(RootAccessError) {
        var st = stat()
        guard lstat(stampPath, &st) == 0 else { return }
        if (st.st_mode & S_IFMT) != S_IFREG {
            throw RootAccessError(
                description: "\(stampPath): the ownership stamp is not a plain file (a link or a folder); restore it",
                exitStatus: .infrastructure, kind: .link)
        }
    }

    private static func check(_ stamp: RootStamp, at path: String, environment: String, role: RootRole) throws(RootAccessError) {
        if stamp.environment != environment {
            throw RootAccessError(
                description: "\(path): this root belongs to environment '\(stamp.environment)' (stamped \(stamp.createdAt)); "
                    + "a stage for '\(environment)' refuses to write into it. Give '\(environment)' its own root in "
                    + "environments/\(environment).yaml",
                exitStatus: .badInput, kind: .foreign)
        }
        if stamp.role != role {
            throw RootAccessError(
                description: "\(path): this root is '\(environment)''s \(stamp.role.rawValue) root and cannot also be its "
                    + "\(role.rawValue) root; give each role its own folder",
                exitStatus: .badInput, kind: .foreign)
        }
    }

    /// Refuses a root inside another environment's root, by the path as given and by the path it resolves to.
    private static func checkParents(of path: String, environment: String) throws(RootAccessError) {
        var paths = [path]
        if let real = realPath(path), real != path { paths.append(real) }
        for candidate in paths {
            var current = (candidate as NSString).deletingLastPathComponent
            while !current.isEmpty && current != "/" {
                if let stamp = try? readStamp((current as NSString).appendingPathComponent(stampName)),
                    stamp.environment != environment
                {
                    throw RootAccessError(
                        description: "\(path): this folder is inside \(current), a root of environment '\(stamp.environment)'; "
                            + "a stage for '\(environment)' refuses to write there. Move '\(environment)''s root elsewhere",
                        exitStatus: .badInput, kind: .foreign)
                }
                current = (current as NSString).deletingLastPathComponent
            }
        }
    }

    /// The path with every symbolic link resolved, when it exists.
    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    private static func readStamp(_ path: String) throws(RootAccessError) -> RootStamp? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        do {
            return try JSONDecoder().decode(RootStamp.self, from: data)
        } catch {
            throw RootAccessError(
                description: "\(path): the root's ownership stamp is unreadable; restore it (it names the owning "
                    + "environment and role) or remove the whole root to start afresh",
                exitStatus: .infrastructure, kind: .damaged)
        }
    }

    static func reason(_ error: any Error) -> String {
        WriteFailure.reason(error)
    }
}
