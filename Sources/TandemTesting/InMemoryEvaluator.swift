import Foundation
import TandemCore
public import TandemPromotion
import TandemRegistry

/// A `ModelEvaluator` that answers held-out scores kept in memory, by the artifact digest of the model version scored:
/// what the engine's tests decide on without a feature store or a scorer. A model it holds no scores for is refused
/// (exit 2), as a model the feature store cannot score is.
public final class InMemoryEvaluator: ModelEvaluator, @unchecked Sendable {
    private let lock = NSLock()
    private var scores: [String: QueryScores] = [:]
    /// The feature table the scores are said to come from.
    public let table: String

    public init(table: String = "relevance_v1@1") { self.table = table }

    /// Sets the scores of the model version whose artifact has this digest.
    public func set(_ scores: QueryScores, forArtifact digest: String) {
        lock.lock()
        self.scores[digest] = scores
        lock.unlock()
    }

    /// Scores from per-query values, the means taken over the queries where each metric is defined.
    public static func scores(_ perQuery: [String: [Double?]]) -> QueryScores {
        QueryScores(
            perQuery: perQuery,
            means: perQuery.mapValues { values in
                let defined = values.compactMap { $0 }
                return defined.isEmpty ? 0 : defined.reduce(0, +) / Double(defined.count)
            })
    }

    public func evaluate(challenger: EvaluatedModel, champion: EvaluatedModel?) throws -> HeldOutEvaluation {
        lock.lock()
        defer { lock.unlock() }
        func held(_ m: EvaluatedModel) throws -> QueryScores {
            guard let s = scores[m.version.artifactDigest] else {
                throw Failure(
                    .invalidInput,
                    "no held-out scores for \(m.version.reference) (sha256:\(m.version.artifactDigest.prefix(12))…)")
            }
            return s
        }
        return HeldOutEvaluation(table: table, challenger: try held(challenger), champion: try champion.map(held))
    }
}
