public import Foundation
public import TandemCore

/// All the environment profiles of a repository (`environments/*.yaml`), loaded and checked together,
/// since some rules span profiles: no two environments may share a storage root.
public struct ProfileSet: Sendable {
    /// The repository root that relative `file://` roots resolve against.
    public let repositoryRoot: String
    /// The profiles by environment name.
    public let profiles: [String: Profile]

    /// Environment names in order (dev, test, prod first, then the others by name).
    public var names: [String] {
        let order = ["dev": 0, "test": 1, "prod": 2]
        return profiles.keys.sorted { (order[$0] ?? 3, $0) < (order[$1] ?? 3, $1) }
    }

    /// Makes a set from profiles already loaded (tests, `tandem local`), checking the cross-profile rules.
    public init(repositoryRoot: String, profiles: [String: Profile]) throws(ProfileError) {
        self.repositoryRoot = repositoryRoot
        self.profiles = profiles
        try checkSharedRoots()
    }

    /// Loads every `*.yaml` in `repositoryRoot/environments`.
    public static func load(repositoryRoot: String, directory: String = "environments") throws(ProfileError) -> ProfileSet {
        let folder = (repositoryRoot as NSString).appendingPathComponent(directory)
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: folder)
                .filter { $0.hasSuffix(".yaml") }.map { String($0.dropLast(5)) }.sorted()
        } catch {
            throw ProfileError(
                location: SourceLocation(file: directory, line: 1, column: 1), problem: "no environments folder here",
                fix: "run Tandem inside a repository with environments/*.yaml, or set TANDEM_PROJECT to its root",
                exitStatus: .badInput)
        }
        var texts: [String: String] = [:]
        for name in names {
            let path = (folder as NSString).appendingPathComponent("\(name).yaml")
            texts[name] = try YAMLBounds.read(
                path: path, displayName: "\(directory)/\(name).yaml", fix: "check the file's permissions")
        }
        return try load(repositoryRoot: repositoryRoot, texts: texts, directory: directory)
    }

    /// Loads profiles given as file contents (environment name → the bytes of `NAME.yaml`), such as those
    /// committed on a branch; `directory` is what their locations name (`production@1a2b3c:environments`).
    /// The bytes are held to the same bounds as a file on disk.
    public static func load(repositoryRoot: String, files: [String: Data], directory: String) throws(ProfileError)
        -> ProfileSet
    {
        var texts: [String: String] = [:]
        for (name, data) in files.sorted(by: { $0.key < $1.key }) {
            let relative = "\(directory)/\(name).yaml"
            if data.count > InputLimits.yamlBytes {
                throw YAMLBounds.tooLarge(Array(data.prefix(InputLimits.yamlBytes + 1)), file: relative)
            }
            guard let text = String(data: data, encoding: .utf8) else {
                throw ProfileError(
                    location: SourceLocation(file: relative, line: 1, column: 1),
                    problem: "is not UTF-8 text", fix: "save it as UTF-8")
            }
            texts[name] = text
        }
        return try load(repositoryRoot: repositoryRoot, texts: texts, directory: directory)
    }

    /// Parses, resolves `extends` and decodes checked profile texts (environment name → text).
    static func load(repositoryRoot: String, texts: [String: String], directory: String) throws(ProfileError)
        -> ProfileSet
    {
        let names = texts.keys.sorted()
        var trees: [String: YAMLTree] = [:]
        for name in names {
            trees[name] = try YAMLTree.parse(texts[name] ?? "", file: "\(directory)/\(name).yaml")
        }
        var profiles: [String: Profile] = [:]
        for name in names {
            let merged = try resolveExtends(name, trees: trees, directory: directory, chain: [])
            profiles[name] = try ProfileDecoder.decode(merged, name: name, file: "\(directory)/\(name).yaml")
        }
        return try ProfileSet(repositoryRoot: repositoryRoot, profiles: profiles)
    }

    /// Loads and checks one profile text on its own (used by tests and the fuzz test).
    public static func decodeSingle(_ text: String, name: String, file: String) throws(ProfileError) -> Profile {
        let tree = try YAMLTree.parse(text, file: file)
        if case .mapping(let entries, _) = tree, let e = entries.first(where: { $0.key == "extends" }) {
            throw ProfileError(
                location: e.keyLocation, problem: "'extends' needs the other profiles",
                fix: "load the whole environments folder")
        }
        return try ProfileDecoder.decode(tree, name: name, file: file)
    }

    private static func resolveExtends(_ name: String, trees: [String: YAMLTree], directory: String, chain: [String])
        throws(ProfileError) -> YAMLTree
    {
        guard let tree = trees[name] else {
            throw ProfileError(
                location: SourceLocation(file: "\(directory)/\(name).yaml", line: 1, column: 1),
                problem: "no such profile", fix: "create it")
        }
        guard case .mapping(let entries, _) = tree, let entry = entries.first(where: { $0.key == "extends" }) else {
            return tree
        }
        guard case .scalar(let parent, _, let location) = entry.value, !parent.isEmpty else {
            throw ProfileError(
                location: entry.value.location, problem: "'extends' must name another profile",
                fix: "write `extends: NAME` with NAME one of: " + trees.keys.sorted().joined(separator: ", "))
        }
        let parentName = parent.hasSuffix(".yaml") ? String(parent.dropLast(5)) : parent
        guard trees[parentName] != nil else {
            let hint = didYouMean(parentName, among: Array(trees.keys)).map { " (did you mean '\($0)'?)" } ?? ""
            throw ProfileError(
                location: location, problem: "'extends' names '\(parentName)', which has no profile\(hint)",
                fix: "name one of: " + trees.keys.sorted().joined(separator: ", "))
        }
        if chain.contains(parentName) || parentName == name {
            throw ProfileError(
                location: location, problem: "'extends' makes a cycle: " + (chain + [name, parentName]).joined(separator: " → "),
                fix: "remove one `extends`")
        }
        let base = try resolveExtends(parentName, trees: trees, directory: directory, chain: chain + [name])
        // What a profile extends gives defaults; `name`, `extends`, `roots` and `protected` are never inherited:
        // each environment names its own roots.
        let inheritable: YAMLTree
        if case .mapping(let baseEntries, let l) = base {
            inheritable = .mapping(
                baseEntries.filter { !["name", "extends", "roots", "slurm", "protected"].contains($0.key) }, l)
        } else {
            inheritable = base
        }
        return inheritable.merged(with: tree)
    }

    /// The absolute path of a `file://` root, resolving relative paths against the repository root.
    public func absolutePath(of root: RootURL) -> String? {
        guard case .file(let path) = root else { return nil }
        return Self.absolutePath(path, repositoryRoot: repositoryRoot)
    }

    /// `path` made absolute against `repositoryRoot`, with `.` and `..` resolved and no trailing slash.
    public static func absolutePath(_ path: String, repositoryRoot: String) -> String {
        let joined = path.hasPrefix("/") ? path : (repositoryRoot as NSString).appendingPathComponent(path)
        return (joined as NSString).standardizingPath
    }

    private func storageKey(_ root: RootURL) -> String {
        if let path = absolutePath(of: root) { return "file://" + path + "/" }
        // A database is one root, whatever role or options name it (the runtime owner stamp catches aliases).
        if case .postgres(let url) = root, let location = try? PostgresLocation.parse(url) {
            return "postgres://" + location.identity + "/"
        }
        return root.description.lowercased() + (root.description.hasSuffix("/") ? "" : "/")
    }

    private func checkSharedRoots() throws(ProfileError) {
        var claimed: [(key: String, env: String, role: String, root: RootURL, location: SourceLocation)] = []
        for name in names {
            guard let profile = profiles[name] else { continue }
            var roots = [("features", profile.roots.features), ("registry", profile.roots.registry)]
            if let state = profile.roots.state { roots.append(("state", state)) }
            for (role, root) in roots {
                let key = storageKey(root)
                let here = profile.locations["roots.\(role)"] ?? SourceLocation(file: profile.file, line: 1, column: 1)
                if let other = claimed.first(where: { key.hasPrefix($0.key) || $0.key.hasPrefix(key) }) {
                    throw overlapError((key, name, role, root, here), other)
                }
                claimed.append((key, name, role, root, here))
            }
        }
    }

    /// The error for two overlapping roots, located at the one that moved: a root that is not its environment's
    /// conventional folder (`.tandem/ENV/ROLE`) is the one to change, else the unprotected environment's, else
    /// the later one. The suggested path is the blamed environment's own and overlaps no other root.
    private func overlapError(
        _ a: (key: String, env: String, role: String, root: RootURL, location: SourceLocation),
        _ b: (key: String, env: String, role: String, root: RootURL, location: SourceLocation)
    ) -> ProfileError {
        func conventional(_ r: (key: String, env: String, role: String, root: RootURL, location: SourceLocation)) -> Bool {
            r.key == "file://" + Self.absolutePath(".tandem/\(r.env)/\(r.role)", repositoryRoot: repositoryRoot) + "/"
        }
        func protected(_ env: String) -> Bool { profiles[env]?.protected ?? false }
        var (blamed, kept) = (a, b)
        if conventional(a) && !conventional(b) || (conventional(a) == conventional(b) && protected(a.env) && !protected(b.env)) {
            (blamed, kept) = (b, a)
        }
        let same = blamed.key == kept.key ? "is the same as" : "overlaps"
        // Every other root of every environment, which the suggestion must stay clear of.
        let keys = names.flatMap { env in
            [
                ("features", profiles[env]?.roots.features), ("registry", profiles[env]?.roots.registry),
                ("state", profiles[env]?.roots.state),
            ].compactMap {
                role, root in
                root.flatMap { env == blamed.env && role == blamed.role ? nil : storageKey($0) }
            }
        }
        var suggestion = ".tandem/\(blamed.env)/\(blamed.role)"
        var n = 2
        while true {
            let candidate = "file://" + Self.absolutePath(suggestion, repositoryRoot: repositoryRoot) + "/"
            if !keys.contains(where: { candidate.hasPrefix($0) || $0.hasPrefix(candidate) }) { break }
            suggestion = ".tandem/\(blamed.env)-\(n)/\(blamed.role)"
            n += 1
        }
        return ProfileError(
            location: blamed.location,
            problem:
                "roots.\(blamed.role) of '\(blamed.env)' (\(blamed.root)) \(same) roots.\(kept.role) of '\(kept.env)' "
                + "(\(kept.root), \(kept.location))",
            fix: "give '\(blamed.env)' its own \(blamed.role) root, such as file://\(suggestion)")
    }

    /// The profile of one environment, or an error listing the ones that exist.
    public func profile(named name: String) throws(ProfileError) -> Profile {
        if let profile = profiles[name] { return profile }
        let hint = didYouMean(name, among: names).map { " (did you mean '\($0)'?)" } ?? ""
        throw ProfileError(
            location: SourceLocation(file: "environments/\(name).yaml", line: 1, column: 1),
            problem: "no environment named '\(name)'\(hint)", fix: "use one of: " + names.joined(separator: ", "))
    }

    /// Finds the repository root: `TANDEM_PROJECT` if set, else the nearest folder above `start`
    /// that holds an `environments` folder.
    public static func findRepositoryRoot(from start: String, environment: [String: String]) -> String? {
        if let explicit = environment["TANDEM_PROJECT"], !explicit.isEmpty {
            return (explicit as NSString).standardizingPath
        }
        var current = (start as NSString).standardizingPath
        while true {
            var isDirectory: ObjCBool = false
            let candidate = (current as NSString).appendingPathComponent("environments")
            if FileManager.default.fileExists(atPath: candidate, isDirectory: &isDirectory), isDirectory.boolValue {
                return current
            }
            let parent = (current as NSString).deletingLastPathComponent
            if parent == current || parent.isEmpty { return nil }
            current = parent
        }
    }
}
