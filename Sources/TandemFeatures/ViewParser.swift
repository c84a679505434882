/// Parses one expression.
struct ViewParser {
    enum Token: Equatable {
        case number(Double, isInteger: Bool)
        case name(String)
        case symbol(String)
        case end
    }

    private var tokens: [(token: Token, offset: Int)] = []
    private var position = 0

    /// The longest expression Tandem parses (a feature is a line or two).
    static let maximumLength = 4096
    /// The deepest nesting it parses.
    static let maximumDepth = 64
    private var depth = 0

    static func parse(_ text: String) throws(ViewSyntaxError) -> ViewSyntax {
        var parser = ViewParser()
        try parser.lex(text)
        let expression = try parser.expression()
        guard case .end = parser.peek else {
            let fix =
                parser.peek == .symbol("=")
                ? "compare with '==' ('=' only names an argument, as in bm25(qd, title, k1=1.2))"
                : "end the expression here, or join it to what comes before with an operator"
            throw ViewSyntaxError(
                offset: parser.tokens[parser.position].offset, problem: "unexpected \(parser.describe(parser.peek))",
                fix: fix)
        }
        return expression
    }

    private var peek: Token { tokens[position].token }
    private var offset: Int { tokens[position].offset }

    private func describe(_ token: Token) -> String {
        switch token {
        case .number(let v, let isInteger): "number \(isInteger ? String(Int64(v)) : "\(v)")"
        case .name(let n): "name '\(n)'"
        case .symbol(let s): "'\(s)'"
        case .end: "end of the expression"
        }
    }

    private mutating func lex(_ text: String) throws(ViewSyntaxError) {
        let scalars = Array(text.unicodeScalars)
        guard scalars.count <= Self.maximumLength else {
            throw ViewSyntaxError(
                offset: Self.maximumLength, problem: "the expression is longer than \(Self.maximumLength) characters",
                fix: "split it into `let` bindings")
        }
        var i = 0
        func isNameStart(_ s: Unicode.Scalar) -> Bool { s == "_" || (s.isASCII && s.properties.isAlphabetic) }
        func isNamePart(_ s: Unicode.Scalar) -> Bool { isNameStart(s) || ("0"..."9").contains(s) }
        while i < scalars.count {
            let s = scalars[i]
            if s == " " || s == "\t" || s == "\n" || s == "\r" {
                i += 1
                continue
            }
            let start = i
            if ("0"..."9").contains(s) || (s == "." && i + 1 < scalars.count && ("0"..."9").contains(scalars[i + 1])) {
                var text = ""
                var isInteger = true
                while i < scalars.count, ("0"..."9").contains(scalars[i]) || scalars[i] == "." || scalars[i] == "_" {
                    if scalars[i] == "." { isInteger = false }
                    if scalars[i] != "_" { text.unicodeScalars.append(scalars[i]) }
                    i += 1
                }
                if i < scalars.count, scalars[i] == "e" || scalars[i] == "E" {
                    isInteger = false
                    text.unicodeScalars.append(scalars[i])
                    i += 1
                    if i < scalars.count, scalars[i] == "+" || scalars[i] == "-" {
                        text.unicodeScalars.append(scalars[i])
                        i += 1
                    }
                    while i < scalars.count, ("0"..."9").contains(scalars[i]) {
                        text.unicodeScalars.append(scalars[i])
                        i += 1
                    }
                }
                guard let value = Double(text), value.isFinite, !isInteger || abs(value) < 9.007_199_254_740_992e15 else {
                    throw ViewSyntaxError(
                        offset: start, problem: "'\(text)' is not a number Tandem reads",
                        fix: "write a decimal number such as 3, 0.75 or 1e-3 (integers below 2^53)")
                }
                tokens.append((.number(value, isInteger: isInteger), start))
                continue
            }
            if isNameStart(s) {
                var name = ""
                while i < scalars.count,
                    isNamePart(scalars[i])
                        || (scalars[i] == "." && i + 1 < scalars.count && isNameStart(scalars[i + 1]) && !name.isEmpty)
                {
                    name.unicodeScalars.append(scalars[i])
                    i += 1
                }
                tokens.append((.name(name), start))
                continue
            }
            let two = i + 1 < scalars.count ? String(String.UnicodeScalarView([s, scalars[i + 1]])) : ""
            if ["<=", ">=", "==", "!="].contains(two) {
                tokens.append((.symbol(two), start))
                i += 2
                continue
            }
            if "+-*/(),[]=<>".unicodeScalars.contains(s) {
                tokens.append((.symbol(String(s)), start))
                i += 1
                continue
            }
            let fix =
                s == "&" || s == "|"
                ? "write 'and' or 'or'"
                : s == "!"
                    ? "write 'not'"
                    : s == "\"" || s == "'"
                        ? "expressions hold no text literals; name a column such as video.title"
                        : "remove it (see docs/features.md for what an expression may hold)"
            throw ViewSyntaxError(offset: start, problem: "unexpected character '\(s)'", fix: fix)
        }
        tokens.append((.end, scalars.count))
    }

    private mutating func advance() { position += 1 }

    private mutating func expect(_ symbol: String, _ fix: String) throws(ViewSyntaxError) {
        guard peek == .symbol(symbol) else {
            throw ViewSyntaxError(offset: offset, problem: "expected '\(symbol)', found \(describe(peek))", fix: fix)
        }
        advance()
    }

    private mutating func expression() throws(ViewSyntaxError) -> ViewSyntax {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maximumDepth else {
            throw ViewSyntaxError(
                offset: offset, problem: "the expression nests deeper than \(Self.maximumDepth) levels",
                fix: "split it into `let` bindings")
        }
        return try binary(level: 1)
    }

    private static func binaryOperator(_ token: Token) -> String? {
        switch token {
        case .name("and"): "and"
        case .name("or"): "or"
        case .symbol(let s) where ["+", "-", "*", "/", "<", "<=", ">", ">=", "==", "!="].contains(s): s
        default: nil
        }
    }

    /// Precedence climbing: `or` 1, `and` 2, `not` 3, comparisons 4 (not chained), `+ -` 5, `* /` 6, unary `-` 7.
    private mutating func binary(level: Int) throws(ViewSyntaxError) -> ViewSyntax {
        if level == 3 {
            if peek == .name("not") {
                let at = offset
                advance()
                return ViewSyntax(kind: .unary("not", try binary(level: 3)), offset: at)
            }
            return try binary(level: 4)
        }
        if level == 7 { return try unary() }
        var left = try binary(level: level + 1)
        while let op = Self.binaryOperator(peek), ViewSyntax.precedence(binary: op) == level {
            let at = offset
            advance()
            let right = try binary(level: level + 1)
            if level == 4, let next = Self.binaryOperator(peek), ViewSyntax.precedence(binary: next) == 4 {
                throw ViewSyntaxError(
                    offset: offset, problem: "comparisons do not chain ('\(op)' then '\(next)')",
                    fix: "join two comparisons with 'and', as in `x >= 1 and x < 5`")
            }
            left = ViewSyntax(kind: .binary(op, left, right), offset: at)
        }
        return left
    }

    private mutating func unary() throws(ViewSyntaxError) -> ViewSyntax {
        if peek == .symbol("-") {
            let at = offset
            advance()
            return ViewSyntax(kind: .unary("-", try unary()), offset: at)
        }
        return try primary()
    }

    private mutating func primary() throws(ViewSyntaxError) -> ViewSyntax {
        let at = offset
        switch peek {
        case .number(let value, let isInteger):
            advance()
            return ViewSyntax(kind: .number(value, isInteger: isInteger), offset: at)
        case .name("true"), .name("false"):
            let value = peek == .name("true")
            advance()
            return ViewSyntax(kind: .bool(value), offset: at)
        case .name(let name):
            if ["and", "or", "not"].contains(name) {
                throw ViewSyntaxError(
                    offset: at, problem: "'\(name)' needs an operand before it", fix: "write an expression before '\(name)'")
            }
            advance()
            guard peek == .symbol("(") else { return ViewSyntax(kind: .name(name), offset: at) }
            advance()
            var arguments: [ViewSyntax.Argument] = []
            if peek != .symbol(")") {
                while true {
                    var label: String?
                    let labelAt = offset
                    if case .name(let l) = peek, tokens[position + 1].token == .symbol("=") {
                        label = l
                        advance()
                        advance()
                    }
                    arguments.append(.init(label: label, labelOffset: labelAt, value: try expression()))
                    if peek == .symbol(",") {
                        advance()
                        continue
                    }
                    break
                }
            }
            try expect(")", "close the arguments of \(name)( with ')', separating them with ','")
            return ViewSyntax(kind: .call(name, arguments), offset: at)
        case .symbol("("):
            advance()
            let inner = try expression()
            try expect(")", "close the parenthesis")
            return inner
        case .symbol("["):
            advance()
            var items: [ViewSyntax] = []
            if peek != .symbol("]") {
                while true {
                    items.append(try expression())
                    if peek == .symbol(",") {
                        advance()
                        continue
                    }
                    break
                }
            }
            try expect("]", "close the list with ']', separating its items with ','")
            return ViewSyntax(kind: .list(items), offset: at)
        default:
            throw ViewSyntaxError(
                offset: at, problem: "expected a value, found \(describe(peek))",
                fix: "write a number, a name such as video.views, or a call such as log1p(x)")
        }
    }
}
