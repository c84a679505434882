import TandemFeatures

/// A gold table split by the data contract's rule (docs/data-contract.md, "Train/validation/test split"): with
/// `b = fnv1a32(query) mod 5`, a query is in the **test** set iff `b == 0`, in the **validation** set iff
/// `b == 1`, and in the **training** set otherwise.
///
/// The test set is what reported quality and the champion/challenger use, and nothing else does: early stopping
/// and sweep selection look only at the validation set, so the evaluation never sees the queries that chose a
/// challenger.
public struct GoldSplit: Sendable {
    public var train: RankingDataset
    public var validation: RankingDataset
    public var test: RankingDataset

    /// The part of the split a query belongs to.
    public enum Part: Int, Sendable, CaseIterable {
        case test = 0, validation = 1, train = 2

        /// The part of a normalised query.
        public init(query: String) {
            switch FNV1a.splitBucket(normalizedQuery: query) {
            case 0: self = .test
            case 1: self = .validation
            default: self = .train
            }
        }
    }

    /// Splits a loaded gold table, keeping the given feature columns (all when nil).
    public init(_ gold: GoldTable.Loaded, columns: [Int]? = nil) {
        let groups = QueryGroups(queries: gold.queries)
        let columns = columns ?? Array(0..<gold.width)
        var parts = [Builder](repeating: Builder(), count: Part.allCases.count)
        gold.features.withUnsafeBufferPointer { f in
            for g in 0..<groups.count {
                let side = Part(query: groups.names[g]).rawValue
                parts[side].names.append(groups.names[g])
                parts[side].starts.append(parts[side].labels.count)
                for r in groups.range(g) {
                    for c in columns { parts[side].features.append(f[r * gold.width + c]) }
                    parts[side].labels.append(gold.labels[r])
                }
            }
        }
        test = parts[Part.test.rawValue].dataset(width: columns.count)
        validation = parts[Part.validation.rawValue].dataset(width: columns.count)
        train = parts[Part.train.rawValue].dataset(width: columns.count)
    }

    /// One part's rows.
    public subscript(part: Part) -> RankingDataset {
        switch part {
        case .test: test
        case .validation: validation
        case .train: train
        }
    }

    private struct Builder {
        var features: [Float] = []
        var labels: [Int8] = []
        var names: [String] = []
        var starts: [Int] = []

        func dataset(width: Int) -> RankingDataset {
            RankingDataset(
                features: features, labels: labels, groups: QueryGroups(names: names, starts: starts + [labels.count]),
                width: width)
        }
    }
}

extension RankingDataset {
    /// Several datasets one after the other (their groups kept in order).
    public static func concatenating(_ parts: [RankingDataset], width: Int) -> RankingDataset {
        var features: [Float] = []
        var labels: [Int8] = []
        var names: [String] = []
        var starts: [Int] = []
        for p in parts {
            names += p.groups.names
            starts += p.groups.starts.dropLast().map { $0 + labels.count }
            features += p.features
            labels += p.labels
        }
        return RankingDataset(
            features: features, labels: labels, groups: QueryGroups(names: names, starts: starts + [labels.count]), width: width)
    }
}
