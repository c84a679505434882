import ArgumentParser
import Foundation
import TandemCommands
import TandemCore
import TandemDispatch
import TandemRegistry
import TandemStorage

extension BenchCommand {
    /// `tandem-bench registry`: the embedded registry through its library API, and `tandem models show` as a
    /// fresh process.
    struct Registry: StageCommand {
        static let configuration = CommandConfiguration(
            abstract: "Version creations/s, alias moves/s and lookups by alias/s with p50/p99, and a fresh `tandem models show`.")

        @Option(help: "Operations per measurement.") var count: Int = 3000
        @Option(help: ArgumentHelp("Work folder.", valueName: "dir")) var work: String = ".build/bench-registry"
        @Flag(help: "Print JSON.") var json = false

        struct Figure: Encodable {
            var operation: String
            var perSecond: Double
            var p50Micros: Double
            var p99Micros: Double
        }

        func run() throws {
            let root = (work as NSString).appendingPathComponent("registry-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(atPath: root) }
            try RootGuard.claim(path: root, environment: "bench", role: .registry, writer: .stage("bench"))
            let registry = try SQLiteModelRegistry(root: root)
            let digest = try registry.storeArtifact(Data("bench model".utf8))
            let template = ModelVersion(
                name: "ranker", runID: "run", artifactDigest: digest, artifactSize: 11, signature: "{}",
                metrics: ["ndcg@10": 0.9],
                featureTable: "relevance_v1@1", dataDigest: "d", gitCommit: "c", gitBranch: "b", gitRemote: nil)
            var figures: [Figure] = []
            figures.append(try measure("create model version") { _ in _ = try registry.createVersion(template, actor: "bench") })
            figures.append(
                try measure("set alias (move)") { i in
                    try registry.setAlias(name: "ranker", alias: "champion", version: 1 + i % count, actor: "bench")
                })
            figures.append(
                try measure("get version by alias", times: count * 10) { _ in
                    _ = try registry.version(.alias("ranker", "champion"))
                })
            figures.append(try freshProcess(root: root))
            if json { try Terminal.printJSON(figures); return }
            for f in figures {
                print(
                    f.operation.padding(toLength: 36, withPad: " ", startingAt: 0)
                        + String(format: "%9.0f/s   p50 %7.1f µs   p99 %7.1f µs", f.perSecond, f.p50Micros, f.p99Micros))
            }
        }

        func measure(_ name: String, times: Int? = nil, _ body: (Int) throws -> Void) rethrows -> Figure {
            let n = times ?? count
            var latencies: [Double] = []
            latencies.reserveCapacity(n)
            let start = ContinuousClock.now
            for i in 0..<n {
                let t = ContinuousClock.now
                try body(i)
                latencies.append(Self.micros(ContinuousClock.now - t))
            }
            let total = Self.micros(ContinuousClock.now - start) / 1e6
            latencies.sort()
            return Figure(
                operation: name, perSecond: Double(n) / total, p50Micros: latencies[n / 2], p99Micros: latencies[n * 99 / 100])
        }

        /// `tandem-models show --env bench ranker@champion` as a fresh process, in a scratch repository.
        func freshProcess(root: String) throws -> Figure {
            let repo = (work as NSString).appendingPathComponent("repo-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(atPath: repo) }
            try FileManager.default.createDirectory(atPath: repo + "/environments", withIntermediateDirectories: true)
            let abs = URL(fileURLWithPath: root).standardizedFileURL.path
            try """
            roots:
              features: file://.tandem/bench/features
              registry: file://\(abs)
              compute: local://
            git: {production_branch: main}
            approvals: {required: 0, approvers: []}
            policy: {primary_metric: ndcg@10, min_improvement: 0, confidence: 0.95}
            """.write(toFile: repo + "/environments/bench.yaml", atomically: true, encoding: .utf8)
            try? FileManager.default.removeItem(atPath: abs + "/.tandem-root.json")
            try RootGuard.claim(path: abs, environment: "bench", role: .registry, writer: .stage("bench"))
            let executable = (UmbrellaCommand.ownFolder() as NSString).appendingPathComponent("tandem-models")
            var latencies: [Double] = []
            for _ in 0..<30 {
                let p = Process()
                p.executableURL = URL(fileURLWithPath: executable)
                p.arguments = ["show", "--env", "bench", "--project", repo, "ranker@champion", "--json"]
                p.standardOutput = FileHandle.nullDevice
                let t = ContinuousClock.now
                try p.run()
                p.waitUntilExit()
                latencies.append(Self.micros(ContinuousClock.now - t))
                guard p.terminationStatus == 0 else {
                    throw Failure(.invalidInput, "tandem-models show failed (\(p.terminationStatus))")
                }
            }
            latencies.sort()
            return Figure(
                operation: "tandem models show NAME@champion (process)", perSecond: 1e6 / latencies[latencies.count / 2],
                p50Micros: latencies[latencies.count / 2], p99Micros: latencies[latencies.count - 1])
        }

        static func micros(_ d: Duration) -> Double {
            d.seconds * 1e6
        }
    }
}
