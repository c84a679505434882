/// A compiled feature view's program (docs/features.md): the token lists it prepares once per video and once
/// per query, and the straight-line instructions it runs per row. `ViewCompiler` builds it; `ViewPlan` runs it,
/// for the gold build and for inference alike.
struct ViewProgram: Sendable {
    /// A text column.
    enum TextColumn: Int, Sendable, CaseIterable {
        case query, title, description, channel, url
        var isVideo: Bool { self != .query }
    }

    /// How a token list is made from a column: `tokens(column)`, then `distinct` when asked.
    struct TokenRecipe: Sendable, Hashable, CustomStringConvertible {
        var column: TextColumn
        var distinct: Bool

        /// The recipe as an expression: `distinct(tokens(video.title))`.
        var description: String {
            let name = column == .query ? "query" : "video.\(column)"
            return distinct ? "distinct(tokens(\(name)))" : "tokens(\(name))"
        }
    }

    /// A token list: the index of its recipe among the video's or the query's.
    enum TokenSlot: Sendable, Hashable {
        case query(Int)
        case video(Int)
    }

    enum TimeSource: Sendable {
        case published
        case eventTime
    }

    enum IntColumn: Sendable {
        case views
        case durationS
    }

    enum Unary: Sendable {
        case negate, not, log1p, ln, sqrt, abs
    }

    enum Binary: Sendable {
        case add, subtract, multiply, divide, less, lessOrEqual, greater, greaterOrEqual, equal, notEqual, and, or, min,
            max
    }

    /// One instruction: writes register `dst` (or, for vector instructions, `count` values of the vector scratch
    /// from `dst`).
    enum Instruction: Sendable {
        case constant(dst: Int, Double)
        case intColumn(dst: Int, IntColumn)
        case count(dst: Int, TokenSlot)
        case length(dst: Int, TextColumn)
        case hash(dst: Int, TextColumn, buckets: Int)
        case overlap(dst: Int, TokenSlot, TokenSlot)
        case phraseIn(dst: Int, TokenSlot, TokenSlot)
        case bm25(dst: Int, query: TokenSlot, document: Int, k1: Double, b: Double)
        case days(dst: Int, from: TimeSource, to: TimeSource)
        case unary(dst: Int, Unary, Int)
        case binary(dst: Int, Binary, Int, Int)
        case select(dst: Int, Int, Int, Int)
        case bucket(dst: Int, Int, edges: Int, count: Int)
        case clip(dst: Int, Int, Int, Int)
        case oneHot(dst: Int, Int, count: Int)
        case crosses(dst: Int, TokenSlot, TokenSlot, count: Int)
        /// `row[column] = Float(register)`.
        case output(column: Int, Int)
        /// `row[column + k] = Float(vector[from + k])` for k < count.
        case outputVector(column: Int, from: Int, count: Int)
    }

    var videoRecipes: [TokenRecipe] = []
    var queryRecipes: [TokenRecipe] = []
    /// For each BM25 document, the video recipe whose corpus statistics it uses.
    var bm25Documents: [Int] = []
    /// The edges of every `bucket`, one after another.
    var edges: [Double] = []
    var instructions: [Instruction] = []
    var registers = 0
    var vectorWidth = 0
    var width = 0
}
