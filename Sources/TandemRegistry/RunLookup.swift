import TandemCore

extension ModelRegistry {
    /// The run with this id, or the one run whose id starts with it; an unknown or ambiguous prefix is bad input.
    public func run(matching prefix: String) throws -> RunRecord {
        if let exact = try Failure.unlessNotFound({ try run(id: prefix) }) { return exact }
        let matches = try runs(experiment: nil, limit: 100_000).filter { $0.id.hasPrefix(prefix) }
        guard matches.count == 1 else {
            throw Failure(
                .invalidInput,
                matches.isEmpty
                    ? "no run '\(prefix)'; see `tandem runs list`"
                    : "'\(prefix)' matches \(matches.count) runs; give more of the id")
        }
        return matches[0]
    }

    /// Runs side by side (`tandem runs compare`): each one's parameters, with its feature table and commit, and
    /// the last value of each of its metrics.
    public func comparison(of prefixes: [String]) throws -> [RunComparisonColumn] {
        try prefixes.map { prefix in
            let r = try run(matching: prefix)
            var last: [String: Double] = [:]
            for p in try metricHistory(runID: r.id) { last[p.key] = p.value }
            var parameters = r.parameters
            parameters["feature_table"] = r.featureTable ?? "-"
            parameters["git_commit"] = r.gitCommit.map { String($0.prefix(12)) } ?? "-"
            return RunComparisonColumn(run: r.id, parameters: parameters, metrics: last)
        }
    }
}

/// One run of a comparison: its parameters and its metrics' last values.
public struct RunComparisonColumn: Encodable, Sendable {
    public var run: String
    public var parameters: [String: String]
    public var metrics: [String: Double]
}
