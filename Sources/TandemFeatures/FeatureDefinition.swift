public import TandemCore

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
}

/// Errors of the feature store and the ETL.
public enum FeatureStoreError: TandemLakehouseError {
    case unknownFeature(String, set: String)
    case noFeatureTable(String)

    public var description: String {
        switch self {
        case .unknownFeature(let name, let set): "feature '\(name)' is not in feature set '\(set)'; see `tandem features show`"
        case .noFeatureTable(let name): "no feature table version '\(name)' in this feature store; run `tandem etl` first"
        }
    }
}

/// An error of this module, with its exit status.
public protocol TandemLakehouseError: TandemError {}

extension FeatureStoreError {
    public var exitStatus: ExitStatus { .badInput }
}
