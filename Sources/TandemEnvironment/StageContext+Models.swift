import Foundation
import TandemCore
public import TandemFeatures
import TandemGit
public import TandemLakehouse
public import TandemLearning
import TandemPipeline
public import TandemProfiles
import TandemPromotion
import TandemRegistry

extension StageContext {
    /// The repository's models (`models/*.yaml` in the working tree; docs/models.md).
    public func models() throws -> ModelCatalogue { try ModelCatalogue.inWorkingTree(repositoryRoot) }

    /// The repository's feature views (`features/*.yaml` in the working tree, then the built-in ones;
    /// docs/features.md).
    public func featureViews() throws -> FeatureViewCatalogue { try FeatureViewCatalogue.inWorkingTree(repositoryRoot) }

    /// The model a command means (docs/models.md, "Which model"): `given` when named; else the one model whose
    /// lock file the checked-out branch changed since it left the production branch; else the repository's only
    /// model; else a usage error (exit 2) that lists the candidates.
    public func modelName(_ given: String?, what: String) throws -> String {
        if let given { return given }
        let catalogue = try models()
        var changed: [String] = []
        let git = Git(folder: repositoryRoot)
        if git.isRepository, let head = try? git.commit(of: "HEAD") {
            let production = try? GitPromotion(git: git, branch: profile.git.productionBranch, remote: nil).currentHead()
            if let production {
                changed =
                    (try? ModelChanges.of(head, since: production, catalogue: catalogue, baseCatalogue: nil, in: git))?
                    .locks ?? []
            }
        }
        return try catalogue.resolve(nil, changed: changed, what: what)
    }

    /// A model from an artifact file, or from this environment's registry (`NAME@VERSION`, `NAME@ALIAS`, its
    /// bytes checked against the digest), with the name errors and reports call it by.
    public func loadModel(_ argument: String) throws -> (RankerModel, String) {
        if FileManager.default.fileExists(atPath: argument) {
            let (model, _) = try ModelArtifact.load(path: argument)
            return (model, argument)
        }
        guard let reference = ModelReference(argument) else {
            throw Failure(
                .invalidInput, "'\(argument)' is neither a model artifact file nor a model reference (NAME@VERSION or NAME@ALIAS)"
            )
        }
        let (version, model) = try ModelLoading.load(reference, from: try openRegistry(writer: nil))
        return (model, version.reference)
    }

    /// `tandem train --as-of T`: the feature table of `config`'s set as it was at `time`, and the override that
    /// pins the training to it (`features.table=N`), so that sweeps and their trials read it too.
    ///
    /// - Throws: `Failure` (exit 2) when the config already pins a table, for a bad time, or when the set had no
    ///   version then.
    public func tableAsOf(_ time: String, config: TrainingConfig) throws -> (table: FeatureTableVersion, override: String) {
        let pinned =
            config.viewsDeclared
            ? ([TrainingConfig.JoinedView(name: config.featureSet, table: config.featureTableVersion)] + config.joinedViews)
                .first { $0.table != nil }?.reference
            : config.featureTableVersion.map { "\(config.featureSet)@\($0)" }
        if let pinned {
            throw Failure(
                .invalidInput,
                "\(config.file) pins \(pinned) (\(config.viewsDeclared ? "features.views" : "features.table")); --as-of picks "
                    + "the version that was current at a time: give one or the other")
        }
        let store = try openFeatureStoreForReading()
        let table = try store.featureTable(set: config.featureSet, asOf: time)
        guard config.viewsDeclared else { return (table, "features.table=\(table.version)") }
        // Each joined view as a training then joined it: its latest table by then built from the same silver.
        let joined = try config.joinedViews.map {
            try store.featureTable(set: $0.name, asOf: time, silver: table.lineage.silverVersion).reference
        }
        return (table, "features.views=[\(([table.reference] + joined).joined(separator: ", "))]")
    }

    /// The config of the model a command means (see `modelName`), as the working tree has it.
    public func modelConfig(_ given: String?, what: String) throws -> TrainingConfig {
        let catalogue = try models()
        let name = try modelName(given, what: what)
        guard let config = catalogue[name] else {
            throw Failure(
                .notFound,
                "no config of model '\(name)' under models/ (a YAML file with `model: \(name)`); the repository configures "
                    + (catalogue.names.isEmpty ? "no model" : catalogue.names.joined(separator: ", ")))
        }
        return config
    }
}
