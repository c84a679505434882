import ArgumentParser
import Foundation
import TandemCommands
import TandemCompute
import TandemCore
import TandemDispatch

extension BenchCommand {
    /// `tandem-bench compute`: what Tandem adds on top of Slurm per job, and a sweep as a Slurm job array against
    /// the same sweep on the local backend.
    struct Compute: StageCommand {
        static let configuration = CommandConfiguration(
            abstract: "Per-job overhead over bare sbatch+squeue, and an 8-trial sweep on slurm:// against local://.",
            discussion: """
                Brings up a single-node cluster with scripts/slurm-up in the work folder (or uses --conf), then: \
                (1) runs --jobs trivial jobs one after another through Tandem's Slurm backend, and the same jobs \
                with bare `sbatch --wrap true` followed by `squeue` every 10 ms; the overhead is the difference of \
                the mean wall times. (2) generates --queries queries, runs the ETL, and times `tandem train --sweep` \
                (--trials trials, 2 at once, 1 thread each) with the test environment on local:// and on slurm://. \
                Run it from the repository root with release binaries.
                """)

        @Option(help: "Trivial jobs per measurement.") var jobs: Int = 10
        @Option(help: "Trials of the sweep.") var trials: Int = 8
        @Option(help: "Queries of generated data for the sweep.") var queries: Int = 6000
        @Option(help: "Epochs per trial (patience as large, so every trial runs them all).") var epochs: Int = 6
        @Option(help: ArgumentHelp("An existing cluster's slurm.conf (default: start one).", valueName: "file")) var conf: String?
        @Option(help: ArgumentHelp("Work folder.", valueName: "dir")) var work: String = ".build/bench-compute"
        @Flag(help: "Print JSON.") var json = false

        struct Result: Encodable {
            var jobs: Int
            var tandemMeanSeconds: Double
            var bareMeanSeconds: Double
            var overheadSeconds: Double
            var trials: Int
            var sweepLocalSeconds: Double?
            var sweepSlurmSeconds: Double?
            var sweepRatio: Double?
        }

        func run() throws {
            let repository = FileManager.default.currentDirectoryPath
            let workFolder = URL(fileURLWithPath: work, relativeTo: URL(fileURLWithPath: repository)).standardizedFileURL.path
            try FileManager.default.createDirectory(atPath: workFolder, withIntermediateDirectories: true)
            var cluster: String?
            let slurmConf: String
            if let conf {
                slurmConf = conf
            } else {
                let folder = workFolder + "/slurm-\(getpid())"
                let up = try ChildProcess.spawn(
                    executable: repository + "/scripts/slurm-up", arguments: [folder],
                    stdout: .file(folder + ".log", append: false),
                    stderr: .standardOutput
                ).wait()
                guard up.succeeded else {
                    throw Failure(.failed, "scripts/slurm-up failed; see \(folder).log")
                }
                cluster = folder
                slurmConf = folder + "/etc/slurm.conf"
            }
            defer {
                if let cluster {
                    _ = try? ChildProcess.spawn(
                        executable: repository + "/scripts/slurm-down", arguments: [cluster], stdout: .null, stderr: .null
                    ).wait()
                }
            }
            let env = ProcessInfo.processInfo.environment.merging(["SLURM_CONF": slurmConf]) { $1 }
            let scratch = workFolder + "/jobs-\(getpid())"
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: scratch) }

            // Warm the scheduler (the first job after start-up waits longer).
            _ = try ChildProcess.run(
                "sbatch", ["--wait", "--chdir", scratch, "--output", "/dev/null", "--wrap", "true"], environment: env)

            let backend = SlurmBackend(options: ["conf": slurmConf])
            var tandem: [Double] = []
            var bare: [Double] = []
            for i in 0..<jobs {
                let t0 = ContinuousClock.now
                let r = try backend.run(
                    ComputeJob(
                        name: "bench-\(i)", executable: "/bin/true", arguments: [], workingDirectory: scratch,
                        logDirectory: scratch))
                guard r.first?.outcome == .completed else { throw Failure(.invalidInput, "a trivial job did not complete: \(r)") }
                tandem.append((ContinuousClock.now - t0).seconds)

                let t1 = ContinuousClock.now
                let submitted = try ChildProcess.run(
                    "sbatch", ["--parsable", "--chdir", scratch, "--output", "/dev/null", "--wrap", "true"], environment: env)
                let id = submitted.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
                while !(try ChildProcess.run("squeue", ["-h", "-j", id, "-o", "%T"], environment: env)).stdout.isEmpty {
                    Thread.sleep(forTimeInterval: 0.01)
                }
                bare.append((ContinuousClock.now - t1).seconds)
            }
            let mean = { (xs: [Double]) in xs.reduce(0, +) / Double(max(1, xs.count)) }
            var result = Result(
                jobs: jobs, tandemMeanSeconds: mean(tandem), bareMeanSeconds: mean(bare),
                overheadSeconds: mean(tandem) - mean(bare),
                trials: trials)
            if !json {
                print(
                    String(
                        format: "per job: Tandem %.3f s, bare sbatch+squeue %.3f s → overhead %.3f s (%d jobs each)",
                        result.tandemMeanSeconds, result.bareMeanSeconds, result.overheadSeconds, jobs))
            }

            if trials > 0 {
                let (local, slurm) = try sweep(repository: repository, work: workFolder, slurmConf: slurmConf)
                result.sweepLocalSeconds = local
                result.sweepSlurmSeconds = slurm
                result.sweepRatio = slurm / local
                if !json {
                    print(
                        String(
                            format: "sweep of %d trials (2 at once): local:// %.1f s, slurm:// %.1f s → %.3f×", trials, local,
                            slurm,
                            slurm / local))
                }
            }
            if json { try Terminal.printJSON(result) }
        }

        /// A scratch project with generated data; the same sweep timed on local:// and slurm://.
        func sweep(repository: String, work: String, slurmConf: String) throws -> (Double, Double) {
            let bin = UmbrellaCommand.ownFolder()
            let project = work + "/project-\(getpid())"
            defer { try? FileManager.default.removeItem(atPath: project) }
            let fm = FileManager.default
            try fm.createDirectory(atPath: project, withIntermediateDirectories: true)
            for folder in ["environments", "models"] {
                try fm.copyItem(atPath: repository + "/" + folder, toPath: project + "/" + folder)
            }
            try? fm.removeItem(atPath: project + "/environments/examples")
            func run(_ stage: String, _ args: [String]) throws {
                let r = try ChildProcess.run(
                    bin + "/tandem-" + stage, args + (stage == "fixtures" ? [] : ["--project", project]))
                guard r.termination.succeeded else { throw Failure(.invalidInput, "tandem \(stage) failed: \(r.stderr)") }
            }
            let data = work + "/sweep-data-\(queries)"
            if !fm.fileExists(atPath: data + "/judgments.jsonl") {
                try run("fixtures", ["generate", "--queries", String(queries), "--seed", "5", "--out", data])
            }
            try run("etl", ["--env", "test", "--input", data])
            let rates = ["0.0005", "0.001", "0.002", "0.004", "0.008", "0.016", "0.032", "0.064"]
            let values = (0..<trials).map { rates[$0 % rates.count] + String(repeating: "0", count: $0 / rates.count) }
            try """
            method: grid
            parallel: 2
            metric: ndcg@10
            parameters:
              training.learning_rate: [\(values.joined(separator: ", "))]
              training.max_epochs: [\(epochs)]
              training.patience: [\(epochs)]
            """.write(toFile: project + "/sweep.yaml", atomically: true, encoding: .utf8)
            let profile = project + "/environments/test.yaml"
            let original = try String(contentsOfFile: profile, encoding: .utf8)
            var times: [Double] = []
            for compute in ["local://?max_jobs=2", "slurm://bench?conf=\(slurmConf)&max_jobs=2"] {
                try original.replacingOccurrences(of: "local://?max_jobs=2", with: compute)
                    .write(toFile: profile, atomically: true, encoding: .utf8)
                let t = ContinuousClock.now
                try run("train", ["--env", "test", "--sweep", "sweep.yaml", "--json"])
                times.append((ContinuousClock.now - t).seconds)
                if !json { Terminal.note("  sweep on \(compute): " + String(format: "%.1f s", times.last ?? 0)) }
            }
            return (times[0], times[1])
        }
    }
}
