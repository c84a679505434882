/// A place in a text file, printed as `FILE:LINE:COLUMN` (1-based), the form editors and CI logs link.
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    /// The file, as the user named it (relative to the repository root when possible).
    public var file: String
    /// 1-based line.
    public var line: Int
    /// 1-based column.
    public var column: Int

    /// Makes a location.
    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }
}
