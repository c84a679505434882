import Foundation
import TandemCore
import TandemHTTP

/// Registered models, their versions (fields as version tags) and aliases on the MLflow server.
extension MLflowModelRegistry {
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
}
