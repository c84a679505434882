import Foundation
import TandemCore
public import TandemFeatures

/// The inference pipeline: a request (raw query, raw candidate URLs) through the one feature code path and
/// the scorer, to candidates ranked best first. Unknown candidates are reported, never silently dropped.
public final class InferencePipeline {
    /// The views the model reads, each through its own plan: its first, then the ones joined to it.
    public let views: [InferenceFeatures]
    public let scorer: Scorer
    /// The columns the model uses, in its signature's order: which view, and which of its columns.
    public let columns: [(view: Int, column: Int)]
    private var selected: [Float] = []

    /// A model that reads one view: `columns` of its feature set.
    public convenience init(features: InferenceFeatures, scorer: Scorer, columns: [Int]) {
        self.init(views: [features], scorer: scorer, columns: columns.map { (0, $0) })
    }

    /// A model that reads several views joined on their entity keys (each candidate is a query × video pair).
    public init(views: [InferenceFeatures], scorer: Scorer, columns: [(view: Int, column: Int)]) {
        self.views = views
        self.scorer = scorer
        self.columns = columns
    }

    /// One request.
    public struct Request: Sendable {
        public var query: String
        public var candidates: [String]
        /// The time features are computed at (now when absent).
        public var at: DataTimestamp?

        public init(query: String, candidates: [String], at: DataTimestamp? = nil) {
            self.query = query
            self.candidates = candidates
            self.at = at
        }

        /// Parses `{"query": str, "candidates": [str…], "at"?: timestamp}`.
        public static func parse(_ line: UnsafeBufferPointer<UInt8>, parser: inout StrictJSONObjectParser) -> Request? {
            guard let fields = parser.parse(line), case .string(let query)? = fields[0] else { return nil }
            guard case .array? = fields[1] else { return nil }
            // Candidates: decode the array with Foundation (requests are small).
            guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
                let candidates = object["candidates"] as? [String]
            else { return nil }
            var at: DataTimestamp?
            if case .string(let text)? = fields[2] {
                guard let t = DataTimestamp(text) else { return nil }
                at = t
            }
            return Request(query: query, candidates: candidates, at: at)
        }
    }

    /// One response.
    public struct Response: Sendable {
        public var query: String
        public var ranked: [(videoURL: String, score: Float)]
        public var unknown: [(candidate: String, reason: String)]

        public func write(into out: inout JSONText) {
            out.raw("{\"query\":")
            out.string(query)
            out.raw(",\"ranked\":[")
            for (i, r) in ranked.enumerated() {
                if i > 0 { out.raw(",") }
                out.raw("{\"video_url\":")
                out.string(r.videoURL)
                out.raw(",\"score\":")
                out.verbatim(r.score.description)
                out.raw("}")
            }
            out.raw("],\"unknown\":[")
            for (i, u) in unknown.enumerated() {
                if i > 0 { out.raw(",") }
                out.raw("{\"candidate\":")
                out.string(u.candidate)
                out.raw(",\"reason\":")
                out.string(u.reason)
                out.raw("}")
            }
            out.raw("]}")
            out.newline()
        }
    }

    /// Ranks a request's candidates, best first (equal scores keep request order).
    public func rank(_ request: Request) throws -> Response {
        let now = DataTimestamp(seconds: Int64(Date().timeIntervalSince1970))
        let matrix = try views[0].features(query: request.query, candidates: request.candidates, at: request.at ?? now)
        var matrices = [matrix]
        for view in views.dropFirst() {
            matrices.append(try view.features(query: request.query, candidates: request.candidates, at: request.at ?? now))
        }
        // Every view reads the same silver videos, so each keeps the same candidates in the same order.
        for other in matrices.dropFirst() where other.videoURLs != matrix.videoURLs {
            throw Failure(.failed, "the joined feature views resolved the request's candidates differently")
        }
        let rows = matrix.videoURLs.count
        let width = columns.count
        if selected.count < rows * width { selected = [Float](repeating: 0, count: rows * width) }
        // Each view's columns, copied from its matrix without copying the matrix (no retain in the loop).
        selected.withUnsafeMutableBufferPointer { out in
            for (v, m) in matrices.enumerated() {
                m.matrix.withUnsafeBufferPointer { values in
                    for (k, c) in columns.enumerated() where c.view == v {
                        for r in 0..<rows { out[r * width + k] = values[r * m.width + c.column] }
                    }
                }
            }
        }
        var scores = [Float](repeating: 0, count: rows)
        selected.withUnsafeBufferPointer { f in
            scores.withUnsafeMutableBufferPointer { s in
                if let fb = f.baseAddress, let sb = s.baseAddress { scorer.score(fb, rows: rows, into: sb) }
            }
        }
        let order = scores.withUnsafeBufferPointer { RankingMetrics.ranking($0) }
        return Response(
            query: matrix.query, ranked: order.map { (matrix.videoURLs[$0], scores[$0]) },
            unknown: matrix.unknown.map { ($0.candidate, $0.reason) })
    }
}
