import Foundation
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
}
