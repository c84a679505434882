import Foundation
import TandemCore

/// What a storage root holds.
public enum RootRole: String, Sendable, Codable {
    case features, registry, local
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
    public var description: String
    public var exitStatus: ExitStatus
}

/// Runtime isolation between environments (docs/architecture.md, "Isolation"): the first write into a root stamps it with the
/// owning environment; a stage for one environment refuses to write into a root owned by another.
public enum RootGuard {
    /// The name of the stamp file at the top of every root.
    public static let stampName = ".tandem-root.json"

    /// Opens `path` for writing on behalf of `environment`, creating and stamping it on first use.
    ///
    /// - Throws: `RootAccessError` (exit 2) when the root or one of its parents belongs to another
    ///   environment or role, or when a protected registry is written by anything but the promotion engine;
    ///   (exit 3) when the folder cannot be created or written.
    @discardableResult
    public static func claim(
        path: String, environment: String, role: RootRole, protected: Bool = false, writer: RootWriter
    ) throws(RootAccessError) -> RootStamp {
        if protected, role == .registry, case .stage(let stage) = writer {
            throw RootAccessError(
                description: "\(path): the \(environment) registry is written only by the promotion engine; "
                    + "'\(stage)' may read it but not write it (promote a model with `tandem promote start`)",
                exitStatus: .badInput)
        }
        try checkParents(of: path, environment: environment)
        let fm = FileManager.default
        do {
            try fm.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw RootAccessError(
                description: "\(path): cannot create the \(role.rawValue) root of '\(environment)' (\(reason(error))); "
                    + "check the path and its permissions",
                exitStatus: .infrastructure)
        }
        let stampPath = (path as NSString).appendingPathComponent(stampName)
        if let existing = try readStamp(stampPath) {
            try check(existing, at: path, environment: environment, role: role)
            guard fm.isWritableFile(atPath: path) else {
                throw RootAccessError(
                    description: "\(path): the root is not writable; check its permissions",
                    exitStatus: .infrastructure)
            }
            return existing
        }
        let stamp = RootStamp(environment: environment, role: role, createdAt: Timestamp.now())
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        do {
            let data = try encoder.encode(stamp)
            // Exclusive create through a hard link: of two first writers, exactly one stamp wins.
            let temporary = stampPath + ".\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp"
            try data.write(to: URL(fileURLWithPath: temporary))
            defer { unlink(temporary) }
            if link(temporary, stampPath) != 0, errno != EEXIST {
                throw RootAccessError(
                    description: "\(path): cannot stamp the root (\(String(cString: strerror(errno))))",
                    exitStatus: .infrastructure)
            }
        } catch let error as RootAccessError {
            throw error
        } catch {
            throw RootAccessError(
                description: "\(path): cannot write into the \(role.rawValue) root (\(reason(error))); check its permissions",
                exitStatus: .infrastructure)
        }
        guard let winner = try readStamp(stampPath) else {
            throw RootAccessError(
                description: "\(path): the root's stamp vanished while it was written", exitStatus: .infrastructure)
        }
        try check(winner, at: path, environment: environment, role: role)
        return winner
    }

    /// The stamp of a root, if it has one.
    public static func stamp(of path: String) -> RootStamp? {
        try? readStamp((path as NSString).appendingPathComponent(stampName))
    }

    private static func check(_ stamp: RootStamp, at path: String, environment: String, role: RootRole) throws(RootAccessError) {
        if stamp.environment != environment {
            throw RootAccessError(
                description: "\(path): this root belongs to environment '\(stamp.environment)' (stamped \(stamp.createdAt)); "
                    + "a stage for '\(environment)' refuses to write into it. Give '\(environment)' its own root in "
                    + "environments/\(environment).yaml",
                exitStatus: .badInput)
        }
        if stamp.role != role {
            throw RootAccessError(
                description: "\(path): this root is '\(environment)''s \(stamp.role.rawValue) root and cannot also be its "
                    + "\(role.rawValue) root; give each role its own folder",
                exitStatus: .badInput)
        }
    }

    private static func checkParents(of path: String, environment: String) throws(RootAccessError) {
        var current = (path as NSString).deletingLastPathComponent
        while !current.isEmpty && current != "/" {
            if let stamp = try? readStamp((current as NSString).appendingPathComponent(stampName)),
                stamp.environment != environment
            {
                throw RootAccessError(
                    description: "\(path): this folder is inside \(current), a root of environment '\(stamp.environment)'; "
                        + "a stage for '\(environment)' refuses to write there. Move '\(environment)''s root elsewhere",
                    exitStatus: .badInput)
            }
            current = (current as NSString).deletingLastPathComponent
        }
    }

    private static func readStamp(_ path: String) throws(RootAccessError) -> RootStamp? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        do {
            return try JSONDecoder().decode(RootStamp.self, from: data)
        } catch {
            throw RootAccessError(
                description: "\(path): the root's ownership stamp is unreadable; restore it or remove the root to start afresh",
                exitStatus: .badInput)
        }
    }

    private static func reason(_ error: any Error) -> String {
        (error as NSError).localizedDescription
    }
}
