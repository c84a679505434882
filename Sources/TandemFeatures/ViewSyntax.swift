/// The syntax of a feature expression (docs/features.md, "The expression language"): numbers, `true`/`false`,
/// names (`qd`, `video.title`), calls with positional and named arguments (`bm25(qd, title, k1=1.2)`),
/// constant lists (`[60, 240]`), `+ - * /`, comparisons, `and`, `or`, `not`, and parentheses.
///
/// Offsets are in Unicode scalars of the expression's text, so an error can be placed at its line and column.
struct ViewSyntax: Sendable {
    indirect enum Kind: Sendable {
        case number(Double, isInteger: Bool)
        case bool(Bool)
        case name(String)
        case call(String, [Argument])
        case list([ViewSyntax])
        case unary(String, ViewSyntax)
        case binary(String, ViewSyntax, ViewSyntax)
    }

    struct Argument: Sendable {
        var label: String?
        var labelOffset: Int
        var value: ViewSyntax
    }

    var kind: Kind
    var offset: Int

    /// The expression printed in one normal form (no redundant spaces, numbers as written once parsed,
    /// parentheses only where needed): what a view's version is derived from.
    var normalized: String {
        switch kind {
        case .number(let value, let isInteger):
            return isInteger ? String(Int64(value)) : "\(value)"
        case .bool(let value): return value ? "true" : "false"
        case .name(let name): return name
        case .call(let name, let arguments):
            return name + "("
                + arguments.map { ($0.label.map { "\($0)=" } ?? "") + $0.value.normalized }.joined(separator: ", ") + ")"
        case .list(let items): return "[" + items.map(\.normalized).joined(separator: ", ") + "]"
        case .unary(let op, let operand):
            return (op == "not" ? "not " : op) + operand.parenthesized(above: Self.precedence(unary: op))
        case .binary(let op, let left, let right):
            let p = Self.precedence(binary: op)
            return left.parenthesized(above: p - 1) + " \(op) " + right.parenthesized(above: p)
        }
    }

    private var ownPrecedence: Int {
        switch kind {
        case .binary(let op, _, _): Self.precedence(binary: op)
        case .unary(let op, _): Self.precedence(unary: op)
        default: 100
        }
    }

    private func parenthesized(above level: Int) -> String {
        ownPrecedence > level ? normalized : "(" + normalized + ")"
    }

    static func precedence(binary op: String) -> Int {
        switch op {
        case "or": 1
        case "and": 2
        case "<", "<=", ">", ">=", "==", "!=": 4
        case "+", "-": 5
        default: 6  // * /
        }
    }

    static func precedence(unary op: String) -> Int { op == "not" ? 3 : 7 }
}

/// A syntax error at a scalar offset of the expression.
struct ViewSyntaxError: Error {
    var offset: Int
    var problem: String
    var fix: String
}
