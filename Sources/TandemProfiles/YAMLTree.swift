import Foundation
import TandemCore
import Yams

/// A YAML document reduced to what profiles use, with the file, line and column of every node,
/// so that each refusal can point at the exact place to change.
indirect enum YAMLTree: Sendable {
    case scalar(String, quoted: Bool, SourceLocation)
    case mapping([Entry], SourceLocation)
    case sequence([YAMLTree], SourceLocation)

    /// One `key: value` of a mapping.
    struct Entry: Sendable {
        var key: String
        var keyLocation: SourceLocation
        var value: YAMLTree
    }

    var location: SourceLocation {
        switch self {
        case .scalar(_, _, let l), .mapping(_, let l), .sequence(_, let l): l
        }
    }

    /// What kind of node this is, in the words an error message uses.
    var kindName: String {
        switch self {
        case .scalar(let text, let quoted, _):
            if !quoted, text.isEmpty || text == "~" || text == "null" { return "nothing (null)" }
            return "a scalar"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        }
    }

    /// Parses YAML text; syntax errors and duplicate keys come back as located `ProfileError`s, and so does a
    /// document outside `YAMLBounds` (too large, too deep, or with anchors and aliases), before it is composed.
    static func parse(_ text: String, file: String) throws(ProfileError) -> YAMLTree {
        try YAMLBounds.check(text, file: file)
        let root: Node?
        do {
            // The basic resolver: profiles read scalars as text, and the default one runs regular expressions on
            // every scalar (Yams hashes keys by resolved tag), which makes a large document slow to load.
            root = try Yams.compose(yaml: text, .basic)
        } catch let error as YamlError {
            throw ProfileError.syntax(error, file: file)
        } catch {
            throw ProfileError(
                location: SourceLocation(file: file, line: 1, column: 1),
                problem: "is not valid YAML (\(error))", fix: "fix the YAML syntax")
        }
        guard let root else {
            throw ProfileError(
                location: SourceLocation(file: file, line: 1, column: 1), problem: "the profile is empty",
                fix: "write a mapping with at least `roots`, `git`, `approvals` and `policy` (see environments/README.md)")
        }
        return try convert(root, file: file)
    }

    private static func location(_ node: Node, file: String) -> SourceLocation {
        SourceLocation(file: file, line: node.mark?.line ?? 1, column: node.mark?.column ?? 1)
    }

    private static func convert(_ node: Node, file: String) throws(ProfileError) -> YAMLTree {
        let here = location(node, file: file)
        switch node {
        case .scalar(let scalar):
            let quoted =
                scalar.style == .singleQuoted || scalar.style == .doubleQuoted
                || scalar.style == .literal || scalar.style == .folded
            return .scalar(scalar.string, quoted: quoted, here)
        case .sequence(let sequence):
            var items: [YAMLTree] = []
            for item in sequence { items.append(try convert(item, file: file)) }
            return .sequence(items, here)
        case .mapping(let mapping):
            var entries: [Entry] = []
            var seen: [String: SourceLocation] = [:]
            for (key, value) in mapping {
                guard case .scalar(let keyScalar) = key else {
                    throw ProfileError(
                        location: location(key, file: file), problem: "a mapping key must be a plain name",
                        fix: "write the key as a word, such as `roots:`")
                }
                let keyLocation = location(key, file: file)
                if let first = seen[keyScalar.string] {
                    throw ProfileError(
                        location: keyLocation, problem: "key '\(keyScalar.string)' appears twice (first at \(first))",
                        fix: "keep one of them")
                }
                seen[keyScalar.string] = keyLocation
                entries.append(Entry(key: keyScalar.string, keyLocation: keyLocation, value: try convert(value, file: file)))
            }
            return .mapping(entries, here)
        case .alias:
            throw ProfileError(
                location: here, problem: "YAML aliases are not supported in profiles",
                fix: "write the value out, or share it with `extends:`")
        }
    }

    /// Deep-merges `overlay` onto `self` (a profile onto the one it extends): mappings merge key by key,
    /// anything else is replaced. Each node keeps the location of the file it came from.
    func merged(with overlay: YAMLTree) -> YAMLTree {
        guard case .mapping(var base, _) = self, case .mapping(let top, let topLocation) = overlay else {
            return overlay
        }
        // By a key index, so that merging two large mappings stays linear.
        var index = Dictionary(base.enumerated().map { ($0.element.key, $0.offset) }, uniquingKeysWith: { first, _ in first })
        for entry in top {
            if let at = index[entry.key] {
                base[at] = Entry(key: entry.key, keyLocation: entry.keyLocation, value: base[at].value.merged(with: entry.value))
            } else {
                index[entry.key] = base.count
                base.append(entry)
            }
        }
        return .mapping(base, topLocation)
    }
}
