public import Foundation
import TandemCore

/// Staging names: what a store writes before the transaction that registers it moves it into place.
///
/// A staging name carries its owner, `.staging-PID-START-HOSTTAG-UUID` (`ProcessIdentity.token`), so that the
/// next run of the store, or `tandem jobs recover`, can tell a leftover of a killed process (its owner is gone:
/// no process with that pid and start time runs on this host) from the staging of a run still going, which is
/// never touched. Staging written on another host is left alone. Names of earlier versions, `.staging-UUID`
/// without an owner, are reclaimed once an hour old.
public enum Staging {
    /// What every staging name starts with.
    public static let prefix = ".staging-"
    /// How old an ownerless (earlier version's) staging entry must be before it is reclaimed.
    public static let ownerlessAge: TimeInterval = 3600

    /// A new staging name owned by this process.
    public static func name() -> String {
        prefix + ProcessIdentity.current.token + "-" + UUID().uuidString
    }

    /// Whether the staging entry `name` (in `folder`) was left by a process that is gone.
    public static func isAbandoned(_ name: String, in folder: String) -> Bool {
        guard name.hasPrefix(prefix) else { return false }
        let rest = name.dropFirst(prefix.count)
        let parts = rest.split(separator: "-", maxSplits: 3)
        if parts.count == 4, Int32(parts[0]) != nil, UInt64(parts[1]) != nil {
            return ProcessIdentity.isAlive(token: rest.prefix(parts[0].count + parts[1].count + parts[2].count + 2))
                == false
        }
        // An earlier version's name (no owner): reclaimed only once it is old.
        var st = stat()
        guard lstat((folder as NSString).appendingPathComponent(name), &st) == 0 else { return false }
        return Date().timeIntervalSince1970 - TimeInterval(st.st_mtim.tv_sec) > ownerlessAge
    }

    /// Removes the abandoned staging entries directly in `folder` (inside `root`), and returns their paths.
    /// A symbolic link is removed as a link, never followed.
    @discardableResult
    public static func reclaim(in folder: String, root: String) -> [String] {
        guard (try? RootGuard.contained(folder, in: root)) != nil,
            let names = try? FileManager.default.contentsOfDirectory(atPath: folder)
        else { return [] }
        var removed: [String] = []
        for name in names.sorted() where isAbandoned(name, in: folder) {
            let path = (folder as NSString).appendingPathComponent(name)
            var st = stat()
            guard lstat(path, &st) == 0 else { continue }
            if (st.st_mode & S_IFMT) == S_IFDIR {
                guard (try? FileManager.default.removeItem(atPath: path)) != nil else { continue }
            } else if unlink(path) != 0 {
                continue
            }
            removed.append(path)
        }
        return removed
    }
}
