import Foundation
import TandemCore
import TandemTestSupport
import TandemTesting
import Testing

@testable import TandemCompute

enum Kind: String, CaseIterable, Sendable {
    case local, slurm, memory

    /// Whether its tasks are processes (with children to stop and log files on disk).
    var runsProcesses: Bool { self != .memory }
}

let kinds: [Kind] = SlurmCluster.enabled ? [.local, .slurm, .memory] : [.local, .memory]

/// What a conformance job does, written once and rendered for each backend: a `/bin/sh` script for the backends
/// that run processes, the `script` program of the in-memory backend for the other.
enum Step: Codable, Sendable {
    /// A line on stdout: `text` followed by the variable's value, when one is named.
    case print(String, variable: String? = nil)
    case printError(String)
    case printWorkingDirectory
    /// `task=N`, N the array index.
    case printTask
    /// `seen N bytes: HEX` of a variable, showing it arrived without printing it.
    case printHidden(variable: String)
    /// Sleeps; with a marker, first writes that file in the working directory (with the sleeping child's pid).
    case sleep(seconds: Int, marker: String? = nil)
    case exit(Int32)
    case exitIfTask(Int, code: Int32)

    var shell: String {
        switch self {
        case .print(let text, let variable): "echo \(shellQuote(text))" + (variable.map { "\"$\($0)\"" } ?? "")
        case .printError(let text): "echo \(shellQuote(text)) >&2"
        case .printWorkingDirectory: "pwd"
        case .printTask: "echo task=$TANDEM_ARRAY_INDEX"
        case .printHidden(let v):
            #"echo "seen ${#\#(v)} bytes: $(printf %s "$\#(v)" | od -An -tx1 | tr -d ' \n')""#
        case .sleep(let seconds, nil): "sleep \(seconds)"
        case .sleep(let seconds, let marker?): "sleep \(seconds) & echo $! > \(marker).tmp; mv \(marker).tmp \(marker); wait"
        case .exit(let code): "exit \(code)"
        case .exitIfTask(let index, let code): "[ $TANDEM_ARRAY_INDEX != \(index) ] || exit \(code)"
        }
    }

    /// The in-memory backend's interpreter of steps (its `script` program).
    static let program: InMemoryComputeBackend.Program = { task in
        guard let steps = try? JSONDecoder().decode([Step].self, from: Data((task.job.arguments.first ?? "").utf8)) else {
            task.print("not a script")
            return 2
        }
        let index = task.index.map(String.init) ?? ""
        for step in steps {
            switch step {
            case .print(let text, let variable): task.print(text + (variable.flatMap { task.environment[$0] } ?? ""))
            case .printError(let text): task.print(text)
            case .printWorkingDirectory: task.print(task.job.workingDirectory)
            case .printTask: task.print("task=\(index)")
            case .printHidden(let v):
                let value = task.environment[v] ?? ""
                task.print("seen \(value.utf8.count) bytes: " + value.utf8.map { String(format: "%02x", $0) }.joined())
            case .sleep(let seconds, let marker):
                if let marker {
                    FileManager.default.createFile(
                        atPath: (task.job.workingDirectory as NSString).appendingPathComponent(marker), contents: Data())
                }
                if !task.sleep(Double(seconds)) { return 143 }
            case .exit(let code): return code
            case .exitIfTask(let i, let code): if task.index == i { return code }
            }
        }
        return 0
    }
}

func shellQuote(_ word: String) -> String { "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'" }

/// The conformance suite every compute backend passes: `local://`, `slurm://` against a real cluster, and the
/// in-memory backend of `TandemTesting`.
@Suite("Compute backend conformance")
struct BackendConformanceTests {
    let folder = NSTemporaryDirectory() + "tandem-jobs-\(UUID().uuidString.prefix(8))"

    func backend(_ kind: Kind, maxJobs: Int = 2) throws -> any ComputeBackend {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        switch kind {
        case .local: return LocalBackend(maxJobs: maxJobs)
        case .slurm: return SlurmBackend(options: ["conf": try SlurmCluster.shared.get().conf])
        case .memory: return InMemoryComputeBackend(programs: ["script": Step.program], maxJobs: maxJobs)
        }
    }

    /// Submits and follows a job off the cooperative pool.
    func runJob(_ kind: Kind, _ j: ComputeJob) async throws -> [JobResult] {
        let b = try backend(kind)
        return try await offPool { try b.run(j) }
    }

    func job(
        _ kind: Kind, _ name: String, _ steps: [Step], array: Int? = nil, seconds: Int? = nil, env: [String: String] = [:]
    ) -> ComputeJob {
        let (executable, arguments) =
            kind == .memory
            ? ("script", [String(decoding: (try? JSONEncoder().encode(steps)) ?? Data(), as: UTF8.self)])
            : ("/bin/sh", ["-c", steps.map(\.shell).joined(separator: "; ")])
        return ComputeJob(
            name: name, executable: executable, arguments: arguments, environment: env, workingDirectory: folder,
            logDirectory: folder + "/logs", arrayCount: array, timeLimitSeconds: seconds)
    }

    @Test("a job runs, in its folder, with its environment, and its log is collected", arguments: kinds)
    func single(_ kind: Kind) async throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let results = try await runJob(
            kind,
            job(
                kind, "hello", [.print("hello ", variable: "GREETING"), .printWorkingDirectory, .printError("oops")],
                env: ["GREETING": "world"]))
        #expect(results.count == 1)
        #expect(results[0].outcome == .completed && results[0].exitStatus == 0)
        let log = results[0].log ?? ""
        #expect(log.contains("hello world"), "\(results[0].logPath)")
        #expect(log.contains(folder) && log.contains("oops"))
    }

    @Test("an array runs one task per index, each with TANDEM_ARRAY_INDEX and its own log", arguments: kinds)
    func array(_ kind: Kind) async throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let results = try await runJob(
            kind,
            job(kind, "array", [.printTask, .exitIfTask(2, code: 5)], array: 4))
        #expect(results.map(\.task) == [0, 1, 2, 3])
        #expect(results.map(\.outcome) == [.completed, .completed, .failed, .completed])
        #expect(results[2].exitCode == 5)
        for r in results { #expect(r.log?.contains("task=\(r.task ?? -1)") == true, "\(r.logPath)") }
        #expect(Set(results.map(\.logPath)).count == 4)
    }

    @Test("a failing job reports its exit code, which becomes Tandem's", arguments: kinds)
    func failure(_ kind: Kind) async throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let r = try await runJob(kind, job(kind, "fails", [.print("about to fail"), .exit(4)]))[0]
        #expect(r.outcome == .failed && r.exitCode == 4 && r.exitStatus == 4)
        #expect(r.log?.contains("about to fail") == true)
    }

    @Test("a cancelled job ends cancelled, and leaves nothing running", arguments: kinds)
    func cancel(_ kind: Kind) async throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let b = try backend(kind)
        let marker = "tandem-cancel-\(UUID().uuidString.prefix(8))"
        let start = Date()
        let j = job(kind, "sleeper", [.sleep(seconds: 120, marker: "pid")])
        let pidFile = folder + "/pid"
        let r = try await offPool {
            try b.run(
                j,
                shouldCancel: {
                    // Once it runs (its child's pid is written), or after 20 s in the queue.
                    FileManager.default.fileExists(atPath: pidFile) || Date().timeIntervalSince(start) > 20
                })[0]
        }
        #expect(r.outcome == .cancelled && r.exitStatus == 3)
        #expect(Date().timeIntervalSince(start) < 60)
        // The job's own children went with it (a program of the in-memory backend has none).
        guard kind.runsProcesses else { return }
        if let pid = Int32(
            (try? String(contentsOfFile: folder + "/pid", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        ) {
            var gone = false
            for _ in 0..<50 where !gone {
                gone =
                    kill(pid, 0) != 0
                    || ((try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8))?.contains(") Z") ?? true)
                if !gone { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(gone, "the job's sleep (pid \(pid)) is still running")
        } else {
            Issue.record("the job did not write its child's pid \(marker)")
        }
    }

    @Test("a job that cannot launch says why and where its log is", arguments: kinds)
    func launchFailure(_ kind: Kind) async throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var j = job(kind, "nowhere", [])
        j.workingDirectory = folder + "/missing"
        let r = try await runJob(kind, j)[0]
        #expect(r.outcome == .launchFailed, "\(r)")
        #expect(r.exitStatus == 3)
        #expect(r.reason?.contains("missing") == true || r.reason?.contains("JobLaunchFailure") == true, "\(r.reason ?? "")")
        #expect(r.logPath.hasPrefix(folder + "/logs/"))
    }

    @Test("secrets reach the job from the environment; the job script never holds them", arguments: kinds)
    func secrets(_ kind: Kind) async throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        setenv("TANDEM_TEST_SECRET", "s3cr3t-value-42", 1)
        defer { unsetenv("TANDEM_TEST_SECRET") }
        // The job shows it got the secret without printing it: its length and its bytes in hex.
        let r = try await runJob(
            kind,
            job(kind, "secret", [.printHidden(variable: "TANDEM_TEST_SECRET")])
        )[0]
        let hex = "s3cr3t-value-42".utf8.map { String(format: "%02x", $0) }.joined()
        #expect(r.outcome == .completed, "\(r)")
        #expect(r.log?.contains("seen 15 bytes: \(hex)") == true, "\(r.log ?? "no log")")
        // Every file the backend wrote for the job: its log (local://, slurm://) and its job script (slurm://).
        let written = ((try? FileManager.default.contentsOfDirectory(atPath: folder + "/logs")) ?? []).sorted()
        // (The in-memory backend writes no file: its logs stay in memory.)
        #expect(written.contains((r.logPath as NSString).lastPathComponent) == kind.runsProcesses, "\(written)")
        if kind == .slurm { #expect(written.contains { $0.hasSuffix(".sh") }, "\(written)") }
        for f in written {
            let text = try String(contentsOfFile: folder + "/logs/" + f, encoding: .utf8)
            #expect(!text.contains("s3cr3t"), "\(f) holds the secret")
        }
    }

    @Test("a job over its time limit ends as a timeout", arguments: kinds)
    func timeout(_ kind: Kind) async throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // Slurm's limits are whole minutes, enforced up to ~30 s late: this case takes about 90 s.
        let r = try await runJob(kind, job(kind, "slow", [.sleep(seconds: 300)], seconds: 1))[0]
        #expect(r.outcome == .timeout && r.exitStatus == 3, "\(r)")
    }

    @Test("a queued job never starts once cancelled; jobs beyond max_jobs wait their turn", arguments: [Kind.local, .memory])
    func queueing(_ kind: Kind) async throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let b = try backend(kind, maxJobs: 1)
        let first = try b.submit(job(kind, "first", [.sleep(seconds: 1), .print("first done")]))
        let second = try b.submit(job(kind, "second", [.print("second ran")]))
        try b.cancel(second)
        let r1 = try await offPool { try b.wait(first)[0] }
        let r2 = try await offPool { try b.wait(second)[0] }
        #expect(r1.outcome == .completed)
        #expect(r2.outcome == .cancelled && r2.reason == "cancelled before it started")
        #expect(r2.log == nil)
    }

    /// (Not the in-memory backend's: its jobs end with the process that holds them.)
    @Test("recover stops the jobs of a Tandem that died, and forgets them", arguments: kinds.filter(\.runsProcesses))
    func recover(_ kind: Kind) async throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let b = try backend(kind)
        let journal = JobJournal(folder: folder + "/journal")
        let runner = JobRunner(backend: b, journal: journal, environment: "test")
        let id = try runner.submit(job(kind, "orphan", [.sleep(seconds: 120)]))
        // Wait until it runs, then pretend its owner died (a pid that no longer exists).
        for _ in 0..<100 {
            if kind == .slurm, let slurm = b as? SlurmBackend,
                (try? slurm.client("squeue", ["-h", "-j", id, "-o", "%T"])) == "RUNNING"
            {
                break
            }
            if kind == .local, journal.read(id)?.groups.isEmpty == false { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        guard var record = journal.read(id) else {
            Issue.record("the job was not journalled")
            return
        }
        #expect(record.ownerAlive)
        #expect(try journal.recover().isEmpty, "a live owner's job must be left alone")
        let dead = try ChildProcess.spawn(executable: "/bin/true", arguments: [])
        dead.wait()
        record.ownerPID = dead.pid
        try JSONEncoder().encode(record).write(to: URL(fileURLWithPath: journal.path(id)))
        let recovered = journal.recover()
        #expect(recovered.map(\.id) == [id])
        #expect(recovered.first?.action == "cancelled")
        #expect(journal.all().isEmpty)
        let r = try await offPool { try b.wait(id)[0] }
        #expect(r.outcome == .cancelled || r.outcome == .failed, "\(r)")
    }

    @Test("a controller that does not answer is exit 3 naming it", .enabled(if: SlurmCluster.enabled))
    func controllerDown() async throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let cluster = try SlurmCluster.shared.get()
        // The cluster's own configuration, pointed at a port where no controller listens.
        let conf = try String(contentsOfFile: cluster.conf, encoding: .utf8)
            .replacingOccurrences(of: "SlurmctldPort=", with: "SlurmctldPort=1\n#")
        try conf.write(toFile: folder + "/slurm.conf", atomically: true, encoding: .utf8)
        let b = SlurmBackend(options: ["conf": folder + "/slurm.conf"])
        do {
            _ = try b.submit(job(.slurm, "x", []))
            Issue.record("submitted to a controller that is down")
        } catch let e as Failure {
            #expect(e.exitStatus == .infrastructure)
            #expect(e.description.contains("slurmctld") && e.description.contains(folder + "/slurm.conf"), "\(e)")
        }
    }

    @Test("a job whose node fails ends as a node failure, exit 3", .enabled(if: SlurmCluster.enabled))
    func nodeFailure() async throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // A cluster of its own: this test takes its only node down.
        let cluster = try await offPool { try SlurmCluster() }
        defer { cluster.stop() }
        let b = SlurmBackend(options: ["conf": cluster.conf, "sbatch": "--no-requeue"])
        let id = try b.submit(job(.slurm, "doomed", [.print("started"), .sleep(seconds: 120)]))
        let environment = ["SLURM_CONF": cluster.conf, "PATH": "/usr/bin:/bin"]
        for _ in 0..<300 {
            if (try ChildProcess.run("squeue", ["-h", "-j", id, "-o", "%T"], environment: environment)).stdout.contains("RUNNING")
            {
                break
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        let node = try ChildProcess.run("sinfo", ["-h", "-o", "%N"], environment: environment).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let down = try ChildProcess.run(
            "scontrol", ["update", "NodeName=\(node)", "State=DOWN", "Reason=tandem-test"], environment: environment)
        #expect(down.termination.succeeded, "\(down.stderr)")
        let r = try await offPool { try b.wait(id)[0] }
        #expect(r.outcome == .nodeFailure && r.exitStatus == 3, "\(r)")
        #expect(r.reason == "NodeDown")
    }

    @Test("a partition that does not exist is refused with Slurm's reason and the log path", .enabled(if: SlurmCluster.enabled))
    func badPartition() async throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let b = SlurmBackend(options: ["conf": try SlurmCluster.shared.get().conf, "partition": "nosuch"])
        do {
            _ = try b.submit(job(.slurm, "x", []))
            Issue.record("submitted to a partition that does not exist")
        } catch let e as Failure {
            #expect(e.description.lowercased().contains("partition"), "\(e)")
            #expect(e.description.contains(folder + "/logs/x-%j.out"), "\(e)")
        }
    }
}

/// How `scontrol show job -o` lines become outcomes and Tandem's exit codes (the real cluster's answers for the
/// common states are checked above; these are the lines Slurm prints for each final state).
@Suite("Slurm final states")
struct SlurmStateTests {
    @Test(
        "each final state maps to an outcome and an exit status",
        arguments: [
            ("JobState=COMPLETED Reason=None ExitCode=0:0", JobOutcome.completed, Int32(0)),
            ("JobState=FAILED Reason=NonZeroExitCode ExitCode=1:0", .failed, 1),
            ("JobState=FAILED Reason=NonZeroExitCode ExitCode=4:0", .failed, 4),
            ("JobState=FAILED Reason=NonZeroExitCode ExitCode=139:0", .failed, 139),
            ("JobState=FAILED Reason=RaisedSignal:9_Killed ExitCode=0:9", .failed, 3),
            ("JobState=FAILED Reason=JobLaunchFailure ExitCode=0:53", .launchFailed, 3),
            ("JobState=CANCELLED Reason=None ExitCode=0:15", .cancelled, 3),
            ("JobState=TIMEOUT Reason=TimeLimit ExitCode=0:0", .timeout, 3),
            ("JobState=DEADLINE Reason=DeadLine ExitCode=0:0", .timeout, 3),
            ("JobState=NODE_FAIL Reason=NodeDown ExitCode=0:0", .nodeFailure, 3),
            ("JobState=BOOT_FAIL Reason=None ExitCode=0:0", .nodeFailure, 3),
            ("JobState=OUT_OF_MEMORY Reason=OutOfMemory ExitCode=0:125", .nodeFailure, 3),
            ("JobState=PREEMPTED Reason=None ExitCode=0:0", .nodeFailure, 3),
        ])
    func state(_ line: String, _ outcome: JobOutcome, _ status: Int32) {
        let fields = SlurmBackend.fields(Substring("JobId=42 JobName=tandem-x " + line + " WorkDir=/w StdOut=/w/x-42.out"))
        let r = SlurmBackend(options: [:]).result("42", fields)
        #expect(r.outcome == outcome)
        #expect(r.exitStatus == status, "\(r)")
        #expect(r.logPath == "/w/x-42.out")
        if outcome == .launchFailed { #expect(r.reason?.contains("JobLaunchFailure") == true) }
    }

    @Test("a pending array (one record with a range of tasks) is not final")
    func pendingArray() {
        let text =
            "JobId=7 ArrayJobId=7 ArrayTaskId=1-3%2 JobState=PENDING\nJobId=8 ArrayJobId=7 ArrayTaskId=0 JobState=COMPLETED"
        let tasks = text.split(separator: "\n").map(SlurmBackend.fields)
        #expect(tasks[0]["ArrayTaskId"] == "1-3%2")
        #expect(SlurmBackend.finalStates.contains(tasks[1]["JobState"] ?? ""))
    }
}
