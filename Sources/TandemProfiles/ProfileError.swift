public import TandemCore
import Yams

/// A profile that cannot be used, with the place to change and what to write there:
/// `environments/prod.yaml:12:3: unknown key 'registy' (did you mean 'registry'?); …`.
public struct ProfileError: TandemError, Equatable {
    /// Where the problem is.
    public var location: SourceLocation
    /// What is wrong.
    public var problem: String
    /// What to do about it.
    public var fix: String
    /// Bad input unless the problem is a root that cannot be reached.
    public var exitStatus: ExitStatus

    /// Makes an error; bad input by default.
    public init(location: SourceLocation, problem: String, fix: String, exitStatus: ExitStatus = .badInput) {
        self.location = location
        self.problem = problem
        self.fix = fix
        self.exitStatus = exitStatus
    }

    public var description: String { "\(location): \(problem); \(fix)" }

    static func syntax(_ error: YamlError, file: String) -> ProfileError {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let what = [context.map { "\($0.text)" }, problem].compactMap { $0 }.filter { !$0.isEmpty }
            return ProfileError(
                location: SourceLocation(file: file, line: mark.line, column: mark.column),
                problem: "invalid YAML: " + what.joined(separator: ", "),
                fix: "fix the YAML syntax at this place (indentation, a missing ':' or an unclosed quote)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            let key = duplicates.first ?? ""
            let first = context.mark
            // Point at the second occurrence: the next line with the same key at the same column.
            let lines = context.text.split(separator: "\n", omittingEmptySubsequences: false)
            var second = SourceLocation(file: file, line: first.line, column: first.column)
            for (index, line) in lines.enumerated() where index + 1 > first.line {
                let indent = String(repeating: " ", count: max(0, first.column - 1))
                if line.hasPrefix(indent + key + ":") || line.hasPrefix(indent + "\"" + key + "\":") {
                    second = SourceLocation(file: file, line: index + 1, column: first.column)
                    break
                }
            }
            return ProfileError(
                location: second, problem: "key '\(key)' appears twice (first at \(file):\(first.line):\(first.column))",
                fix: "keep one of them")
        case .reader(let problem, _, _, _):
            return ProfileError(
                location: SourceLocation(file: file, line: 1, column: 1), problem: "unreadable YAML: \(problem)",
                fix: "save the file as UTF-8 text")
        default:
            return ProfileError(
                location: SourceLocation(file: file, line: 1, column: 1), problem: "invalid YAML (\(error))",
                fix: "fix the YAML syntax")
        }
    }
}
