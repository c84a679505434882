import Foundation
import TandemTestSupport
import Testing

/// Issue 13: the numeric environment is recorded and named when digests differ; the split keeps the test
/// queries out of training; per-query metrics are exported.
@Suite("numeric environment and honest evaluation, end to end")
struct HonestEvaluationBinaryTests {
    /// The OpenBLAS core types this CPU can execute, as .ci/run detects them.
    static func coreTypes() throws -> [String] {
        let run = try Binaries.run(
            "/usr/bin/env", ["bash", Binaries.repository + "/scripts/openblas-coretypes"], in: Binaries.repository)
        return run.stdout.split(separator: "\n").map(String.init).filter { $0 != "default" }
    }

    @Test("a training records its BLAS kernel; the same inputs on another kernel name it when the bytes differ")
    func kernelRecordedAndNamed() async throws {
        let cores = try Self.coreTypes()
        try #require(cores.count >= 2, "this CPU runs fewer than two OpenBLAS core types")
        let repo = try await trainedRepository()
        defer { repo.remove() }
        var runs: [[String: Any]] = []
        for core in [cores[0], cores[0], cores[cores.count - 1]] {
            let run = try await repo.run(
                "tandem-train", ["--env", "test", "--set", "training.max_epochs=2", "--no-lock", "--json"],
                environment: ["OPENBLAS_CORETYPE": core])
            #expect(run.status == 0, "\(run.stderr)")
            runs.append(try json(run.stdout))
        }
        let numeric = try #require(runs[0]["numeric_environment"] as? [String: Any])
        #expect((numeric["blas"] as? String)?.hasPrefix("OpenBLAS ") == true)
        #expect((numeric["blas_core"] as? String)?.lowercased() == cores[0].lowercased())
        #expect(numeric["threads"] as? Int == 1)
        // Same kernel: the same bytes, and nothing to explain.
        #expect(runs[0]["digest"] as? String == runs[1]["digest"] as? String)
        #expect(runs[1]["reproducibility_note"] == nil)
        // Another kernel: either the same bytes, or a note that names both kernels.
        if runs[2]["digest"] as? String != runs[0]["digest"] as? String {
            let note = try #require(runs[2]["reproducibility_note"] as? String)
            #expect(note.contains("relevance-ranker@2"), "\(note)")
            #expect(
                note.lowercased().contains(cores[0].lowercased())
                    && note.lowercased().contains(cores[cores.count - 1].lowercased()))
        } else {
            #expect(runs[2]["reproducibility_note"] == nil)
        }
        // The artifact's manifest carries it too.
        let artifact = try #require(runs[0]["artifact"] as? String)
        let bytes = try #require(FileManager.default.contents(atPath: artifact))
        // The manifest: bytes 16 ..< 16 + N, N little-endian at 8 ..< 16 (docs/model-artifact.md).
        let length = bytes[8..<16].reversed().reduce(0) { $0 << 8 | Int($1) }
        let manifest = try JSONSerialization.jsonObject(with: bytes[16..<(16 + length)]) as? [String: Any]
        #expect(manifest?["numeric_environment"] is [String: Any])
        #expect((manifest?["feature_contract"] as? [String: Any])?["views"] is [[String: Any]])
    }

    @Test("evaluate gold: test queries by default, per-query metrics with their part, the split's parts disjoint")
    func perQuery() async throws {
        let repo = try await trainedRepository()
        defer { repo.remove() }
        let train = try json(
            try await repo.run("tandem-train", ["--env", "test", "--set", "training.max_epochs=1", "--no-lock", "--json"]).stdout)
        var queries: [String: Set<String>] = [:]
        for part in ["test", "validation", "train"] {
            let run = try await repo.run(
                "tandem-evaluate",
                ["gold", "--env", "test", "--model", "relevance-ranker@1", "--split", part, "--per-query", "--json"])
            #expect(run.status == 0, "\(run.stderr)")
            let doc = try json(run.stdout)
            let rows = try #require(doc["per_query"] as? [[String: Any]])
            #expect(rows.allSatisfy { $0["part"] as? String == part })
            queries[part] = Set(rows.compactMap { $0["query"] as? String })
            // The mean of the exported per-query values is the reported metric.
            let values = rows.compactMap { ($0["metrics"] as? [String: Any])?["ndcg@10"] as? Double }
            #expect(values.count == doc["evaluated_queries"] as? Int)
            let mean = values.reduce(0, +) / Double(max(1, values.count))
            #expect(abs(mean - ((doc["metrics"] as? [String: Double])?["ndcg@10"] ?? -1)) < 1e-12)
            if part == "test" {
                // The version's reported quality is its test quality.
                #expect((train["metrics"] as? [String: Double])?["ndcg@10"] == (doc["metrics"] as? [String: Double])?["ndcg@10"])
                #expect(train["test_queries"] as? Int == doc["evaluated_queries"] as? Int)
            }
        }
        let test = queries["test"] ?? [], validation = queries["validation"] ?? [], training = queries["train"] ?? []
        #expect(!test.isEmpty && !validation.isEmpty && !training.isEmpty)
        #expect(test.isDisjoint(with: validation) && test.isDisjoint(with: training) && validation.isDisjoint(with: training))
        // Queries with no relevant item have null values, never a number.
        let all = try json(
            try await repo.run(
                "tandem-evaluate", ["gold", "--env", "test", "--model", "relevance-ranker@1", "--all", "--per-query", "--json"]
            ).stdout)
        #expect((all["queries"] as? Int) == test.count + validation.count + training.count)
    }
}
