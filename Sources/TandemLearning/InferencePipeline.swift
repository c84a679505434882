import Foundation
import TandemFeatures

/// The inference pipeline: a request (raw query, raw candidate URLs) through the one feature code path and
/// the scorer, to candidates ranked best first. Unknown candidates are reported, never silently dropped.
public final class InferencePipeline {
    public let features: InferenceFeatures
    public let scorer: Scorer
    /// The feature-set columns the model uses, in its signature's order.
    public let columns: [Int]
    private var selected: [Float] = []

    public init(features: InferenceFeatures, scorer: Scorer, columns: [Int]) {
        self.features = features
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
        let matrix = try features.features(query: request.query, candidates: request.candidates, at: request.at ?? now)
        let rows = matrix.videoURLs.count
        let width = columns.count
        if selected.count < rows * width { selected = [Float](repeating: 0, count: rows * width) }
        for r in 0..<rows {
            for (k, c) in columns.enumerated() { selected[r * width + k] = matrix.matrix[r * matrix.width + c] }
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
