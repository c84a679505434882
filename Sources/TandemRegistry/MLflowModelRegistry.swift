public import Foundation
import TandemCore
import TandemHTTP

/// A registry on an MLflow tracking server (`mlflow+http(s)://HOST:PORT`), through its REST API: runs with
/// params, metrics and the `mlflow.source.git.*` tags; registered models and versions with `source`, `run_id`
/// and tags; aliases. A team that runs MLflow keeps its server and its UI.
///
/// Mapping: Tandem's version fields are version tags (`tandem.artifact_digest`, `tandem.signature`, …);
/// artifacts go through the server's artifact proxy, content-addressed as a folder `tandem/models/sha256/DIGEST/`
/// holding `model.tandem` (the version's `source` is `mlflow-artifacts:/tandem/models/sha256/DIGEST`, so MLflow's own
/// client downloads `models:/NAME/N` and `models:/NAME@ALIAS`), logged to the version's run under `model/` too,
/// and checked against their digest when read; metric names replace `@` (which MLflow does not allow) with `_at_`; the audit log is an
/// experiment, `tandem-audit`, one run per entry with its hash-chain fields as tags.
public final class MLflowModelRegistry: ModelRegistry, @unchecked Sendable {
    let client: MLflowClient
    private var experiments: [String: String] = [:]
    private let lock = NSLock()

    /// MLflow's UI and clients write the same server: their changes are external, not tampering.
    public var acceptsOtherClients: Bool { true }

    /// - Parameter baseURL: `http(s)://HOST:PORT[/PATH]` (the root URL without its `mlflow+` prefix).
    public init(baseURL: String) {
        client = MLflowClient(base: baseURL)
    }

    static func metricKey(_ key: String) -> String { key.replacingOccurrences(of: "@", with: "_at_") }
    static func tandemKey(_ key: String) -> String { key.replacingOccurrences(of: "_at_", with: "@") }
    static func ms(_ timestamp: String) -> Int64 {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let plain = ISO8601DateFormatter()
        return Int64(((f.date(from: timestamp) ?? plain.date(from: timestamp) ?? Date()).timeIntervalSince1970 * 1000).rounded())
    }
    static func text(_ ms: Int64?) -> String? {
        ms.map { Timestamp.format(Date(timeIntervalSince1970: Double($0) / 1000), millis: true) }
    }
    static func tags(_ pairs: [String: String]) -> [[String: String]] {
        pairs.sorted { $0.key < $1.key }.map { ["key": $0.key, "value": $0.value] }
    }
    static func dictionary(_ list: Any?) -> [String: String] {
        var out: [String: String] = [:]
        for item in (list as? [[String: Any]]) ?? [] {
            if let k = item["key"] as? String { out[k] = item["value"] as? String ?? "" }
        }
        return out
    }

    func experimentID(_ name: String) throws -> String {
        lock.lock()
        let cached = experiments[name]
        lock.unlock()
        if let cached { return cached }
        func byName() throws -> String? {
            try Failure.unlessNotFound {
                let doc = try client.call(.get, "experiments/get-by-name", query: ["experiment_name": name])
                return ((doc["experiment"] as? [String: Any])?["experiment_id"] as? String) ?? ""
            }
        }
        var id: String
        if let existing = try byName() {
            id = existing
        } else {
            do {
                let doc = try client.call(.post, "experiments/create", body: ["name": name])
                id = doc["experiment_id"] as? String ?? ""
            } catch let e as Failure where e.code == .conflict {
                // Another writer created it between the two calls.
                id = try byName() ?? ""
            }
        }
        guard !id.isEmpty else {
            throw Failure(.failed, "MLflow answered without an id for the experiment '\(name)'")
        }
        lock.lock()
        experiments[name] = id
        lock.unlock()
        return id
    }

    // MARK: Artifacts

    /// Where an artifact lives on the server's artifact proxy: a folder per digest, so that a version's `source`
    /// is a folder MLflow downloads (as its model versions are).
    static func artifactFolder(_ digest: String) -> String { "tandem/models/sha256/\(digest)" }
    static let artifactFile = "model.tandem"
    /// Where the first MLflow-backed releases stored artifacts (a file per digest); read when the folder is absent.
    static func legacyArtifactPath(_ digest: String) -> String { "tandem/sha256/\(digest)" }

    /// The `source` of a version whose artifact has `digest`: a URI MLflow resolves through its artifact proxy.
    public static func sourceURI(digest: String) -> String { "mlflow-artifacts:/" + artifactFolder(digest) }

    public func storeArtifact(_ data: Data) throws -> String {
        let digest = ContentDigest.sha256Hex(data)
        let path = Self.artifactFolder(digest) + "/" + Self.artifactFile
        if try client.getArtifact(path) == nil { try client.putArtifact(path, data) }
        return digest
    }

    func storedArtifact(_ digest: String) throws -> Data? {
        try client.getArtifact(Self.artifactFolder(digest) + "/" + Self.artifactFile)
            ?? client.getArtifact(Self.legacyArtifactPath(digest))
    }

    public func artifact(digest: String) throws -> Data {
        try ArtifactCheck.verified(try storedArtifact(digest), digest: digest, location: "the MLflow server")
    }

    /// The experiment of the runs that hold the artifacts of versions registered without a run on this server.
    static let registrationExperiment = "tandem-registrations"

    /// A finished run that records where a version came from and will hold its artifact.
    func registrationRun(for version: ModelVersion) throws -> String {
        var tags = ["tandem.registration_of": version.name, "tandem.artifact_digest": version.artifactDigest]
        if let origin = version.copiedFrom { tags["tandem.copied_from"] = origin }
        if let run = version.runID { tags["tandem.source_run"] = run }
        let now = Self.ms(Timestamp.nowMillis())
        let doc = try client.call(
            .post, "runs/create",
            body: [
                "experiment_id": try experimentID(Self.registrationExperiment),
                "run_name": "register \(version.name)" + (version.copiedFrom.map { " from \($0)" } ?? ""), "start_time": now,
                "tags": Self.tags(tags),
            ])
        guard let id = ((doc["run"] as? [String: Any])?["info"] as? [String: Any])?["run_id"] as? String else {
            throw Failure(.failed, "MLflow runs/create answered without a run id")
        }
        _ = try client.call(.post, "runs/update", body: ["run_id": id, "status": "FINISHED", "end_time": now])
        return id
    }

    /// A run's artifact URI (`mlflow-artifacts:/EXPERIMENT/RUN/artifacts` on a server that proxies artifacts).
    func artifactURI(ofRun id: String) throws -> String {
        let doc = try client.call(.get, "runs/get", query: ["run_id": id])
        return (((doc["run"] as? [String: Any])?["info"] as? [String: Any])?["artifact_uri"] as? String) ?? ""
    }

    // MARK: Models

    func version(from doc: [String: Any]) throws -> ModelVersion {
        let tags = Self.dictionary(doc["tags"])
        let metrics =
            tags["tandem.metrics"].flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Double] } ?? [:]
        let userTags = tags.filter { !$0.key.hasPrefix("tandem.") && !$0.key.hasPrefix("mlflow.") }
        guard let name = doc["name"] as? String, let number = Int(doc["version"] as? String ?? "") else {
            throw Failure(.failed, "MLflow answered a model version without its name and number")
        }
        return ModelVersion(
            name: name, version: number,
            createdAt: Self.text((doc["creation_timestamp"] as? NSNumber)?.int64Value) ?? "", runID: doc["run_id"] as? String,
            artifactDigest: tags["tandem.artifact_digest"] ?? "", artifactSize: Int(tags["tandem.artifact_size"] ?? "") ?? 0,
            signature: tags["tandem.signature"] ?? "{}", metrics: metrics, featureTable: tags["tandem.feature_table"],
            dataDigest: tags["tandem.data_digest"], gitCommit: tags["mlflow.source.git.commit"],
            gitBranch: tags["mlflow.source.git.branch"],
            gitRemote: tags["mlflow.source.git.repoURL"], copiedFrom: tags["tandem.copied_from"], tags: userTags)
    }

    public func createVersion(_ version: ModelVersion, actor: String) throws -> ModelVersion {
        guard let bytes = try storedArtifact(version.artifactDigest) else {
            throw Failure(
                .invalidInput, "artifact \(version.artifactDigest.prefix(12))… is not on the MLflow server; store it first")
        }
        // An artifact stored before artifacts were folders moves into its folder, so the version's source resolves.
        let folder = Self.artifactFolder(version.artifactDigest) + "/" + Self.artifactFile
        if try client.getArtifact(folder) == nil { try client.putArtifact(folder, bytes) }
        do {
            _ = try client.call(.post, "registered-models/create", body: ["name": version.name])
        } catch let e as Failure where e.code == .conflict {}
        var tags = version.tags
        tags["tandem.artifact_digest"] = version.artifactDigest
        tags["tandem.artifact_size"] = String(version.artifactSize)
        tags["tandem.signature"] = version.signature
        if let m = try? JSONSerialization.data(withJSONObject: version.metrics, options: [.sortedKeys]) {
            tags["tandem.metrics"] = String(decoding: m, as: UTF8.self)
        }
        if let f = version.featureTable { tags["tandem.feature_table"] = f }
        if let d = version.dataDigest { tags["tandem.data_digest"] = d }
        if let c = version.gitCommit { tags["mlflow.source.git.commit"] = c }
        if let b = version.gitBranch { tags["mlflow.source.git.branch"] = b }
        if let r = version.gitRemote { tags["mlflow.source.git.repoURL"] = r }
        if let c = version.copiedFrom { tags["tandem.copied_from"] = c }
        var body: [String: Any] = [
            "name": version.name, "source": Self.sourceURI(digest: version.artifactDigest),
            "tags": Self.tags(tags),
        ]
        // MLflow requires a version's source to lie inside the artifacts of the run it names. The version's own run
        // holds it when it is on this server; a version without one here (a copy from another environment's
        // registry) gets a run of its own in the `tandem-registrations` experiment.
        var runURI: String?
        if let run = version.runID, let uri = try Failure.unlessNotFound({ try self.artifactURI(ofRun: run) }),
            uri.hasPrefix("mlflow-artifacts:/")
        {
            body["run_id"] = run
            runURI = uri
        } else {
            let run = try registrationRun(for: version)
            body["run_id"] = run
            runURI = try artifactURI(ofRun: run)
        }
        if let runURI, runURI.hasPrefix("mlflow-artifacts:/") {
            // Logged to the run, where MLflow's UI and `list_artifacts(run)` show it.
            let path = String(runURI.dropFirst("mlflow-artifacts:/".count)) + "/model/" + Self.artifactFile
            if try client.getArtifact(path) == nil { try client.putArtifact(path, bytes) }
            body["source"] = runURI + "/model"
        }
        let doc = try client.call(.post, "model-versions/create", body: body)
        let created = try self.version(from: doc["model_version"] as? [String: Any] ?? [:])
        try appendAudit(
            actor: actor, action: created.copiedFrom == nil ? "version.create" : "version.copy", subject: created.reference,
            detail: created.auditDetail)
        return created
    }

    public func version(_ reference: ModelReference) throws -> ModelVersion {
        let missing = Failure(.notFound, "no model version \(reference) on the MLflow server; see `tandem models list`")
        do {
            switch reference {
            case .version(let name, let v):
                let doc = try client.call(.get, "model-versions/get", query: ["name": name, "version": String(v)])
                return try version(from: doc["model_version"] as? [String: Any] ?? [:])
            case .alias(let name, let alias):
                let doc = try client.call(.get, "registered-models/alias", query: ["name": name, "alias": alias])
                return try version(from: doc["model_version"] as? [String: Any] ?? [:])
            }
        } catch let e as Failure where e.code == .notFound {
            throw missing
        } catch let e as Failure where e.serverCode == "INVALID_PARAMETER_VALUE" {
            // MLflow answers a missing alias of an existing model with INVALID_PARAMETER_VALUE (HTTP 400), not
            // RESOURCE_DOES_NOT_EXIST: the model's own alias list (parsed) says whether the alias is absent.
            guard case .alias(let name, let alias) = reference, try aliases(name: name)[alias] == nil else { throw e }
            throw missing
        }
    }

    public func versions(name: String) throws -> [ModelVersion] {
        let doc = try client.call(.get, "model-versions/search", query: ["filter": "name='\(name)'", "max_results": "10000"])
        return try ((doc["model_versions"] as? [[String: Any]]) ?? []).map(version(from:)).sorted { $0.version < $1.version }
    }

    public func models() throws -> [String] {
        let doc = try client.call(.get, "registered-models/search", query: ["max_results": "1000"])
        return ((doc["registered_models"] as? [[String: Any]]) ?? []).compactMap { $0["name"] as? String }.sorted()
    }

    public func setAlias(name: String, alias: String, version: Int, actor: String) throws {
        guard Int(alias) == nil, !alias.isEmpty, !alias.contains("@") else {
            throw Failure(.invalidInput, "'\(alias)' cannot be an alias; an alias is a name such as champion (not a number)")
        }
        guard try Failure.unlessNotFound({ try self.version(.version(name, version)) }) != nil else {
            throw Failure(.notFound, "no model version \(name)@\(version); an alias must point at an existing version")
        }
        let previous = try aliases(name: name)[alias]
        _ = try client.call(.post, "registered-models/alias", body: ["name": name, "alias": alias, "version": String(version)])
        try appendAudit(
            actor: actor, action: "alias.set", subject: "\(name)@\(alias)",
            detail: ["version": String(version), "previous": previous.map(String.init) ?? ""])
    }

    public func deleteAlias(name: String, alias: String, actor: String) throws {
        guard let previous = try Failure.unlessNotFound({ try aliases(name: name) })?[alias] else {
            throw Failure(.notFound, "no alias \(name)@\(alias)")
        }
        _ = try client.call(.delete, "registered-models/alias", body: ["name": name, "alias": alias])

        try appendAudit(actor: actor, action: "alias.delete", subject: "\(name)@\(alias)", detail: ["previous": String(previous)])
    }

    public func aliases(name: String) throws -> [String: Int] {
        let doc = try client.call(.get, "registered-models/get", query: ["name": name])
        var out: [String: Int] = [:]
        for a in ((doc["registered_model"] as? [String: Any])?["aliases"] as? [[String: Any]]) ?? [] {
            if let alias = a["alias"] as? String, let v = Int(a["version"] as? String ?? "") { out[alias] = v }
        }
        return out
    }

    // MARK: Audit

    public func auditLog() throws -> [AuditEntry] {
        let experiment = try experimentID("tandem-audit")
        var entries: [AuditEntry] = []
        var token: String?
        repeat {
            var body: [String: Any] = ["experiment_ids": [experiment], "max_results": 1000, "order_by": ["metrics.sequence ASC"]]
            if let token { body["page_token"] = token }
            let doc = try client.call(.post, "runs/search", body: body)
            for run in (doc["runs"] as? [[String: Any]]) ?? [] {
                let tags = Self.dictionary((run["data"] as? [String: Any])?["tags"])
                let detail =
                    tags["tandem.detail"].flatMap { try? JSONDecoder().decode([String: String].self, from: Data($0.utf8)) } ?? [:]
                entries.append(
                    AuditEntry(
                        sequence: Int(tags["tandem.sequence"] ?? "") ?? 0, at: tags["tandem.at"] ?? "",
                        actor: tags["tandem.actor"] ?? "",
                        action: tags["tandem.action"] ?? "", subject: tags["tandem.subject"] ?? "", detail: detail,
                        previousDigest: tags["tandem.previous_digest"] ?? "", digest: tags["tandem.digest"] ?? ""))
            }
            token = doc["next_page_token"] as? String
        } while token != nil && !(token ?? "").isEmpty
        return entries.sorted { $0.sequence < $1.sequence }
    }

    public func appendAudit(actor: String, action: String, subject: String, detail: [String: String]) throws {
        let log = try auditLog()
        let sequence = (log.last?.sequence ?? 0) + 1
        let previous = log.last?.digest ?? AuditChain.genesis
        let at = Timestamp.nowMillis()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let detailText = String(decoding: try encoder.encode(detail), as: UTF8.self)
        let digest = AuditChain.digest(
            sequence: sequence, at: at, actor: actor, action: action, subject: subject, detail: detailText,
            previous: previous)
        let doc = try client.call(
            .post, "runs/create",
            body: [
                "experiment_id": try experimentID("tandem-audit"), "run_name": "\(sequence) \(action)", "start_time": Self.ms(at),
                "tags": Self.tags([
                    "tandem.sequence": String(sequence), "tandem.at": at, "tandem.actor": actor, "tandem.action": action,
                    "tandem.subject": subject, "tandem.detail": detailText, "tandem.previous_digest": previous,
                    "tandem.digest": digest,
                ]),
            ])
        if let id = ((doc["run"] as? [String: Any])?["info"] as? [String: Any])?["run_id"] as? String {
            _ = try client.call(
                .post, "runs/log-batch",
                body: [
                    "run_id": id, "metrics": [["key": "sequence", "value": sequence, "step": 0, "timestamp": Self.ms(at)]],
                ])
            _ = try client.call(.post, "runs/update", body: ["run_id": id, "status": "FINISHED", "end_time": Self.ms(at)])
        }
    }
}
