import Foundation
import TandemCore
import TandemTestSupport
import Testing

enum Compute: String, CaseIterable, Sendable {
    case local, slurm

    static let all: [Compute] = SlurmCluster.enabled ? [.local, .slurm] : [.local]

    /// Points the scratch repository's test environment at this backend.
    func use(in root: String) throws {
        let path = root + "/environments/test.yaml"
        let profile = try String(contentsOfFile: path, encoding: .utf8)
        guard
            let line = profile.split(separator: "\n").first(where: {
                $0.trimmingCharacters(in: .whitespaces).hasPrefix("compute:")
            })
        else { throw CocoaError(.fileReadCorruptFile) }
        var text: String
        if self == .local {
            text = profile.replacingOccurrences(of: String(line), with: "  compute: local://?max_jobs=2")
        } else {
            // The cluster's configuration in the profile's slurm section, as a team would write it.
            text = profile.replacingOccurrences(of: String(line), with: "  compute: slurm://tandem")
            text += "\nslurm:\n  conf: \(try SlurmCluster.shared.get().conf)\n  sbatch: [--comment=tandem-e2e]\n"
        }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }
}

/// Stage jobs, sweeps and the promotion's integration tests through the compute backends, with the built binaries.
@Suite("Compute backends, end to end")
struct ComputeBinaryTests {
    /// A built binary, run off the cooperative pool.
    func runStage(_ repo: ScratchRepository, _ executable: String, _ arguments: [String], removing: [String] = []) async throws
        -> Run
    {
        try await offPool { try repo.run(executable, arguments, removing: removing) }
    }

    @Test("tandem submit runs a stage as a job, streams its log and exits with the stage's code", arguments: Compute.all)
    func submit(_ compute: Compute) async throws {
        let repo = try ScratchRepository()
        defer { repo.remove() }
        try compute.use(in: repo.root)
        let etl = try await runStage(repo, "tandem", ["submit", "--env", "test", "--", "etl"])
        #expect(etl.status == 0, "\(etl.stderr)")
        #expect(etl.stdout.contains("relevance_v1@1"), "\(etl.stdout)")
        #expect(etl.stderr.contains("on \(compute.rawValue)://"))
        // Its log stays readable by id, until cleaned.
        let jobID = String(
            etl.stderr.split(separator: "\n").first { $0.hasPrefix("job ") }?.dropFirst(4).prefix { $0 != ":" } ?? "")
        let logs = try await runStage(repo, "tandem", ["jobs", "logs", "--env", "test", jobID])
        #expect(logs.status == 0 && logs.stdout.contains("relevance_v1@1"), "\(jobID): \(logs.stdout)\(logs.stderr)")
        // The stage's own exit code comes back (3: a secret variable is unset), with the log's path.
        let check = try await runStage(
            repo, "tandem", ["submit", "--env", "test", "--", "env", "check"], removing: ["GITHUB_TOKEN"])
        #expect(check.status == 3, "\(check.stdout)\(check.stderr)")
        #expect(check.stdout.contains("GITHUB_TOKEN is not set"))
        // env check asks the backend: a Slurm controller answers `scontrol ping`.
        #expect(check.stdout.contains("ok   roots.compute: "), "\(check.stdout)")
        if compute == .slurm { #expect(check.stdout.contains("is UP"), "\(check.stdout)") }
        #expect(check.stderr.contains(repo.root + "/.tandem/jobs/test/logs/env-"))
        let unknown = try await runStage(repo, "tandem", ["submit", "--env", "test", "--", "nosuchstage"])
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("unknown stage 'nosuchstage'"))
        // Nothing of this checkout is in flight any more (other suites' jobs may share the cluster's queue).
        let list = try await runStage(repo, "tandem", ["jobs", "list", "--env", "test", "--json"])
        let entries = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
        #expect(entries.filter { $0["journalled"] as? Bool == true }.isEmpty, "\(list.stdout)")

        let clean = try await runStage(repo, "tandem", ["jobs", "clean", "--env", "test", "--older-than", "0"])
        #expect(clean.status == 0 && clean.stdout.hasPrefix("removed "), "\(clean.stdout)")
        #expect(try await runStage(repo, "tandem", ["jobs", "logs", "--env", "test", jobID]).status == 2)

        if compute == .slurm {
            // A tandem job submitted elsewhere (not in this checkout's journal) is listed, and cancelled by its id.
            let conf = try SlurmCluster.shared.get().conf
            let environment = ["SLURM_CONF": conf, "PATH": "/usr/bin:/bin"]
            let foreign = try ChildProcess.run(
                "sbatch", ["--parsable", "-J", "tandem-foreign", "--chdir", "/tmp", "-o", "/dev/null", "--wrap", "sleep 600"],
                environment: environment
            ).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let shown = try await runStage(repo, "tandem", ["jobs", "list", "--env", "test"])
            #expect(
                shown.stdout.contains("\(foreign)  slurm  foreign") && shown.stdout.contains("submitted elsewhere"),
                "\(shown.stdout)")
            let cancel = try await runStage(repo, "tandem", ["jobs", "cancel", "--env", "test", foreign])
            #expect(cancel.status == 0, "\(cancel.stderr)")
            var gone = false
            for _ in 0..<100 where !gone {
                gone = try ChildProcess.run("squeue", ["-h", "-j", foreign, "-o", "%T"], environment: environment).stdout
                    .trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
                if !gone { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(gone)
        }
    }

    /// A trained scratch repository whose test environment runs its jobs on `compute`, with `sweep.yaml`.
    func sweepRepository(_ compute: Compute, _ sweep: String) async throws -> ScratchRepository {
        let repo = try await trainedRepository()
        try compute.use(in: repo.root)
        try repo.write("sweep.yaml", sweep)
        return repo
    }

    @Test("a sweep runs as one array job on the backend, each trial a child run, the best chosen", arguments: Compute.all)
    func sweep(_ compute: Compute) async throws {
        let repo = try await sweepRepository(
            compute,
            """
            method: grid
            parallel: 2
            parameters:
              training.learning_rate: [0.001, 0.01, 0.03]
              training.max_epochs: [1]
            """)
        defer { repo.remove() }
        let run = try await runStage(repo, "tandem-train", ["--env", "test", "--sweep", "sweep.yaml"])
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("(3 array tasks)") && run.stdout.contains("on \(compute.rawValue)://"), "\(run.stdout)")
        #expect(run.stdout.contains("best: trial"))
        let sweepJob = String(
            run.stdout.split(separator: "\n").first { $0.contains("  job ") }?.split(separator: " ").dropFirst().first ?? "")
        let taskLogs = try await runStage(repo, "tandem", ["jobs", "logs", "--env", "test", sweepJob])
        #expect(taskLogs.stdout.components(separatedBy: "==> ").count == 4, "\(sweepJob): \(taskLogs.stdout)")
        #expect(taskLogs.stdout.contains("trial 3: run "))
        let logs = try FileManager.default.contentsOfDirectory(atPath: repo.root + "/.tandem/jobs/test/logs")
        #expect(logs.filter { $0.hasPrefix("sweep-") && $0.hasSuffix(".out") }.count == 3, "\(logs)")
        let list = try await runStage(repo, "tandem-runs", ["list", "--env", "test", "--json"])
        let runs = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
        #expect(runs.filter { $0["name"] as? String == "trial" }.count == 3)
    }

    @Test("a trial that fails is reported with its exit and log; the others still count", arguments: Compute.all)
    func failingTrial(_ compute: Compute) async throws {
        // Trial 2 asks for a feature table that does not exist: it fails inside its job.
        let repo = try await sweepRepository(
            compute,
            """
            method: grid
            parallel: 2
            parameters:
              features.table: [1, 99]
              training.max_epochs: [1]
            """)
        defer { repo.remove() }
        let run = try await runStage(repo, "tandem-train", ["--env", "test", "--sweep", "sweep.yaml", "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let trials = try #require(try json(run.stdout)["trials"] as? [[String: Any]])
        #expect(trials.map { $0["status"] as? String } == ["FINISHED", "FAILED"])
        let error = trials.last?["error"] as? String ?? ""
        #expect(error.contains("failed with exit 2") && error.contains("relevance_v1@99"), "\(error)")
        #expect(error.contains(repo.root + "/.tandem/jobs/test/logs/sweep-"))
    }

    @Test("the promotion's integration tests run as a job on the source environment's backend", arguments: Compute.all)
    func integrationTests(_ compute: Compute) async throws {
        let r = try await offPool { try PromotionRepository.make() }
        defer { r.remove() }
        try compute.use(in: r.root)
        let (started, _) = try await offPool { try r.start() }
        #expect(started.status == 4, "\(started.stdout)\(started.stderr)")
        #expect(started.stderr.contains("integration tests: job ") && started.stderr.contains("on \(compute.rawValue)://"))
        let doc = try json(started.stdout)
        #expect((doc["tests"] as? [[String: Any]])?.map { $0["passed"] as? Bool } == [true, true, true])
        #expect(
            (doc["tests"] as? [[String: Any]])?.map { $0["name"] as? String }
                == ["training pipeline", "inference pipeline", "feature parity"])
    }

    /// Starts `tandem submit` of a long third-party stage, waits until its job runs, and returns the process.
    func startLongJob(_ repo: ScratchRepository, compute: Compute, seconds: Int) async throws -> (ChildProcess, String) {
        let bin = repo.root + "/bin"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        let stage = bin + "/tandem-sleepy"
        try "#!/bin/sh\necho sleepy started\nexec sleep \(seconds)\n".write(toFile: stage, atomically: true, encoding: .utf8)
        chmod(stage, 0o755)
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] = bin + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
        environment["TANDEM_ENV"] = nil
        let out = repo.root + "/submit.out"
        let child = try ChildProcess.spawn(
            executable: Binaries.folder + "/tandem", arguments: ["submit", "--env", "test", "--", "sleepy"],
            environment: environment, directory: repo.root, stdout: .file(out, append: false), stderr: .standardOutput)
        for _ in 0..<300 {
            if ((try? String(contentsOfFile: out, encoding: .utf8)) ?? "").contains("sleepy started") { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        return (child, out)
    }

    func running(_ compute: Compute, _ seconds: Int) throws -> Bool {
        switch compute {
        case .local:
            let ps = try ChildProcess.run("/bin/ps", ["-eo", "args"])
            return ps.stdout.split(separator: "\n").contains { $0 == "sleep \(seconds)" }
        case .slurm:
            let conf = try SlurmCluster.shared.get().conf
            let q = try ChildProcess.run(
                // Queued or running; a cancelled job Slurm is still cleaning up (COMPLETING) has stopped.
                "squeue", ["-h", "-n", "tandem-sleepy", "-t", "PENDING,RUNNING,CONFIGURING,SUSPENDED", "-o", "%i"],
                environment: ["SLURM_CONF": conf, "PATH": "/usr/bin:/bin"])
            return !q.stdout.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
        }
    }

    /// Whether the job stops within 5 s: a cancelled job leaves Slurm's queue (or the process table) a moment after
    /// the cancel returns.
    func stopsRunning(_ compute: Compute, _ seconds: Int) async throws -> Bool {
        for _ in 0..<50 {
            if !(try running(compute, seconds)) { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    @Test("Ctrl-C cancels the job; a killed Tandem's job is found and stopped by recover", .serialized, arguments: Compute.all)
    func interrupts(_ compute: Compute) async throws {
        let repo = try ScratchRepository()
        defer { repo.remove() }
        try compute.use(in: repo.root)
        let seconds = Int.random(in: 3000..<9000)  // tells this test's job apart from any other sleep
        // Ctrl-C: the job is cancelled on the way out, exit 3.
        let (first, out) = try await startLongJob(repo, compute: compute, seconds: seconds)
        #expect(try running(compute, seconds))
        first.signalGroup(SIGINT)
        let ended = first.wait()
        #expect(ended == .exited(3), "\((try? String(contentsOfFile: out, encoding: .utf8)) ?? "")")
        #expect(try await stopsRunning(compute, seconds))

        // Killed outright: the job outlives it until `tandem jobs recover`.
        let (second, _) = try await startLongJob(repo, compute: compute, seconds: seconds)
        kill(second.pid, SIGKILL)
        second.wait()
        #expect(try running(compute, seconds))
        let list = try await runStage(repo, "tandem", ["jobs", "list", "--env", "test"])
        #expect(list.stdout.contains("sleepy") && list.stdout.contains("gone"), "\(list.stdout)")
        let recover = try await runStage(repo, "tandem", ["jobs", "recover", "--env", "test"])
        #expect(recover.status == 0)
        #expect(recover.stdout.contains("sleepy: cancelled"), "\(recover.stdout)")
        #expect(try await stopsRunning(compute, seconds))
        #expect(try await runStage(repo, "tandem", ["jobs", "recover", "--env", "test"]).stdout.contains("no orphaned jobs"))
    }

    @Test("the example profile with a slurm:// compute root loads as an environment")
    func exampleProfile() async throws {
        let repo = try ScratchRepository()
        defer { repo.remove() }
        try FileManager.default.copyItem(
            atPath: Binaries.repository + "/environments/examples/cluster.yaml", toPath: repo.root + "/environments/cluster.yaml")
        let show = try await runStage(repo, "tandem", ["env", "show", "cluster", "--json"])
        #expect(show.status == 0, "\(show.stderr)")
        let doc = try json(show.stdout)
        let compute = ((doc["roots"] as? [String: Any])?["compute"] as? [String: Any])?["url"] as? String ?? "\(doc)"
        #expect(compute.hasPrefix("slurm://hpc?") && compute.contains("partition=debug"), "\(compute)")
    }

    @Test("a compute root whose controller is down: exit 3 naming it")
    func controllerDown() async throws {
        let repo = try ScratchRepository()
        defer { repo.remove() }
        try repo.write("slurm.conf", "ClusterName=x\nSlurmctldHost=localhost\nSlurmctldPort=1\nAuthType=auth/none\n")
        let path = repo.root + "/environments/test.yaml"
        let profile = try String(contentsOfFile: path, encoding: .utf8)
        try profile.replacingOccurrences(of: "local://?max_jobs=2", with: "slurm://ci?conf=slurm.conf")
            .write(toFile: path, atomically: true, encoding: .utf8)
        guard SlurmCluster.installed else { return }
        let run = try await runStage(repo, "tandem", ["submit", "--env", "test", "--", "env", "show"])
        #expect(run.status == 3, "\(run.stderr)")
        #expect(run.stderr.contains("slurmctld") && run.stderr.contains(repo.root + "/slurm.conf"), "\(run.stderr)")
        let check = try await runStage(repo, "tandem", ["env", "check", "--env", "test"])
        #expect(check.status == 3)
        #expect(check.stdout.contains("FAIL roots.compute: ") && check.stdout.contains("slurmctld"), "\(check.stdout)")
    }
}
