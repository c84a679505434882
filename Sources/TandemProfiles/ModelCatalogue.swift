import Foundation
public import TandemCore

/// Every model of a repository (docs/models.md): each `models/*.yaml` whose top level names a `model:` is that
/// model's config (kind, features, training settings, owners); other YAML files there (sweep specifications) are
/// not models. A model's lock file is `models/NAME.lock.json`. Names are unique across the folder.
public struct ModelCatalogue: Sendable, Equatable {
    /// The model configs, by model name.
    public var models: [String: TrainingConfig]
    /// Each model's config file, relative to the repository root (`models/relevance.yaml`).
    public var paths: [String: String]

    public init(models: [String: TrainingConfig] = [:], paths: [String: String] = [:]) {
        self.models = models
        self.paths = paths
    }

    /// The model names, sorted.
    public var names: [String] { models.keys.sorted() }

    public subscript(name: String) -> TrainingConfig? { models[name] }

    /// The folder, relative to the repository root.
    public static let folder = "models"

    /// Builds a catalogue from YAML texts keyed by their path relative to the repository root (`models/x.yaml`);
    /// `label` prefixes each path in messages (`production@1a2b3c4d5e6f:` for a commit's files).
    public static func load(texts: [String: String], label: String = "") throws(ProfileError) -> ModelCatalogue {
        var models: [String: TrainingConfig] = [:]
        var paths: [String: String] = [:]
        for (path, text) in texts.sorted(by: { $0.key < $1.key }) {
            let displayName = label + path
            guard try isModelConfig(text, displayName: displayName) else { continue }
            let config = try TrainingConfig.parse(text, displayName: displayName)
            if let other = models[config.model] {
                throw ProfileError(
                    location: SourceLocation(file: displayName, line: 1, column: 1),
                    problem: "model '\(config.model)' is configured twice (also in \(other.file))",
                    fix: "give each model one config file under models/, or rename one of them")
            }
            models[config.model] = config
            paths[config.model] = path
        }
        return ModelCatalogue(models: models, paths: paths)
    }

    /// Whether a YAML text is a model config: a mapping with a top-level `model:` key.
    static func isModelConfig(_ text: String, displayName: String) throws(ProfileError) -> Bool {
        try YAMLBounds.check(text, file: displayName)
        guard case .mapping(let entries, _) = try YAMLTree.parse(text, file: displayName) else { return false }
        return entries.contains { $0.key == "model" }
    }

    /// The models of a working tree (`ROOT/models/*.yaml`), each file bounded like every Tandem YAML file.
    public static func inWorkingTree(_ repositoryRoot: String) throws(ProfileError) -> ModelCatalogue {
        let folder = (repositoryRoot as NSString).appendingPathComponent(Self.folder)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        var texts: [String: String] = [:]
        for name in names.sorted() where name.hasSuffix(".yaml") || name.hasSuffix(".yml") {
            let relative = "\(Self.folder)/\(name)"
            texts[relative] = try YAMLBounds.read(
                path: (folder as NSString).appendingPathComponent(name), displayName: relative,
                fix: "keep the files under models/ readable UTF-8 YAML")
        }
        return try load(texts: texts)
    }

    /// The one model a command means when none is named: `changed` (the models whose lock file the branch changed,
    /// when the command can tell) if it holds exactly one, else the only model of the catalogue.
    ///
    /// - Throws: `Failure` (exit 2) that lists the candidates and says to name one with `--model NAME`.
    public func resolve(_ given: String?, changed: [String] = [], what: String = "this command") throws -> String {
        if let given { return given }
        if changed.count == 1 { return changed[0] }
        if changed.isEmpty, models.count == 1, let only = models.keys.first { return only }
        let candidates = changed.isEmpty ? names : changed.sorted()
        if candidates.isEmpty {
            throw Failure(
                .invalidInput,
                "no model config under models/ (a models/NAME.yaml with `model: NAME`), so \(what) has no model; "
                    + "write one (docs/models.md) or name the model with --model NAME")
        }
        throw Failure(
            .invalidInput,
            (changed.isEmpty
                ? "this repository has \(candidates.count) models (\(candidates.joined(separator: ", ")))"
                : "the branch changed the lock files of \(candidates.count) models (\(candidates.joined(separator: ", ")))")
                + "; name the one \(what) is for with --model NAME")
    }
}
