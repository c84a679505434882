/// Where `tandem STAGE` finds its executable: `tandem-STAGE` beside the `tandem` being run, then on
/// `PATH`, in order, as git and swift do with their subcommands. Pure: the file system is passed in, so the
/// rules are table-tested.
public struct StageResolver: Sendable {
    /// The folder holding the running `tandem` executable.
    public var ownFolder: String
    /// The `PATH` entries, in order.
    public var searchPath: [String]
    /// Whether a path is an executable file.
    public var isExecutable: @Sendable (String) -> Bool

    public init(ownFolder: String, path: String?, isExecutable: @escaping @Sendable (String) -> Bool) {
        self.ownFolder = ownFolder
        self.searchPath = (path ?? "").split(separator: ":", omittingEmptySubsequences: true).map(String.init)
        self.isExecutable = isExecutable
    }

    /// Why a stage could not be resolved.
    public enum Failure: Error, Equatable, CustomStringConvertible {
        /// The name is not a valid stage name.
        case invalidName(String)
        /// No executable was found; `searched` lists every place tried.
        case notFound(stage: String, searched: [String])

        public var description: String {
            switch self {
            case .invalidName(let name):
                "'\(name)' is not a stage name; stage names are lower-case letters, digits and '-'"
            case .notFound(let stage, let searched):
                "unknown stage '\(stage)': no executable tandem-\(stage) in " + searched.joined(separator: ", ")
                    + "; run `tandem` to list the stages found"
            }
        }
    }

    /// The executable for `stage`.
    public func resolve(_ stage: String) -> Result<String, Failure> {
        guard Self.isValidName(stage) else { return .failure(.invalidName(stage)) }
        var searched: [String] = []
        for folder in [ownFolder] + searchPath {
            let candidate = join(folder, "tandem-\(stage)")
            searched.append(folder)
            if isExecutable(candidate) { return .success(candidate) }
        }
        return .failure(.notFound(stage: stage, searched: searched))
    }

    /// Every stage found, with where it lives; the first place wins, as in `resolve`.
    public func listStages(listFolder: (String) -> [String]) -> [(stage: String, path: String)] {
        var found: [String: String] = [:]
        var order: [String] = []
        for folder in [ownFolder] + searchPath {
            for name in listFolder(folder).sorted() where name.hasPrefix("tandem-") {
                let stage = String(name.dropFirst("tandem-".count))
                guard Self.isValidName(stage), found[stage] == nil else { continue }
                let path = join(folder, name)
                guard isExecutable(path) else { continue }
                found[stage] = path
                order.append(stage)
            }
        }
        return order.sorted().map { ($0, found[$0] ?? "") }
    }

    /// A stage name: starts with a letter; lower-case letters, digits and '-'; not a path.
    public static func isValidName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, ("a"..."z").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
            && !name.hasSuffix("-")
    }

    private func join(_ folder: String, _ name: String) -> String {
        folder.hasSuffix("/") ? folder + name : folder + "/" + name
    }
}
