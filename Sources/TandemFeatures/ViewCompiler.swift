import Foundation
import TandemCore

/// Compiles a `FeatureViewSource` (docs/features.md): resolves names, checks types and the view's entity,
/// detects cycles and duplicates, and emits the `ViewProgram`. Every refusal is located at FILE:LINE:COLUMN.
struct ViewCompiler {
    typealias P = ViewProgram

    enum ScalarKind: String {
        case int, float, bool
        var isNumber: Bool { self != .bool }
    }

    /// What an expression is, once compiled.
    enum Value {
        case scalar(ScalarKind, register: Int, constant: Double?)
        case text(P.TextColumn)
        case tokens(P.TokenSlot, P.TokenRecipe)
        case time(P.TimeSource)
        case vector(count: Int, from: Int)
        case list([Double])

        var typeName: String {
            switch self {
            case .scalar(let kind, _, _): kind == .bool ? "a bool" : "a number (\(kind.rawValue))"
            case .text: "text"
            case .tokens: "tokens"
            case .time: "a time"
            case .vector(let n, _): "a vector of \(n)"
            case .list: "a constant list"
            }
        }
    }

    static let columns: [String: String] = [
        "query": "the normalised query (text)", "video.title": "text", "video.description": "text",
        "video.channel": "text", "video.url": "the canonical URL (text)", "video.views": "int",
        "video.duration_s": "int", "video.published": "time", "event_time": "time",
    ]

    static let functions: [String: [String]] = [
        "tokens": ["text"], "distinct": ["tokens"], "count": ["tokens"], "length": ["text"],
        "overlap": ["items", "within"], "phrase_in": ["phrase", "within"], "bm25": ["query", "document", "k1", "b"],
        "hashed_crosses": ["left", "right", "buckets"], "hash": ["text", "buckets"], "one_hot": ["index", "count"],
        "bucket": ["value", "edges"], "days_between": ["from", "to"], "log1p": ["x"], "ln": ["x"], "sqrt": ["x"],
        "abs": ["x"], "min": ["a", "b"], "max": ["a", "b"], "clip": ["x", "low", "high"],
        "if": ["condition", "then", "else"],
    ]
    static let optional: [String: [String: Double]] = ["bm25": ["k1": 1.2, "b": 0.75]]
    static let maximumVector = 4096
    static let maximumFeatures = 4096

    let source: FeatureViewSource
    var entity = ViewEntity.queryVideo
    var program = ViewProgram()

    private struct Binding {
        var expression: FeatureViewSource.Expression
        var isFeature: Bool
    }
    private var bindings: [String: Binding] = [:]
    private var done: [String: Value] = [:]
    private var inProgress: [String] = []
    /// The expression being compiled, for locating errors.
    private var current: FeatureViewSource.Expression

    init(source: FeatureViewSource) {
        self.source = source
        current = FeatureViewSource.Expression(
            name: source.name, nameLocation: source.nameLocation, text: "", lineStarts: [])
    }

    func fail(_ offset: Int, _ problem: String, _ fix: String) -> FeatureViewError {
        FeatureViewError(location: current.location(atScalarOffset: offset), problem: problem, fix: fix)
    }

    mutating func compile() throws(FeatureViewError) -> FeatureView {
        guard let parsed = ViewEntity(rawValue: source.entity) else {
            let hint = didYouMean(source.entity, among: ViewEntity.allCases.map(\.rawValue)).map { " (did you mean '\($0)'?)" }
            throw FeatureViewError(
                location: source.entityLocation, problem: "unknown entity '\(source.entity)'\(hint ?? "")",
                fix: "write query, video or query_video")
        }
        entity = parsed
        try checkName(source.name, at: source.nameLocation, what: "the view's name")
        guard !source.features.isEmpty else {
            throw FeatureViewError(
                location: source.nameLocation, problem: "the view declares no feature",
                fix: "add a `features:` list with at least one `name:`/`expr:` entry")
        }
        var firstPlace: [String: SourceLocation] = [:]
        for (expression, isFeature) in source.lets.map({ ($0, false) }) + source.features.map({ ($0, true) }) {
            let base = expression.name.replacingOccurrences(of: "{i}", with: "").replacingOccurrences(
                of: "{i:02}", with: "")
            try checkName(
                base.isEmpty ? "i" : base, at: expression.nameLocation, what: isFeature ? "a feature's name" : "a let's name")
            if let first = firstPlace[expression.name] {
                throw FeatureViewError(
                    location: expression.nameLocation, problem: "'\(expression.name)' is defined twice (first at \(first))",
                    fix: "give each let and feature of the view its own name")
            }
            if Self.columns[expression.name] != nil || Self.functions[expression.name] != nil {
                throw FeatureViewError(
                    location: expression.nameLocation,
                    problem: "'\(expression.name)' is the name of a built-in column or function",
                    fix: "choose another name")
            }
            firstPlace[expression.name] = expression.nameLocation
            bindings[expression.name] = Binding(expression: expression, isFeature: isFeature)
        }
        for expression in source.lets { _ = try resolve(expression.name, offset: 0) }
        var definitions: [FeatureDefinition] = []
        var normalized = ["view \(source.name)", "entity \(entity.rawValue)"]
        for expression in source.lets {
            normalized.append("let \(expression.name) = \(try Self.parse(expression).normalized)")
        }
        var seenColumns: [String: SourceLocation] = [:]
        for expression in source.features {
            let value = try resolve(expression.name, offset: 0)
            current = expression
            normalized.append("feature \(expression.name) = \(try Self.parse(expression).normalized)")
            let column = definitions.count
            var names: [String] = []
            switch value {
            case .scalar(_, let register, _):
                guard !expression.name.contains("{") else {
                    throw FeatureViewError(
                        location: expression.nameLocation,
                        problem: "'\(expression.name)' names columns, but its expression is one value",
                        fix: "remove {i} from the name, or make the expression a vector (one_hot, hashed_crosses)")
                }
                names = [expression.name]
                program.instructions.append(.output(column: column, register))
            case .vector(let count, let from):
                guard expression.name.contains("{i}") || expression.name.contains("{i:02}") else {
                    throw FeatureViewError(
                        location: expression.nameLocation,
                        problem: "the expression of '\(expression.name)' is a vector of \(count)",
                        fix: "name its columns with {i} (0, 1, …) or {i:02} (00, 01, …), as in `h{i:02}`")
                }
                names = (0..<count).map { Self.expand(expression.name, $0) }
                program.instructions.append(.outputVector(column: column, from: from, count: count))
            default:
                throw fail(
                    0, "a feature must be a number, a bool or a vector, not \(value.typeName)",
                    "compute a number from it, as in count(…) or length(…)")
            }
            if !expression.descriptions.isEmpty, expression.descriptions.count != names.count {
                throw FeatureViewError(
                    location: expression.nameLocation,
                    problem: "'\(expression.name)' has \(expression.descriptions.count) descriptions for \(names.count) columns",
                    fix: "give one description per column, or one `description:` with {i}")
            }
            for (k, name) in names.enumerated() {
                if let first = seenColumns[name]
                    ?? (bindings[name].map { $0.expression.nameLocation }).flatMap({
                        names.count > 1 ? $0 : nil
                    })
                {
                    throw FeatureViewError(
                        location: expression.nameLocation, problem: "column '\(name)' is defined twice (first at \(first))",
                        fix: "give each feature its own name")
                }
                seenColumns[name] = expression.nameLocation
                let text = expression.descriptions.isEmpty ? Self.expand(expression.description, k) : expression.descriptions[k]
                definitions.append(FeatureDefinition(name, text, owner: source.owner))
            }
            guard definitions.count <= Self.maximumFeatures else {
                throw FeatureViewError(
                    location: expression.nameLocation, problem: "the view has more than \(Self.maximumFeatures) columns",
                    fix: "split it into several views")
            }
        }
        program.width = definitions.count
        return FeatureView(
            source: source, entity: entity, features: definitions, normalized: normalized.joined(separator: "\n") + "\n",
            program: program)
    }

    static func expand(_ pattern: String, _ i: Int) -> String {
        pattern.replacingOccurrences(of: "{i:02}", with: i < 10 ? "0\(i)" : "\(i)").replacingOccurrences(
            of: "{i}", with: "\(i)")
    }

    private func checkName(_ name: String, at location: SourceLocation, what: String) throws(FeatureViewError) {
        let scalars = Array(name.unicodeScalars)
        let ok =
            !scalars.isEmpty && scalars.count <= 64
            && scalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_") }
            && !("0"..."9").contains(scalars[0])
        guard ok else {
            throw FeatureViewError(
                location: location, problem: "\(what) '\(name)' is not a name Tandem accepts",
                fix: "use ASCII letters, digits and '_' (at most 64, not starting with a digit)")
        }
    }

    static func parse(_ expression: FeatureViewSource.Expression) throws(FeatureViewError) -> ViewSyntax {
        do {
            return try ViewParser.parse(expression.text)
        } catch {
            throw FeatureViewError(
                location: expression.location(atScalarOffset: error.offset), problem: error.problem, fix: error.fix)
        }
    }

    /// The value of a let or feature, compiled once; a cycle is refused with its path.
    mutating func resolve(_ name: String, offset: Int) throws(FeatureViewError) -> Value {
        if let value = done[name] { return value }
        guard let binding = bindings[name] else { throw unknownName(name, offset) }
        if let start = inProgress.firstIndex(of: name) {
            throw fail(
                offset, "a cycle: " + (inProgress[start...] + [name]).joined(separator: " → "),
                "a feature or let cannot depend on itself; compute one of them from the columns directly")
        }
        let outer = current
        current = binding.expression
        inProgress.append(name)
        let value = try compile(try Self.parse(binding.expression))
        inProgress.removeLast()
        current = outer
        done[name] = value
        return value
    }

    private func unknownName(_ name: String, _ offset: Int) -> FeatureViewError {
        let known = Array(Self.columns.keys) + Array(bindings.keys)
        let hint = didYouMean(name, among: known).map { " (did you mean '\($0)'?)" } ?? ""
        return fail(
            offset, "unknown name '\(name)'\(hint)",
            "name a column (\(Self.columns.keys.sorted().joined(separator: ", "))), a let or a feature of this view")
    }
}
