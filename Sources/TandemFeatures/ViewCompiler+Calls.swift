import TandemCore

/// The built-in functions of the expression language (docs/features.md, "Functions").
extension ViewCompiler {
    /// Binds a call's arguments to the function's parameters, positional first, then by label.
    private func bind(_ name: String, _ arguments: [ViewSyntax.Argument], at offset: Int) throws(FeatureViewError)
        -> [ViewSyntax?]
    {
        guard let parameters = Self.functions[name] else {
            let hint = didYouMean(name, among: Array(Self.functions.keys)).map { " (did you mean '\($0)'?)" } ?? ""
            throw fail(
                offset, "unknown function '\(name)'\(hint)",
                "use one of " + Self.functions.keys.sorted().joined(separator: ", ") + " (docs/features.md)")
        }
        var bound = [ViewSyntax?](repeating: nil, count: parameters.count)
        var sawLabel = false
        for (i, argument) in arguments.enumerated() {
            if let label = argument.label {
                sawLabel = true
                guard let k = parameters.firstIndex(of: label) else {
                    let hint = didYouMean(label, among: parameters).map { " (did you mean '\($0)'?)" } ?? ""
                    throw fail(
                        argument.labelOffset, "\(name)() has no parameter '\(label)'\(hint)",
                        "its parameters are " + parameters.joined(separator: ", "))
                }
                guard bound[k] == nil else {
                    throw fail(argument.labelOffset, "\(name)()'s '\(label)' is given twice", "give it once")
                }
                bound[k] = argument.value
            } else {
                guard !sawLabel else {
                    throw fail(argument.value.offset, "a positional argument after a labelled one", "label it, or move it before")
                }
                guard i < parameters.count else {
                    throw fail(
                        argument.value.offset, "\(name)() takes at most \(parameters.count) arguments",
                        "its parameters are " + parameters.joined(separator: ", "))
                }
                bound[i] = argument.value
            }
        }
        let defaults = Self.optional[name] ?? [:]
        for (k, parameter) in parameters.enumerated() where bound[k] == nil && defaults[parameter] == nil {
            throw fail(
                offset, "\(name)() needs its '\(parameter)' argument",
                "write \(name)(" + parameters.joined(separator: ", ") + ")")
        }
        return bound
    }

    private mutating func tokens(_ node: ViewSyntax?, _ name: String) throws(FeatureViewError) -> (
        ViewProgram.TokenSlot, ViewProgram.TokenRecipe
    ) {
        guard let node else { preconditionFailure("bound") }
        let value = try compile(node)
        guard case .tokens(let slot, let recipe) = value else {
            throw fail(node.offset, "\(name)() needs tokens, not \(value.typeName)", "make tokens with tokens(text)")
        }
        return (slot, recipe)
    }

    private mutating func text(_ node: ViewSyntax?, _ name: String) throws(FeatureViewError) -> ViewProgram.TextColumn {
        guard let node else { preconditionFailure("bound") }
        let value = try compile(node)
        guard case .text(let column) = value else {
            throw fail(node.offset, "\(name)() needs text, not \(value.typeName)", "name a text column such as video.title")
        }
        return column
    }

    private mutating func time(_ node: ViewSyntax?, _ name: String) throws(FeatureViewError) -> ViewProgram.TimeSource {
        guard let node else { preconditionFailure("bound") }
        let value = try compile(node)
        guard case .time(let source) = value else {
            throw fail(node.offset, "\(name)() needs a time, not \(value.typeName)", "name video.published or event_time")
        }
        return source
    }

    private mutating func numberArgument(_ node: ViewSyntax?, _ name: String) throws(FeatureViewError) -> Scalar {
        guard let node else { preconditionFailure("bound") }
        return try number(try compile(node), node.offset, context: "\(name)()")
    }

    /// A constant whole number in 1…limit (bucket counts, vector sizes).
    private mutating func count(_ node: ViewSyntax?, _ name: String, _ parameter: String, limit: Int) throws(FeatureViewError)
        -> Int
    {
        guard let node else { preconditionFailure("bound") }
        let value = try compile(node)
        guard case .scalar(.int, _, let c?) = value, c >= 1, c <= Double(limit) else {
            throw fail(
                node.offset, "\(name)()'s \(parameter) must be a constant whole number from 1 to \(limit)",
                "write a number such as 32")
        }
        return Int(c)
    }

    private mutating func constant(_ node: ViewSyntax?, _ name: String, _ parameter: String, default value: Double?)
        throws(FeatureViewError) -> Double
    {
        guard let node else { return value ?? 0 }
        guard case .scalar(let kind, _, let c?) = try compile(node), kind.isNumber, c.isFinite else {
            throw fail(node.offset, "\(name)()'s \(parameter) must be a constant number", "write a number such as 1.2")
        }
        return c
    }

    mutating func call(_ name: String, _ arguments: [ViewSyntax.Argument], at offset: Int) throws(FeatureViewError)
        -> Value
    {
        let a = try bind(name, arguments, at: offset)
        func emit(_ kind: ScalarKind, _ instruction: (Int) -> ViewProgram.Instruction) -> Value {
            let r = register()
            program.instructions.append(instruction(r))
            return .scalar(kind, register: r, constant: nil)
        }
        switch name {
        case "tokens":
            let column = try text(a[0], name)
            let recipe = ViewProgram.TokenRecipe(column: column, distinct: false)
            return .tokens(tokenSlot(recipe), recipe)
        case "distinct":
            var recipe = try tokens(a[0], name).1
            recipe.distinct = true
            return .tokens(tokenSlot(recipe), recipe)
        case "count":
            let slot = try tokens(a[0], name).0
            return emit(.int) { .count(dst: $0, slot) }
        case "length":
            let column = try text(a[0], name)
            return emit(.int) { .length(dst: $0, column) }
        case "overlap", "phrase_in":
            let left = try tokens(a[0], name).0
            let right = try tokens(a[1], name).0
            return name == "overlap"
                ? emit(.int) { .overlap(dst: $0, left, right) } : emit(.bool) { .phraseIn(dst: $0, left, right) }
        case "bm25":
            let query = try tokens(a[0], name).0
            let (document, recipe) = try tokens(a[1], name)
            guard case .video(let recipeIndex) = document else {
                throw fail(
                    a[1]?.offset ?? offset, "bm25()'s document must be tokens of a video column (its corpus)",
                    "write bm25(query_tokens, tokens(video.title))")
            }
            _ = recipe
            let k1 = try constant(a[2], name, "k1", default: 1.2)
            let b = try constant(a[3], name, "b", default: 0.75)
            let documentIndex: Int
            if let i = program.bm25Documents.firstIndex(of: recipeIndex) {
                documentIndex = i
            } else {
                program.bm25Documents.append(recipeIndex)
                documentIndex = program.bm25Documents.count - 1
            }
            return emit(.float) { .bm25(dst: $0, query: query, document: documentIndex, k1: k1, b: b) }
        case "hashed_crosses":
            let left = try tokens(a[0], name).0
            let right = try tokens(a[1], name).0
            let n = try count(a[2], name, "buckets", limit: Self.maximumVector)
            let from = program.vectorWidth
            program.vectorWidth += n
            program.instructions.append(.crosses(dst: from, left, right, count: n))
            return .vector(count: n, from: from)
        case "hash":
            let column = try text(a[0], name)
            let n = try count(a[1], name, "buckets", limit: 1 << 30)
            return emit(.int) { .hash(dst: $0, column, buckets: n) }
        case "one_hot":
            let index = try numberArgument(a[0], name)
            guard index.kind == .int else {
                throw fail(a[0]?.offset ?? offset, "one_hot()'s index must be a whole number", "use bucket(…) or count(…)")
            }
            let n = try count(a[1], name, "count", limit: Self.maximumVector)
            let from = program.vectorWidth
            program.vectorWidth += n
            program.instructions.append(.oneHot(dst: from, index.register, count: n))
            return .vector(count: n, from: from)
        case "bucket":
            let value = try numberArgument(a[0], name)
            guard let node = a[1], case .list(let edges) = try compile(node), !edges.isEmpty,
                zip(edges, edges.dropFirst()).allSatisfy({ $0 < $1 })
            else {
                throw fail(
                    a[1]?.offset ?? offset, "bucket()'s edges must be a constant list of increasing numbers",
                    "write bucket(x, [60, 240, 600])")
            }
            let start = program.edges.count
            program.edges += edges
            return emit(.int) { .bucket(dst: $0, value.register, edges: start, count: edges.count) }
        case "days_between":
            let from = try time(a[0], name)
            let to = try time(a[1], name)
            return emit(.float) { .days(dst: $0, from: from, to: to) }
        case "log1p", "ln", "sqrt", "abs":
            let x = try numberArgument(a[0], name)
            let op: ViewProgram.Unary = name == "log1p" ? .log1p : name == "ln" ? .ln : name == "sqrt" ? .sqrt : .abs
            return emit(name == "abs" ? x.kind : .float) { .unary(dst: $0, op, x.register) }
        case "min", "max":
            let x = try numberArgument(a[0], name)
            let y = try numberArgument(a[1], name)
            let kind: ScalarKind = x.kind == .int && y.kind == .int ? .int : .float
            return emit(kind) { .binary(dst: $0, name == "min" ? .min : .max, x.register, y.register) }
        case "clip":
            let x = try numberArgument(a[0], name)
            let low = try numberArgument(a[1], name)
            let high = try numberArgument(a[2], name)
            let kind: ScalarKind = x.kind == .int && low.kind == .int && high.kind == .int ? .int : .float
            return emit(kind) { .clip(dst: $0, x.register, low.register, high.register) }
        default:  // if
            guard let c = a[0], let t = a[1], let e = a[2] else { preconditionFailure("bound") }
            let condition = try scalar(try compile(c), c.offset, want: .bool, context: "if()'s condition")
            let thenValue = try compile(t)
            let elseValue = try compile(e)
            guard case .scalar(let tk, let tr, _) = thenValue, case .scalar(let ek, let er, _) = elseValue,
                (tk == .bool) == (ek == .bool)
            else {
                throw fail(
                    t.offset,
                    "if()'s two branches must both be numbers or both be bools, not \(thenValue.typeName) and \(elseValue.typeName)",
                    "make them the same kind")
            }
            let kind: ScalarKind = tk == .bool ? .bool : tk == .int && ek == .int ? .int : .float
            return emit(kind) { .select(dst: $0, condition.register, tr, er) }
        }
    }
}
