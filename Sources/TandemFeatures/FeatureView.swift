public import TandemCore

/// The entity a feature view describes (docs/features.md): its features read only that entity's columns.
public enum ViewEntity: String, Sendable, CaseIterable, Codable {
    case query
    case video
    case queryVideo = "query_video"
}

/// A feature view that cannot be compiled, with the place to change and what to write there:
/// `features/freshness_v1.yaml:9:18: unknown function 'log1' (did you mean 'log1p'?); …`.
public struct FeatureViewError: TandemError, Equatable {
    public var location: SourceLocation
    public var problem: String
    public var fix: String
    public var exitStatus: ExitStatus { .badInput }

    public init(location: SourceLocation, problem: String, fix: String) {
        self.location = location
        self.problem = problem
        self.fix = fix
    }

    public var description: String { "\(location): \(problem); \(fix)" }
}

/// A compiled feature view: its features in column order, the normal form of its definition (what its version
/// is derived from) and the program that both the gold build and the inference path run (`ViewPlan`).
public final class FeatureView: Sendable {
    public let name: String
    public let entity: ViewEntity
    public let owner: String
    public let description: String
    /// The file it was declared in.
    public let file: String
    /// The declaration's text, as read.
    public let sourceText: String
    /// Its features, vectors expanded, in column order.
    public let features: [FeatureDefinition]
    /// The definition in one normal form: entity, `let`s and features with their expressions re-printed. Owner and
    /// descriptions are not part of it (rewording a description does not change what is computed).
    public let normalizedDefinition: String
    /// The SHA-256 of `normalizedDefinition`: the identity of this definition.
    public let digest: String
    let program: ViewProgram

    init(
        source: FeatureViewSource, entity: ViewEntity, features: [FeatureDefinition], normalized: String,
        program: ViewProgram
    ) {
        name = source.name
        self.entity = entity
        owner = source.owner
        description = source.description
        file = source.file
        sourceText = source.text
        self.features = features
        normalizedDefinition = normalized
        digest = ContentDigest.sha256Hex(normalized)
        self.program = program
    }

    /// The feature set this view produces: the columns of its gold table and of a model's input.
    public var featureSet: FeatureSet { FeatureSet(name: name, version: 1, features: features) }

    /// Compiles a declared view, or refuses it at the first place that is wrong.
    public static func compile(_ source: FeatureViewSource) throws(FeatureViewError) -> FeatureView {
        var compiler = ViewCompiler(source: source)
        return try compiler.compile()
    }
}
