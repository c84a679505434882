public import Foundation
import TandemCore
import TandemHTTP

/// Artifacts on the MLflow server's artifact proxy, content-addressed, and the runs that hold them.
extension MLflowModelRegistry {
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
}
