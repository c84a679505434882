import Foundation
public import TandemCore
public import TandemGit
public import TandemProfiles

extension ModelCatalogue {
    /// The models committed at `commit` (a branch under review, or the production branch's head), each file sized
    /// from git's tree listing before it is read, so a hostile branch cannot make Tandem read more than the YAML
    /// limit per file. `label` prefixes paths in messages (`feature/pop@1a2b3c4d5e6f:`).
    public static func committed(at commit: String, label: String, in repository: any PromotionRepository) throws
        -> ModelCatalogue
    {
        let texts = try committedYAML(
            in: folder, at: commit, label: label, repository: repository, what: "a model config")
        return try load(texts: texts, label: label)
    }
}

/// The YAML files of `folder` at `commit`, by path, each sized from git's tree listing before it is read, so a
/// hostile branch cannot make Tandem read more than the YAML limit per file; `what` names such a file in the
/// refusal (`a model config`).
func committedYAML(
    in folder: String, at commit: String, label: String, repository: any PromotionRepository, what: String
) throws -> [String: String] {
    var texts: [String: String] = [:]
    for (path, size) in try repository.files(in: folder, at: commit).sorted(by: { $0.key < $1.key })
    where path.hasSuffix(".yaml") || path.hasSuffix(".yml") {
        if size > InputLimits.yamlBytes {
            throw ProfileError(
                location: SourceLocation(file: label + path, line: 1, column: 1),
                problem: "is \(size) bytes, more than the \(InputLimits.yamlBytes >> 20) MiB a Tandem YAML file may have",
                fix: "\(what) is a few KiB; keep \(path) under that size")
        }
        guard let text = repository.show(path, at: commit) else { continue }
        texts[path] = text
    }
    return texts
}

/// Which models a branch changes (docs/models.md, "Lanes"): the models whose config or lock file under `models/`
/// differs between the branch's commit and where it left the production branch (their merge base), so that
/// promotions of other models made on the production branch since do not count as the branch's changes.
public struct ModelChanges: Sendable, Equatable {
    /// Models whose lock file the branch changed.
    public var locks: [String]
    /// Models whose config or lock file the branch changed.
    public var models: [String]

    /// The changes of `commit` since `production` (the production branch's head; nil when it does not exist yet,
    /// so every model file of `commit` counts).
    public static func of(
        _ commit: String, since production: String?, catalogue: ModelCatalogue, baseCatalogue: ModelCatalogue?,
        in repository: any PromotionRepository
    ) throws -> ModelChanges {
        let base = production.flatMap { repository.mergeBase($0, commit) }
        let now = try repository.files(in: ModelCatalogue.folder, at: commit)
        let then = try base.map { try repository.files(in: ModelCatalogue.folder, at: $0) } ?? [:]
        var configOwner: [String: String] = [:]
        for (name, path) in catalogue.paths { configOwner[path] = name }
        for (name, path) in baseCatalogue?.paths ?? [:] { configOwner[path] = name }
        var locks: Set<String> = []
        var models: Set<String> = []
        for path in Set(now.keys).union(then.keys) {
            let a = base.flatMap { repository.show(path, at: $0) }
            let b = repository.show(path, at: commit)
            guard a != b else { continue }
            let name = (path as NSString).lastPathComponent
            if name.hasSuffix(".lock.json") {
                let model = String(name.dropLast(".lock.json".count))
                locks.insert(model)
                models.insert(model)
            } else if let model = configOwner[path] {
                models.insert(model)
            }
        }
        return ModelChanges(locks: locks.sorted(), models: models.sorted())
    }
}
