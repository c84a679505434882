import Foundation
public import TandemCore

/// Reads feature view declarations (`features/NAME.yaml`, docs/features.md) into `FeatureViewSource`s, with the
/// file, line and column of every part; unknown keys, wrong types and missing keys are refused there. The
/// expressions themselves are compiled by TandemFeatures.
public enum FeatureViewReader {
    /// The folder of a repository that holds its feature views.
    public static let folder = "features"

    /// Parses one declaration.
    public static func parse(_ text: String, file: String) throws(ProfileError) -> FeatureViewSource {
        let tree = try YAMLTree.parse(text, file: file)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let top = try MappingReader(
            tree, path: "", allowed: ["view", "entity", "owner", "description", "let", "features"],
            required: ["view", "entity", "owner", "features"])
        let name = try top.requiredString("view")
        let entity = try top.requiredString("entity")
        var lets: [FeatureViewSource.Expression] = []
        if let node = top.node("let") {
            guard case .mapping(let entries, _) = node else {
                throw ProfileError(
                    location: node.location, problem: "'let' must be a mapping, not \(node.kindName)",
                    fix: "write `NAME: EXPRESSION` lines under it")
            }
            for entry in entries {
                guard case .scalar(let expression, let quoted, let location) = entry.value, !expression.isEmpty else {
                    throw ProfileError(
                        location: entry.value.location, problem: "let '\(entry.key)' must be an expression",
                        fix: "write `\(entry.key): EXPRESSION`, as in `qd: distinct(tokens(query))`")
                }
                lets.append(
                    .init(
                        name: entry.key, nameLocation: entry.keyLocation, text: expression,
                        lineStarts: lineStarts(expression, quoted: quoted, at: location, lines: lines)))
            }
        }
        var features: [FeatureViewSource.Expression] = []
        for (i, item) in try top.list("features").enumerated() {
            let path = "features[\(i)]"
            let feature = try MappingReader(
                item, path: path, allowed: ["name", "expr", "description", "descriptions"], required: ["name", "expr"])
            guard case .scalar(let expression, let quoted, let location)? = feature.node("expr"), !expression.isEmpty
            else {
                throw ProfileError(
                    location: feature.node("expr")?.location ?? feature.location,
                    problem: "'\(path).expr' must be an expression",
                    fix: "write `expr: EXPRESSION`, as in `expr: log1p(video.views)`")
            }
            let nameNode = feature.node("name")
            features.append(
                .init(
                    name: try feature.requiredString("name"), nameLocation: nameNode?.location ?? feature.location,
                    text: expression, lineStarts: lineStarts(expression, quoted: quoted, at: location, lines: lines),
                    description: try feature.string("description") ?? "",
                    descriptions: try feature.stringList("descriptions")))
        }
        return FeatureViewSource(
            file: file, text: text, name: name, nameLocation: top.node("view")?.location ?? top.location, entity: entity,
            entityLocation: top.node("entity")?.location ?? top.location, owner: try top.requiredString("owner"),
            description: try top.string("description") ?? "", lets: lets, features: features)
    }

    /// The texts of a working tree's declarations (`ROOT/features/*.yaml`), by path relative to the root, each
    /// file bounded like every Tandem YAML file.
    public static func textsInWorkingTree(_ repositoryRoot: String) throws(ProfileError) -> [String: String] {
        let folder = (repositoryRoot as NSString).appendingPathComponent(Self.folder)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        var texts: [String: String] = [:]
        for name in names where name.hasSuffix(".yaml") || name.hasSuffix(".yml") {
            texts["\(Self.folder)/\(name)"] = try YAMLBounds.read(
                path: (folder as NSString).appendingPathComponent(name), displayName: "\(Self.folder)/\(name)",
                fix: "keep the files under features/ readable UTF-8 YAML")
        }
        return texts
    }

    /// Where each line of an expression starts in the file: found in the file's lines from the scalar's place (a
    /// quoted scalar starts one column in; a block scalar's lines follow its indicator); just the scalar's place
    /// when a line cannot be found (a plain scalar folded over lines).
    static func lineStarts(_ text: String, quoted _: Bool, at location: SourceLocation, lines: [String]) -> [SourceLocation] {
        let parts = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var starts: [SourceLocation] = []
        var cursor = location.line - 1
        for (k, part) in parts.enumerated() {
            if k == parts.count - 1, part.isEmpty, k > 0 { break }
            var found: SourceLocation?
            while cursor < lines.count, found == nil {
                let line = Array(lines[cursor].unicodeScalars)
                let from = cursor == location.line - 1 ? max(0, location.column - 1) : 0
                let wanted = Array(part.unicodeScalars)
                var start = from
                while start < line.count,
                    line[start] == " " || line[start] == "\t" || line[start] == "\"" || line[start] == "'"
                        || line[start] == "|" || line[start] == ">"
                {
                    if wanted.first == line[start] { break }
                    start += 1
                }
                if start + wanted.count <= line.count, Array(line[start..<(start + wanted.count)]) == wanted {
                    found = SourceLocation(file: location.file, line: cursor + 1, column: start + 1)
                }
                cursor += 1
            }
            guard let found else { return [location] }
            starts.append(found)
        }
        return starts.isEmpty ? [location] : starts
    }
}
