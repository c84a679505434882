import TandemCore

extension TrainingConfig {
    /// A feature view a model reads besides its first: `NAME` or `NAME@TABLE_VERSION`.
    public struct JoinedView: Sendable, Equatable {
        public var name: String
        public var table: Int?

        public init(name: String, table: Int?) {
            self.name = name
            self.table = table
        }

        public var reference: String { table.map { "\(name)@\($0)" } ?? name }
    }

    /// `NAME` or `NAME@N` (N a feature table version from 1).
    static func joinedView(_ text: String) -> JoinedView? {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        let name = String(parts[0])
        guard !name.isEmpty, name.count <= 64, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }),
            parts.count <= 2
        else { return nil }
        guard parts.count == 2 else { return JoinedView(name: name, table: nil) }
        guard let n = Int(parts[1]), (1...1_000_000).contains(n) else { return nil }
        return JoinedView(name: name, table: n)
    }

    /// Reads `features.views`: the first view and its table, then the views joined to it.
    mutating func readViews(_ f: MappingReader) throws(ProfileError) {
        guard let views = f.node("views") else { return }
        if let other = f.node("set") ?? f.node("table") {
            throw ProfileError(
                location: other.location,
                problem: "features.views names the views and their tables; set and table cannot be given with it",
                fix: "write views: [relevance_v1@3, freshness_v1] alone, or set and table without views")
        }
        var read: [JoinedView] = []
        for item in try f.list("views") {
            guard case .scalar(let text, _, _) = item, let view = Self.joinedView(text) else {
                throw ProfileError(
                    location: item.location,
                    problem: "features.views: \(MappingReader.quote(item)) is not a view name or NAME@TABLE_VERSION",
                    fix: "write views: [relevance_v1@3, freshness_v1]")
            }
            guard !read.contains(where: { $0.name == view.name }) else {
                throw ProfileError(
                    location: item.location, problem: "features.views names \(view.name) twice",
                    fix: "name each view once")
            }
            read.append(view)
        }
        guard let first = read.first else {
            throw ProfileError(
                location: views.location, problem: "features.views is empty",
                fix: "name at least one view, as in views: [relevance_v1]")
        }
        featureSet = first.name
        featureTableVersion = first.table
        joinedViews = Array(read.dropFirst())
        viewsDeclared = true
    }
}
