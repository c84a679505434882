import Foundation
import TandemCore

extension RootGuard {
    /// Checks that `path` stays inside `root` on disk, and returns it: the path is inside the root by its
    /// components (no `..` out of it), and no component below the root that exists is a symbolic link, nor a
    /// regular file with more than one hard link (a file shared with another root). Components that do not
    /// exist yet are fine: Tandem creates them, as plain folders and files.
    ///
    /// Every file a store opens for writing under its root is resolved through this check first; stores create
    /// new files exclusively (`O_EXCL`, which never follows a link) and move them into place by `rename`, which
    /// replaces a link rather than following it.
    ///
    /// - Throws: `RootAccessError` `.link` (exit 3), naming the link, what it points at and the root.
    @discardableResult
    public static func contained(_ path: String, in root: String) throws(RootAccessError) -> String {
        let rootComponents = lexicalComponents(root)
        let components = lexicalComponents(path)
        guard components.count >= rootComponents.count, Array(components.prefix(rootComponents.count)) == rootComponents
        else {
            throw RootAccessError(
                description: "\(path) is outside the root \(root); Tandem writes a root's files only inside it",
                exitStatus: .infrastructure, kind: .link)
        }
        var current = "/" + rootComponents.joined(separator: "/")
        for component in components.dropFirst(rootComponents.count) {
            current = (current == "/" ? "" : current) + "/" + component
            var st = stat()
            guard lstat(current, &st) == 0 else {
                if errno == ENOENT || errno == ENOTDIR { break }
                throw RootAccessError(
                    description: "\(current): cannot be inspected (\(String(cString: strerror(errno)))) in the root \(root); "
                        + "check its permissions",
                    exitStatus: .infrastructure, kind: .unwritable)
            }
            let type = st.st_mode & S_IFMT
            if type == S_IFLNK {
                let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: current)) ?? "?"
                throw RootAccessError(
                    description: "\(current) is a symbolic link (to \(target)) inside the root \(root); Tandem never "
                        + "reads or writes a root's files through a link, which could lead into another environment's "
                        + "root. Remove the link (and put the real files there) before running again",
                    exitStatus: .infrastructure, kind: .link)
            }
            if type == S_IFREG, st.st_nlink > 1 {
                throw RootAccessError(
                    description: "\(current) has \(st.st_nlink) hard links inside the root \(root): it shares its "
                        + "content with a file elsewhere (possibly another environment's root). Replace it by a copy "
                        + "of its own before running again",
                    exitStatus: .infrastructure, kind: .link)
            }
        }
        return path
    }

    /// `relative` inside `root`, checked by `contained(_:in:)`.
    public static func file(_ relative: String, in root: String) throws(RootAccessError) -> String {
        try contained((root as NSString).appendingPathComponent(relative), in: root)
    }

    /// Creates the folder `path` inside `root` (and its missing parents) as plain folders, refusing a link on
    /// the way, before and after creating.
    ///
    /// - Throws: `RootAccessError` `.link` (exit 3) for a link; `StoreError` (exit 3) when the folder cannot be
    ///   created, naming it, the root and the reason.
    public static func createFolder(_ path: String, in root: String) throws -> String {
        try contained(path, in: root)
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw WriteFailure.error(error, path: path, root: root)
        }
        return try contained(path, in: root)
    }

    /// The components of an absolute path with `.` and `..` applied lexically (no link is resolved).
    static func lexicalComponents(_ path: String) -> [String] {
        var out: [String] = []
        for part in path.split(separator: "/") {
            switch part {
            case ".": continue
            case "..": if !out.isEmpty { out.removeLast() }
            default: out.append(String(part))
            }
        }
        return out
    }
}

/// A failure to write a root's file, named by path and root, with the operating system's reason.
public enum WriteFailure {
    /// The reason an operation failed, in the operating system's words: the POSIX error beneath Foundation's
    /// error when there is one ("No space left on device", "Permission denied"), never an `NSCocoaErrorDomain`
    /// number.
    public static func reason(_ error: any Error) -> String {
        if let posix = posixCode(error) { return String(cString: strerror(posix)) }
        if let store = error as? StoreError { return store.description }
        let ns = error as NSError
        switch ns.code {
        case CocoaError.fileWriteOutOfSpace.rawValue: return String(cString: strerror(ENOSPC))
        case CocoaError.fileWriteNoPermission.rawValue, CocoaError.fileReadNoPermission.rawValue:
            return String(cString: strerror(EACCES))
        case CocoaError.fileWriteVolumeReadOnly.rawValue: return String(cString: strerror(EROFS))
        default: return ns.localizedDescription
        }
    }

    /// The POSIX error code beneath an error, if any.
    public static func posixCode(_ error: any Error) -> Int32? {
        let ns = error as NSError
        if ns.domain == NSPOSIXErrorDomain { return Int32(ns.code) }
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError { return posixCode(underlying) }
        return nil
    }

    /// A store error (exit 3) for a write into `root` that failed at `path` (or at the path the error names);
    /// a Tandem error passes through.
    public static func error(_ error: any Error, path: String, root: String?) -> any Error {
        if error is any TandemError { return error }
        let failed = ((error as NSError).userInfo[NSFilePathErrorKey] as? String) ?? path
        let place = root.map { " in the root \($0)" } ?? ""
        return StoreError(
            "\(failed): cannot be written\(place) (\(reason(error))); free space on its file system or fix its "
                + "permissions, then run again (nothing half-written was kept)")
    }

    /// The last resort of a stage's error report: a database or file-system error that reached it untyped is an
    /// infrastructure failure (exit 3), named by the file it names when it names one. `nil` for other errors.
    public static func typed(_ error: any Error) -> StoreError? {
        if error is any TandemError { return nil }
        if let described = SQLiteDatabase.typed(error) { return described }
        let ns = error as NSError
        let fileError =
            ns.domain == NSPOSIXErrorDomain
            // Foundation's file errors are codes 0 to 1023 of its domain (fileErrorMinimum…fileErrorMaximum).
            || (ns.domain == NSCocoaErrorDomain && (0...1023).contains(ns.code))
        guard fileError else { return nil }
        let path = (ns.userInfo[NSFilePathErrorKey] as? String) ?? (ns.userInfo[NSURLErrorKey] as? URL)?.path
        return StoreError(
            (path.map { "\($0): " } ?? "") + "a file operation failed (\(reason(error))); free space on its file "
                + "system or fix its permissions, then run again")
    }

    /// The errno of the last failed system call as an error carrying the path, for `error(_:path:root:)`.
    public static func lastError(_ path: String) -> any Error {
        NSError(domain: NSPOSIXErrorDomain, code: Int(errno), userInfo: [NSFilePathErrorKey: path])
    }
}
