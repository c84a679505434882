import TandemLakehouse

/// A gold table split by the rule of docs/data-contract.md ("Train/validation/test split"): a query is held out
/// iff `fnv1a32(query) mod 5 == 0`.
public struct GoldSplit: Sendable {
    public var train: RankingDataset
    public var heldOut: RankingDataset

    /// Splits a loaded gold table, keeping the given feature columns (all when nil).
    public init(_ gold: GoldTable.Loaded, columns: [Int]? = nil) {
        let groups = QueryGroups(queries: gold.queries)
        let columns = columns ?? Array(0..<gold.width)
        var parts = [(features: [Float](), labels: [Int8](), names: [String](), starts: [Int]())]
        parts.append(parts[0])
        gold.features.withUnsafeBufferPointer { f in
            for g in 0..<groups.count {
                let side = FNV1a.isHeldOut(normalizedQuery: groups.names[g]) ? 1 : 0
                parts[side].names.append(groups.names[g])
                parts[side].starts.append(parts[side].labels.count)
                for r in groups.range(g) {
                    for c in columns { parts[side].features.append(f[r * gold.width + c]) }
                    parts[side].labels.append(gold.labels[r])
                }
            }
        }
        func dataset(_ p: (features: [Float], labels: [Int8], names: [String], starts: [Int])) -> RankingDataset {
            RankingDataset(
                features: p.features, labels: p.labels, groups: QueryGroups(names: p.names, starts: p.starts + [p.labels.count]),
                width: columns.count)
        }
        train = dataset(parts[0])
        heldOut = dataset(parts[1])
    }
}
