/// A feature view as declared in `features/NAME.yaml` (docs/features.md), before it is compiled: its text, with
/// the place in the file of every part, so that each refusal can point at what to change.
///
/// TandemProfiles reads it from YAML; TandemFeatures compiles it into the plan that both the gold build and the
/// inference path execute.
public struct FeatureViewSource: Sendable, Equatable {
    /// One named expression: a `let` binding or a feature.
    public struct Expression: Sendable, Equatable {
        /// The name (a feature's may hold `{i}` or `{i:02}` when its expression is a vector).
        public var name: String
        public var nameLocation: SourceLocation
        /// The expression's text.
        public var text: String
        /// Where each line of `text` starts in the file (one entry per line; empty when unknown).
        public var lineStarts: [SourceLocation]
        /// What it means, for people (a feature's may hold `{i}`); never part of the definition's version.
        public var description: String
        /// One description per column of a vector feature, when given as a list.
        public var descriptions: [String]

        public init(
            name: String, nameLocation: SourceLocation, text: String, lineStarts: [SourceLocation],
            description: String = "", descriptions: [String] = []
        ) {
            self.name = name
            self.nameLocation = nameLocation
            self.text = text
            self.lineStarts = lineStarts
            self.description = description
            self.descriptions = descriptions
        }

        /// The place in the file of the Unicode scalar at `offset` in `text` (the start when it is unknown).
        public func location(atScalarOffset offset: Int) -> SourceLocation {
            guard let first = lineStarts.first else { return nameLocation }
            var line = 0
            var column = 0
            for (i, scalar) in text.unicodeScalars.enumerated() {
                if i == offset { break }
                if scalar == "\n" {
                    line += 1
                    column = 0
                } else {
                    column += 1
                }
            }
            let start = line < lineStarts.count ? lineStarts[line] : first
            return SourceLocation(file: start.file, line: start.line, column: start.column + column)
        }
    }

    /// The file, as the user named it.
    public var file: String
    /// The file's whole text, as read: what the feature store keeps with each version of the view.
    public var text: String
    public var name: String
    public var nameLocation: SourceLocation
    /// `query`, `video` or `query_video`.
    public var entity: String
    public var entityLocation: SourceLocation
    public var owner: String
    public var description: String
    /// Named intermediate expressions, in order (not features; not columns of the gold table).
    public var lets: [Expression]
    /// The features, in column order.
    public var features: [Expression]

    public init(
        file: String, text: String, name: String, nameLocation: SourceLocation, entity: String, entityLocation: SourceLocation,
        owner: String, description: String, lets: [Expression], features: [Expression]
    ) {
        self.file = file
        self.text = text
        self.name = name
        self.nameLocation = nameLocation
        self.entity = entity
        self.entityLocation = entityLocation
        self.owner = owner
        self.description = description
        self.lets = lets
        self.features = features
    }
}
