import TandemCore

/// The value type of a feature.
public enum FeatureType: String, Sendable, Codable {
    case float32
}

/// A feature, defined once in code: its name, type, description, owner and version. The gold build and the
/// inference pipeline compute it through the same function (`FeatureComputer`).
public struct FeatureDefinition: Sendable, Codable, Equatable {
    public var name: String
    public var type: FeatureType
    public var description: String
    public var owner: String
    public var version: Int

    public init(_ name: String, _ description: String, owner: String = "search-relevance", version: Int = 1) {
        self.name = name
        self.type = .float32
        self.description = description
        self.owner = owner
        self.version = version
    }
}

/// An ordered list of features that models name (`relevance_v1`). The order is the column order of the
/// gold table and of a model's input.
public struct FeatureSet: Sendable, Codable, Equatable {
    public var name: String
    public var version: Int
    public var features: [FeatureDefinition]

    /// Feature names, in order.
    public var names: [String] { features.map(\.name) }

    /// The index of each named feature, or an error naming the unknown one (models reuse features by name).
    public func indices(of names: [String]) throws -> [Int] {
        try names.map { name in
            guard let i = features.firstIndex(where: { $0.name == name }) else {
                throw FeatureStoreError.unknownFeature(name, set: self.name)
            }
            return i
        }
    }

    /// Every feature set this version of Tandem defines, by name.
    public static let all: [String: FeatureSet] = [relevanceV1.name: relevanceV1]

    /// The 56 features of docs/data-contract.md, "Gold features".
    public static let relevanceV1: FeatureSet = {
        var f: [FeatureDefinition] = [
            .init("bm25_title", "BM25 (k1 1.2, b 0.75) of the query's distinct tokens over title tokens"),
            .init("bm25_desc", "BM25 of the query's distinct tokens over description tokens"),
            .init("overlap_title", "number of distinct query tokens found in the title"),
            .init("overlap_desc", "number of distinct query tokens found in the description"),
            .init("overlap_channel", "number of distinct query tokens found in the channel name"),
            .init("q_len", "number of distinct query tokens"),
            .init("title_len", "title token count, repeats included"),
            .init("desc_len", "description token count, repeats included"),
            .init("overlap_title_frac", "overlap_title / q_len (0 when q_len is 0)"),
            .init("overlap_desc_frac", "overlap_desc / q_len (0 when q_len is 0)"),
            .init("all_q_in_title", "1 when every distinct query token is in the title"),
            .init("exact_phrase_title", "1 when the query's tokens appear in order, contiguous, in the title"),
            .init("log1p_views", "ln(1 + views)"),
            .init("age_days", "(judged_at − published) in days"),
            .init("log1p_age_days", "ln(1 + max(age_days, 0))"),
            .init("log1p_views_per_day", "ln(1 + views / max(age_days, 1))"),
            .init("log1p_duration_s", "ln(1 + duration_s)"),
        ]
        let buckets = ["[0,60)", "[60,240)", "[240,600)", "[600,1200)", "[1200,3600)", "[3600,∞)"]
        for (i, b) in buckets.enumerated() { f.append(.init("dur_b\(i)", "1 when duration_s is in \(b) seconds")) }
        f.append(.init("q_len_chars", "Unicode code points of the normalised query"))
        for i in 0..<32 {
            let name = i < 10 ? "h0\(i)" : "h\(i)"
            f.append(.init(name, "hashed query×title token crosses: count of pairs with fnv1a32(q + \" \" + t) mod 32 = \(i)"))
        }
        return FeatureSet(name: "relevance_v1", version: 1, features: f)
    }()
}

/// Errors of the feature store and the ETL.
public enum FeatureStoreError: TandemLakehouseError {
    case unknownFeature(String, set: String)
    case unknownFeatureSet(String)
    case noFeatureTable(String)

    public var description: String {
        switch self {
        case .unknownFeature(let name, let set): "feature '\(name)' is not in feature set '\(set)'; see `tandem features show`"
        case .unknownFeatureSet(let name):
            "unknown feature set '\(name)'; known: " + FeatureSet.all.keys.sorted().joined(separator: ", ")
        case .noFeatureTable(let name): "no feature table version '\(name)' in this feature store; run `tandem etl` first"
        }
    }
}

/// An error of this module, with its exit status.
public protocol TandemLakehouseError: TandemError {}

extension FeatureStoreError {
    public var exitStatus: ExitStatus { .badInput }
}
