public import Foundation
import TandemCore
import TandemHTTP

/// Tracked runs on the MLflow server: MLflow runs with params, metrics and `mlflow.source.git.*` tags.
extension MLflowModelRegistry {
    // MARK: Runs

    public func createRun(_ run: RunRecord) throws -> String {
        var tags = run.tags
        tags["mlflow.runName"] = run.name
        tags["tandem.experiment"] = run.experiment
        if let c = run.gitCommit { tags["mlflow.source.git.commit"] = c }
        if let b = run.gitBranch { tags["mlflow.source.git.branch"] = b }
        if let d = run.gitDirty { tags["tandem.git_dirty"] = String(d) }
        if let p = run.parentID { tags["mlflow.parentRunId"] = p }
        if let f = run.featureTable { tags["tandem.feature_table"] = f }
        if let d = run.dataDigest { tags["tandem.data_digest"] = d }
        let doc = try client.call(
            .post, "runs/create",
            body: [
                "experiment_id": try experimentID(run.experiment), "run_name": run.name, "start_time": Self.ms(run.startedAt),
                "tags": Self.tags(tags),
            ])
        guard let id = ((doc["run"] as? [String: Any])?["info"] as? [String: Any])?["run_id"] as? String else {
            throw Failure(.failed, "MLflow runs/create answered without a run id")
        }
        if !run.parameters.isEmpty {
            _ = try client.call(.post, "runs/log-batch", body: ["run_id": id, "params": Self.tags(run.parameters)])
        }
        return id
    }

    public func logMetrics(runID: String, _ points: [MetricPoint]) throws {
        guard !points.isEmpty else { return }
        for chunk in stride(from: 0, to: points.count, by: 500) {
            let metrics = points[chunk..<min(points.count, chunk + 500)].map {
                ["key": Self.metricKey($0.key), "value": $0.value, "step": $0.step, "timestamp": Self.ms($0.timestamp)]
                    as [String: Any]
            }
            _ = try client.call(.post, "runs/log-batch", body: ["run_id": runID, "metrics": metrics])
        }
    }

    public func updateRun(_ run: RunRecord) throws {
        var body: [String: Any] = ["run_id": run.id, "status": run.status]
        if let end = run.endedAt { body["end_time"] = Self.ms(end) }
        _ = try client.call(.post, "runs/update", body: body)
        var tags = run.tags
        if let a = run.artifactDigest { tags["tandem.artifact_digest"] = a }
        if !run.timings.isEmpty, let t = try? JSONSerialization.data(withJSONObject: run.timings, options: [.sortedKeys]) {
            tags["tandem.timings"] = String(decoding: t, as: UTF8.self)
        }
        if !tags.isEmpty { _ = try client.call(.post, "runs/log-batch", body: ["run_id": run.id, "tags": Self.tags(tags)]) }
    }

    func record(_ doc: [String: Any]) -> RunRecord {
        let info = doc["info"] as? [String: Any] ?? [:]
        let data = doc["data"] as? [String: Any] ?? [:]
        var tags = Self.dictionary(data["tags"])
        let params = Self.dictionary(data["params"])
        func take(_ key: String) -> String? { tags.removeValue(forKey: key) }
        let name = take("mlflow.runName") ?? info["run_name"] as? String ?? ""
        let timings =
            take("tandem.timings").flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Double] } ?? [:]
        let record = RunRecord(
            id: info["run_id"] as? String ?? "", experiment: take("tandem.experiment") ?? "", name: name,
            status: info["status"] as? String ?? "", parentID: take("mlflow.parentRunId"),
            startedAt: Self.text((info["start_time"] as? NSNumber)?.int64Value) ?? "",
            endedAt: Self.text((info["end_time"] as? NSNumber)?.int64Value), parameters: params, tags: [:],
            gitCommit: take("mlflow.source.git.commit"), gitBranch: take("mlflow.source.git.branch"),
            gitDirty: take("tandem.git_dirty").map { $0 == "true" }, featureTable: take("tandem.feature_table"),
            dataDigest: take("tandem.data_digest"), artifactDigest: take("tandem.artifact_digest"), timings: timings)
        var r = record
        r.tags = tags.filter { !$0.key.hasPrefix("mlflow.") }
        return r
    }

    public func run(id: String) throws -> RunRecord {
        do {
            let doc = try client.call(.get, "runs/get", query: ["run_id": id])
            return record(doc["run"] as? [String: Any] ?? [:])
        } catch let e as Failure where e.code == .notFound {
            throw Failure(.notFound, "no run '\(id)' on the MLflow server; list them with `tandem runs list`")
        }
    }

    public func runs(experiment: String?, limit: Int) throws -> [RunRecord] {
        var ids: [String] = []
        if let experiment {
            ids = [try experimentID(experiment)]
        } else {
            let doc = try client.call(.post, "experiments/search", body: ["max_results": 1000])
            // Tandem's own bookkeeping (the audit log, the runs that hold copied versions' artifacts) is not training.
            let skipped = ((doc["experiments"] as? [[String: Any]]) ?? []).filter {
                ["tandem-audit", Self.registrationExperiment].contains($0["name"] as? String ?? "")
            }.compactMap { $0["experiment_id"] as? String }
            ids = ((doc["experiments"] as? [[String: Any]]) ?? []).compactMap { $0["experiment_id"] as? String }
                .filter { !skipped.contains($0) }
        }
        guard !ids.isEmpty else { return [] }
        let doc = try client.call(
            .post, "runs/search",
            body: [
                "experiment_ids": ids, "max_results": min(limit, 1000),
                "order_by": ["attributes.start_time DESC"],
            ])
        return ((doc["runs"] as? [[String: Any]]) ?? []).map(record)
    }

    public func metricHistory(runID: String) throws -> [MetricPoint] {
        let doc = try client.call(.get, "runs/get", query: ["run_id": runID])
        let keys = (((doc["run"] as? [String: Any])?["data"] as? [String: Any])?["metrics"] as? [[String: Any]] ?? []).compactMap
        { $0["key"] as? String }
        var out: [MetricPoint] = []
        for key in Set(keys).sorted() {
            let history = try client.call(
                .get, "metrics/get-history", query: ["run_id": runID, "metric_key": key, "max_results": "25000"])
            for m in (history["metrics"] as? [[String: Any]]) ?? [] {
                out.append(
                    MetricPoint(
                        key: Self.tandemKey(key), value: (m["value"] as? NSNumber)?.doubleValue ?? 0,
                        step: (m["step"] as? NSNumber)?.intValue ?? 0,
                        timestamp: Self.text((m["timestamp"] as? NSNumber)?.int64Value) ?? ""))
            }
        }
        return out.sorted { ($0.key, $0.step) < ($1.key, $1.step) }
    }
}
