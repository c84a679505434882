import Foundation
import TandemTestSupport
import Testing

/// A scratch repository that is a git repository on `main`, with the ETL of the test environment done.
func trainedRepository() throws -> ScratchRepository {
    let repo = try ScratchRepository()
    try FileManager.default.copyItem(atPath: Binaries.repository + "/models", toPath: repo.root + "/models")
    try? FileManager.default.removeItem(atPath: repo.root + "/models/relevance-ranker.lock.json")
    try repo.write(".gitignore", ".tandem/\n")
    for args in [
        ["init", "-q", "-b", "main"], ["add", "-A"], ["-c", "user.name=dev", "-c", "user.email=dev@x", "commit", "-qm", "init"],
    ] {
        let git = try Binaries.run("/usr/bin/env", ["git"] + args, in: repo.root)
        #expect(git.status == 0, "\(git.stderr)")
    }
    let etl = try repo.run("tandem-etl", ["--env", "test"])
    #expect(etl.status == 0, "\(etl.stderr)")
    return repo
}

/// The same, off the cooperative pool, for async tests.
func trainedRepository() async throws -> ScratchRepository { try await offPool { try trainedRepository() } }

@Suite("tandem train, models, runs and evaluate, end to end")
struct TrainBinaryTests {
    @Test("train registers a version, commits the lock file on the branch, and verify agrees; a changed lock is caught")
    func trainRegisterVerify() async throws {
        let repo = try await trainedRepository()
        defer { repo.remove() }
        let train = try await repo.run(
            "tandem", ["train", "--env", "test", "--set", "training.max_epochs=2", "--json"],
            environment: ["TANDEM_ACTOR": "dana"])
        #expect(train.status == 0, "\(train.stderr)")
        let doc = try json(train.stdout)
        for key in ["run_id", "model", "version", "artifact", "digest", "metrics"] { #expect(doc[key] != nil, "missing \(key)") }
        #expect(doc["version"] as? Int == 1)
        #expect((doc["metrics"] as? [String: Double])?["ndcg@10"] != nil)
        let artifact = try #require(doc["artifact"] as? String)
        #expect(FileManager.default.fileExists(atPath: artifact))
        let log = try Binaries.run("/usr/bin/env", ["git", "log", "-1", "--format=%an %s"], in: repo.root)
        #expect(log.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "dana Register relevance-ranker@1 in test")
        let lock = try String(contentsOfFile: repo.root + "/models/relevance-ranker.lock.json", encoding: .utf8)
        #expect(lock.contains("\"artifact_digest\" : \"\(doc["digest"] as? String ?? "")\""))

        let verify = try await repo.run("tandem-models", ["verify", "--env", "test"])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")

        try repo.write(
            "models/relevance-ranker.lock.json", lock.replacingOccurrences(of: "\"version\" : 1", with: "\"version\" : 7"))
        let dirty = try await repo.run("tandem-models", ["verify", "--env", "test"])
        #expect(dirty.status == 1)
        #expect(dirty.stdout.contains("version relevance-ranker@7 does not exist in the test registry"))
        #expect(dirty.stdout.contains("uncommitted changes"))

        let show = try json(
            try await repo.run("tandem", ["models", "show", "--env", "test", "relevance-ranker@1", "--json"]).stdout)
        #expect(show["git_branch"] as? String == "main")
        #expect(show["feature_table"] as? String == "relevance_v1@1")

        let runs = try await repo.run(
            "tandem-runs", ["show", "--env", "test", String((doc["run_id"] as? String ?? "").prefix(8))])
        #expect(runs.status == 0)
        // Per-epoch validation metrics, and the best model's metrics on the test queries.
        #expect(runs.stdout.contains("metric  val_ndcg@10: 1:"))
        #expect(runs.stdout.contains("metric  test_ndcg@10:"))
        #expect(runs.stdout.contains("param   learning_rate = 0.001"))
    }

    @Test("the same data, config, seed and threads give a byte-identical artifact")
    func deterministic() async throws {
        let repo = try await trainedRepository()
        defer { repo.remove() }
        var digests: [String] = []
        for _ in 0..<2 {
            let run = try await repo.run(
                "tandem-train", ["--env", "test", "--set", "training.max_epochs=2", "--no-register", "--json"])
            #expect(run.status == 0, "\(run.stderr)")
            digests.append(try json(run.stdout)["digest"] as? String ?? "")
        }
        #expect(digests[0] == digests[1] && !digests[0].isEmpty)
    }

    @Test("a sweep runs trials in parallel as child runs and reports the best; runs compare lays them side by side")
    func sweep() async throws {
        let repo = try await trainedRepository()
        defer { repo.remove() }
        try repo.write(
            "sweep.yaml",
            """
            method: grid
            parallel: 2
            parameters:
              training.learning_rate: [0.0003, 0.001, 0.01]
              training.max_epochs: [2]
            """)
        let run = try await repo.run("tandem-train", ["--env", "test", "--sweep", "sweep.yaml", "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let doc = try json(run.stdout)
        let trials = try #require(doc["trials"] as? [[String: Any]])
        #expect(trials.count == 3)
        #expect(trials.allSatisfy { $0["status"] as? String == "FINISHED" })
        // The best trial is the one whose run recorded the highest validation NDCG@10 at the epoch it kept
        // (val_ndcg@10 at tandem.best_epoch), read back from the registry rather than from the report.
        var recorded: [Int: Double] = [:]
        for t in trials {
            let number = try #require(t["number"] as? Int)
            let show = try await repo.run("tandem-runs", ["show", "--env", "test", t["run_id"] as? String ?? "-", "--json"])
            #expect(show.status == 0, "\(show.stderr)")
            let shown = try json(show.stdout)
            let points = try #require(shown["metrics"] as? [[String: Any]])
            let kept = try #require(
                ((shown["run"] as? [String: Any])?["tags"] as? [String: String])?["tandem.best_epoch"].flatMap { Int($0) })
            let value = try #require(
                points.last { $0["key"] as? String == "val_ndcg@10" && $0["step"] as? Int == kept }?["value"] as? Double)
            recorded[number] = value
            #expect(t["metric"] as? Double == value, "trial \(number): the report and its run disagree")
        }
        #expect(Set(recorded.values).count == 3, "the trials must differ for the choice to mean anything: \(recorded)")
        let expected = try #require(recorded.max { ($0.value, -$0.key) < ($1.value, -$1.key) }?.key)
        #expect(doc["metric"] as? String == "ndcg@10")
        #expect(doc["best"] as? Int == expected, "best \(doc["best"] ?? "none"), validation NDCG@10 by trial \(recorded)")
        let sweepRun = try json(
            try await repo.run("tandem-runs", ["show", "--env", "test", doc["sweep_run"] as? String ?? "-", "--json"]).stdout)
        let tags = (sweepRun["run"] as? [String: Any])?["tags"] as? [String: String] ?? [:]
        #expect(tags["tandem.best_trial"] == String(expected))
        #expect(tags["tandem.best_run"] == trials.first { $0["number"] as? Int == expected }?["run_id"] as? String)
        let ids = trials.compactMap { $0["run_id"] as? String }
        let compare = try await repo.run("tandem", ["runs", "compare", "--env", "test"] + ids)
        #expect(compare.status == 0)
        #expect(compare.stdout.contains("≠ learning_rate"))
        let list = try await repo.run("tandem-runs", ["list", "--env", "test", "--json"])
        let all = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
        #expect(
            all.filter { $0["name"] as? String == "trial" }.allSatisfy {
                $0["parent_id"] as? String == doc["sweep_run"] as? String
            })
    }

    @Test("runs list keeps every column apart, however long its values")
    func runsListColumns() async throws {
        let repo = try await trainedRepository()
        defer { repo.remove() }
        let model = "relevance-ranker-with-a-rather-long-experiment-name"
        let train = try await repo.run(
            "tandem-train",
            ["--env", "test", "--set", "model=\(model)", "--set", "training.max_epochs=1", "--no-register", "--json"])
        #expect(train.status == 0, "\(train.stderr)")
        let runID = String((try json(train.stdout)["run_id"] as? String ?? "").prefix(12))
        let list = try await repo.run("tandem-runs", ["list", "--env", "test"])
        #expect(list.status == 0, "\(list.stderr)")
        let lines = list.stdout.split(separator: "\n").map(String.init)
        let header = try #require(lines.first)
        let row = try #require(lines.first { $0.hasPrefix(runID) }, "\(list.stdout)")
        // Columns are separated by at least two spaces, and no value is cut.
        func fields(_ line: String) -> [String] {
            line.components(separatedBy: "  ").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        #expect(fields(header) == ["RUN", "EXPERIMENT", "NAME", "STATUS", "STARTED", "NDCG@10", "FEATURES"])
        let values = fields(row)
        #expect(values.count == 7, "\(row)")
        #expect(values.count > 3 && values[1] == model && values[2] == "train" && values[3] == "FINISHED", "\(row)")
        #expect(values.last == "relevance_v1@1", "\(row)")
        // Each value starts under its heading.
        var from = row.startIndex
        for (name, value) in zip(fields(header), values) {
            let at = header.range(of: name).map { header.distance(from: header.startIndex, to: $0.lowerBound) }
            let found = row.range(of: value, range: from..<row.endIndex)
            let valueAt = found.map { row.distance(from: row.startIndex, to: $0.lowerBound) }
            #expect(at == valueAt, "\(name): \(row)")
            from = found?.upperBound ?? from
        }
    }

    @Test("--interactive draws the live view; a stage for test cannot train into prod's registry")
    func interactiveAndProtected() async throws {
        let repo = try await trainedRepository()
        defer { repo.remove() }
        let live = try await repo.run(
            "tandem-train", ["--env", "test", "--interactive", "--no-register", "--set", "training.max_epochs=1"])
        #expect(live.status == 0, "\(live.stderr)")
        #expect(live.stderr.contains("validation (epoch 1): NDCG@10"))
        #expect(live.stderr.contains("Ctrl-C stops and keeps the best model so far"))
        _ = try await repo.run("tandem-etl", ["--env", "prod"])
        let prod = try await repo.run("tandem-train", ["--env", "prod", "--set", "training.max_epochs=1"])
        #expect(prod.status == 2)
        #expect(prod.stderr.contains("the prod registry is written only by the promotion engine"))
    }

    @Test("evaluate score ranks raw requests through the feature code path and reports unknown candidates")
    func score() async throws {
        let repo = try await trainedRepository()
        defer { repo.remove() }
        #expect(try await repo.run("tandem-train", ["--env", "test", "--set", "training.max_epochs=1", "--no-lock"]).status == 0)
        let judgment = try #require(
            try String(contentsOfFile: repo.root + "/fixtures/sample/judgments.jsonl", encoding: .utf8)
                .split(separator: "\n").first)
        let first = try json(String(judgment))
        let request =
            #"{"query": "\#(first["query"] as? String ?? "")", "candidates": ["\#(first["video_url"] as? String ?? "")", "https://vid.example/ZZZZZZZZZZZ", "not a url"]}"#
        try repo.write("requests.jsonl", request + "\n")
        let run = try await repo.run(
            "tandem-evaluate", ["score", "--env", "test", "--model", "relevance-ranker@1", "--input", "requests.jsonl"])
        #expect(run.status == 0, "\(run.stderr)")
        let out = try json(run.stdout)
        #expect((out["ranked"] as? [[String: Any]])?.count == 1)
        #expect((out["unknown"] as? [[String: Any]])?.map { $0["reason"] as? String } == ["unknown_video", "bad_url"])
        // A request line over 1 MiB is refused at its line (exit 2), after the lines before it were scored.
        let many = Array(repeating: "\"https://vid.example/ZZZZZZZZZZZ\"", count: 40_000).joined(separator: ",")
        try repo.write("long.jsonl", request + "\n" + #"{"query": "x", "candidates": ["# + many + "]}\n")
        let long = try await repo.run(
            "tandem-evaluate", ["score", "--env", "test", "--model", "relevance-ranker@1", "--input", "long.jsonl"])
        #expect(long.status == 2, "\(long.stderr)")
        #expect(long.stderr.contains("long.jsonl:2: the request is "), "\(long.stderr)")
        #expect(long.stdout.split(separator: "\n").count == 1)
        let gold = try await repo.run("tandem-evaluate", ["gold", "--env", "test", "--model", "relevance-ranker@1", "--json"])
        #expect(gold.status == 0)
        let trained = try json(
            try await repo.run("tandem-models", ["show", "--env", "test", "relevance-ranker@1", "--json"]).stdout)
        let offline = (try json(gold.stdout)["metrics"] as? [String: Double])?["ndcg@10"]
        #expect(offline == (trained["metrics"] as? [String: Double])?["ndcg@10"])
    }
}

@Suite("tandem models copy, end to end")
struct ModelsCopyBinaryTests {
    @Test("a version copies between environments with its digest and lineage; never into prod by hand")
    func copy() async throws {
        let repo = try await trainedRepository()
        defer { repo.remove() }
        let train = try json(
            try await repo.run("tandem-train", ["--env", "test", "--set", "training.max_epochs=1", "--no-lock", "--json"]).stdout)
        let copied = try await repo.run(
            "tandem-models", ["copy", "--env", "dev", "--from", "test", "relevance-ranker@1", "--json"])
        #expect(copied.status == 0, "\(copied.stderr)")
        let doc = try json(copied.stdout)
        #expect(doc["copied_from"] as? String == "test:relevance-ranker@1")
        #expect(doc["artifact_digest"] as? String == train["digest"] as? String)
        #expect(doc["run_id"] as? String == train["run_id"] as? String)
        let history = try await repo.run("tandem-models", ["history", "--env", "dev"])
        #expect(history.stdout.contains("version.copy"))
        let prod = try await repo.run("tandem-models", ["copy", "--env", "prod", "--from", "test", "relevance-ranker@1"])
        #expect(prod.status == 2)
        #expect(prod.stderr.contains("written only by the promotion engine"))
    }
}
