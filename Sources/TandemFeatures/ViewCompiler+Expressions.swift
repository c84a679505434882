/// Expressions compiled to registers and instructions: constants, columns, operators, type checks.
extension ViewCompiler {
    mutating func register() -> Int {
        defer { program.registers += 1 }
        return program.registers
    }

    mutating func emitConstant(_ value: Double, _ kind: ScalarKind) -> Value {
        let r = register()
        program.instructions.append(.constant(dst: r, value))
        return .scalar(kind, register: r, constant: value)
    }

    mutating func compile(_ node: ViewSyntax) throws(FeatureViewError) -> Value {
        switch node.kind {
        case .number(let value, let isInteger):
            return emitConstant(value, isInteger ? .int : .float)
        case .bool(let value):
            return emitConstant(value ? 1 : 0, .bool)
        case .list(let items):
            var values: [Double] = []
            for item in items {
                guard case .scalar(let kind, _, let constant?) = try compile(item), kind.isNumber else {
                    throw fail(item.offset, "a list holds constant numbers only", "write numbers, as in [60, 240, 600]")
                }
                values.append(constant)
            }
            return .list(values)
        case .name(let name):
            if let value = try column(name, node.offset) { return value }
            return try resolve(name, offset: node.offset)
        case .unary(let op, let operand):
            let value = try compile(operand)
            if op == "not" {
                let a = try scalar(value, operand.offset, want: .bool, context: "'not'")
                let r = register()
                program.instructions.append(.unary(dst: r, .not, a.register))
                return .scalar(.bool, register: r, constant: a.constant.map { $0 == 0 ? 1 : 0 })
            }
            let a = try number(value, operand.offset, context: "'-'")
            if let c = a.constant { return emitConstant(-c, a.kind) }
            let r = register()
            program.instructions.append(.unary(dst: r, .negate, a.register))
            return .scalar(a.kind, register: r, constant: nil)
        case .binary(let op, let left, let right):
            return try binary(op, left, right, at: node.offset)
        case .call(let name, let arguments):
            return try call(name, arguments, at: node.offset)
        }
    }

    private mutating func column(_ name: String, _ offset: Int) throws(FeatureViewError) -> Value? {
        guard Self.columns[name] != nil else { return nil }
        if name == "query", entity == .video {
            throw fail(offset, "a video view cannot read the query", "declare `entity: query_video`, or remove it")
        }
        if name.hasPrefix("video."), entity == .query {
            throw fail(offset, "a query view cannot read \(name)", "declare `entity: query_video`, or remove it")
        }
        switch name {
        case "query": return .text(.query)
        case "video.title": return .text(.title)
        case "video.description": return .text(.description)
        case "video.channel": return .text(.channel)
        case "video.url": return .text(.url)
        case "video.published": return .time(.published)
        case "event_time": return .time(.eventTime)
        default:
            let r = register()
            program.instructions.append(.intColumn(dst: r, name == "video.views" ? .views : .durationS))
            return .scalar(.int, register: r, constant: nil)
        }
    }

    struct Scalar {
        var kind: ScalarKind
        var register: Int
        var constant: Double?
    }

    func scalar(_ value: Value, _ offset: Int, want: ScalarKind, context: String) throws(FeatureViewError) -> Scalar {
        guard case .scalar(let kind, let register, let constant) = value, (kind == .bool) == (want == .bool) else {
            throw fail(
                offset, "\(context) needs \(want == .bool ? "a bool" : "a number"), not \(value.typeName)",
                want == .bool ? "compare it, as in `x > 0`" : "use a number; a bool b becomes one with if(b, 1, 0)")
        }
        return Scalar(kind: kind, register: register, constant: constant)
    }

    func number(_ value: Value, _ offset: Int, context: String) throws(FeatureViewError) -> Scalar {
        try scalar(value, offset, want: .float, context: context)
    }

    private mutating func binary(_ op: String, _ left: ViewSyntax, _ right: ViewSyntax, at offset: Int) throws(FeatureViewError)
        -> Value
    {
        let l = try compile(left)
        let r = try compile(right)
        let kind: ScalarKind
        let code: P.Binary
        let a: Scalar
        let b: Scalar
        switch op {
        case "and", "or":
            a = try scalar(l, left.offset, want: .bool, context: "'\(op)'")
            b = try scalar(r, right.offset, want: .bool, context: "'\(op)'")
            kind = .bool
            code = op == "and" ? .and : .or
        case "==", "!=":
            if case .scalar(.bool, _, _) = l {
                a = try scalar(l, left.offset, want: .bool, context: "'\(op)'")
                b = try scalar(r, right.offset, want: .bool, context: "'\(op)' with a bool on its left")
            } else {
                a = try number(l, left.offset, context: "'\(op)'")
                b = try number(r, right.offset, context: "'\(op)'")
            }
            kind = .bool
            code = op == "==" ? .equal : .notEqual
        default:
            a = try number(l, left.offset, context: "'\(op)'")
            b = try number(r, right.offset, context: "'\(op)'")
            switch op {
            case "+", "-", "*":
                kind = a.kind == .int && b.kind == .int ? .int : .float
                code = op == "+" ? .add : op == "-" ? .subtract : .multiply
            case "/":
                kind = .float
                code = .divide
            default:
                kind = .bool
                code = op == "<" ? .less : op == "<=" ? .lessOrEqual : op == ">" ? .greater : .greaterOrEqual
            }
        }
        let dst = register()
        program.instructions.append(.binary(dst: dst, code, a.register, b.register))
        return .scalar(kind, register: dst, constant: nil)
    }

    mutating func tokenSlot(_ recipe: P.TokenRecipe) -> P.TokenSlot {
        if recipe.column.isVideo {
            if let i = program.videoRecipes.firstIndex(of: recipe) { return .video(i) }
            program.videoRecipes.append(recipe)
            return .video(program.videoRecipes.count - 1)
        }
        if let i = program.queryRecipes.firstIndex(of: recipe) { return .query(i) }
        program.queryRecipes.append(recipe)
        return .query(program.queryRecipes.count - 1)
    }
}
