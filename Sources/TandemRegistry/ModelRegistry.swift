public import Foundation

/// An environment's model registry and run tracker (docs/architecture.md, "The registry"), with MLflow's semantics: runs with
/// parameters and metric histories; registered models whose versions are numbered from 1; aliases that point
/// at versions and move when set again; and an audit log of every change.
///
/// Implementations: `SQLiteModelRegistry` (`file://` roots, the embedded default) and `MLflowModelRegistry`
/// (`mlflow+http(s)://` roots). The registry of an environment is chosen from its profile's `registry` root in
/// one place, `StageContext.openRegistry` (TandemCommands).
/// Every write is transactional; artifacts are content-addressed and checked against their digest when read.
///
/// Failures are `Failure`s whose `code` callers decide on: `.notFound` (the registry answered that the thing
/// does not exist) is the only one that means "absent" (`Failure.unlessNotFound`); an unreachable, refused,
/// damaged or failing registry is never read as an empty one.
public protocol ModelRegistry: Sendable {
    // Runs.
    /// Records a new run; returns its id (the one given, or the one the registry assigns).
    func createRun(_ run: RunRecord) throws -> String

    func logMetrics(runID: String, _ points: [MetricPoint]) throws
    func updateRun(_ run: RunRecord) throws
    func run(id: String) throws -> RunRecord
    func runs(experiment: String?, limit: Int) throws -> [RunRecord]
    func metricHistory(runID: String) throws -> [MetricPoint]

    // Artifacts.
    /// Stores bytes under their SHA-256 and returns it.
    func storeArtifact(_ data: Data) throws -> String
    /// The bytes stored under a digest, checked against it.
    func artifact(digest: String) throws -> Data

    // Models, versions, aliases.
    /// Registers the next version of `version.name` (creating the model on its first version).
    func createVersion(_ version: ModelVersion, actor: String) throws -> ModelVersion
    func version(_ reference: ModelReference) throws -> ModelVersion
    func versions(name: String) throws -> [ModelVersion]
    func models() throws -> [String]
    /// Points `alias` at a version, moving it if it pointed elsewhere.
    func setAlias(name: String, alias: String, version: Int, actor: String) throws
    func deleteAlias(name: String, alias: String, actor: String) throws
    func aliases(name: String) throws -> [String: Int]

    // Audit.
    func auditLog() throws -> [AuditEntry]
    /// Appends an entry for an action the registry does not record by itself (a promotion step).
    func appendAudit(actor: String, action: String, subject: String, detail: [String: String]) throws

    /// Whether other clients write this registry by design (an MLflow server, with its UI and client): a version or
    /// alias they changed is reported as a change Tandem did not make, not as tampering, outside protected
    /// environments.
    var acceptsOtherClients: Bool { get }
}

extension ModelRegistry {
    public var acceptsOtherClients: Bool { false }
}
