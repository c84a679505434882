/// What changed between two feature table versions (`tandem features diff`): content, rows, columns, inputs.
public struct FeatureTableDifference: Sendable, Encodable, Equatable {
    public var first: String
    public var second: String
    public var sameContent: Bool
    /// The row counts of the first and the second.
    public var rows: [Int]
    /// Columns of the second that the first lacks, in the second's order.
    public var addedFeatures: [String]
    /// Columns of the first that the second lacks, in the first's order.
    public var removedFeatures: [String]
    /// The lineage inputs whose digests differ (or that only one of them has), sorted.
    public var changedInputs: [String]

    public init(_ x: FeatureTableVersion, _ y: FeatureTableVersion) {
        let xs = Set(x.schema.map(\.name)), ys = Set(y.schema.map(\.name))
        first = x.reference
        second = y.reference
        sameContent = x.digest == y.digest
        rows = [x.rowCount, y.rowCount]
        addedFeatures = y.schema.map(\.name).filter { !xs.contains($0) }
        removedFeatures = x.schema.map(\.name).filter { !ys.contains($0) }
        changedInputs = Set(x.lineage.inputs.keys).union(y.lineage.inputs.keys)
            .filter { x.lineage.inputs[$0] != y.lineage.inputs[$0] }.sorted()
    }

    enum CodingKeys: String, CodingKey {
        case first, second, rows
        case sameContent = "same_content"
        case addedFeatures = "added_features"
        case removedFeatures = "removed_features"
        case changedInputs = "changed_inputs"
    }
}
