import Foundation

/// The hidden relevance model the generated labels are drawn from.
extension FixtureGenerator {
    /// A judgment's label: the hidden model's score plus noise, cut into grades 0–3.
    static func label(_ expected: Double, rng: inout SplitMix64) -> Int {
        let score = expected + 0.3 * rng.normal()
        return score < 0.9 ? 0 : score < 1.8 ? 1 : score < 2.6 ? 2 : 3
    }

    /// The hidden relevance model, without its noise: non-linear in its inputs, as real relevance is.
    static func expectedScore(
        query: [String], topic: Int, intent: FixtureVocabulary.Intent, video: Video, at time: Int64
    ) -> Double {
        let match = video.topic == topic ? 1.0 : 0.0
        let titleSet = Set(video.titleWords.flatMap { $0.lowercased().split(separator: " ").map(String.init) })
        let words = query.flatMap { $0.split(separator: " ").map(String.init) }
        let overlap = Double(words.filter { titleSet.contains($0) }.count) / Double(max(1, words.count))
        let popularity = min(1, max(0, (log1p(Double(video.views)) - 4) / 12))
        let ageDays = Double(time - video.published) / 86_400
        let fresh = exp(-max(ageDays, 0) / 365)
        var score = 1.5 * match + 1.3 * overlap * match + 0.9 * popularity * match + 0.25 * overlap
        switch intent {
        case .plain: score += 0.3 * fresh
        case .news: score += match * 1.4 * fresh - 0.3
        case .quick: score += video.duration < 400 ? 0.7 * match : -0.4
        case .full: score += video.duration > 1500 ? 0.7 * match : -0.4
        }
        return score
    }
}
