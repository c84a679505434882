import Foundation
import TandemCore
import Testing

@testable import TandemCompute

/// What Slurm 22.05's client tools answered on a real single-node cluster (scripts/slurm-up), recorded with their
/// exit statuses: the backend decides on those statuses and on parsed output, never on the words.
enum Recorded {
    static let up = SlurmToolRun(status: 0, stdout: "Slurmctld(primary) at vm is UP\n")
    static let down = SlurmToolRun(
        status: 1,
        stdout: """
            Slurmctld(primary) at vm is DOWN
            *****************************************
            ** RESTORE SLURMCTLD DAEMON TO SERVICE **
            *****************************************

            """)
    /// A primary that is down and a backup that answers: the cluster answers (exit 0).
    static let backupUp = SlurmToolRun(status: 0, stdout: "Slurmctld(primary) at a is DOWN\nSlurmctld(backup) at b is UP\n")
    static let connectFailure = "slurm_load_jobs error: Unable to contact slurm controller (connect failure)\n"
    static let invalidJob = SlurmToolRun(status: 1, stderr: "slurm_load_jobs error: Invalid job id specified\n")
    static let running = SlurmToolRun(status: 0, stdout: "RUNNING\n")
    /// `squeue -h -j ID` once the job ended (still known to the controller): nothing, exit 0.
    static let ended = SlurmToolRun(status: 0)
}

/// A backend whose client tools answer from a table: (tool, first argument) → answer; `scontrol ping` → `ping`.
func scripted(ping: SlurmToolRun, _ answers: [String: SlurmToolRun]) -> (SlurmBackend, @Sendable () -> [String]) {
    final class Calls: @unchecked Sendable {
        var list: [String] = []
        let lock = NSLock()
    }
    let calls = Calls()
    let backend = SlurmBackend(options: ["conf": "/etc/slurm-test/slurm.conf"]) { tool, arguments, _ in
        let key = ([tool] + arguments.prefix(1)).joined(separator: " ")
        calls.lock.withLock { calls.list.append(key) }
        if tool == "scontrol", arguments == ["ping"] { return ping }
        guard let answer = answers[key] else { throw Failure(.failed, "no recorded answer for \(key)") }
        return answer
    }
    return (backend, { calls.lock.withLock { calls.list } })
}

/// The code of the compute error `body` throws (nil when it does not throw one).
func computeFailure<T>(_ body: () throws -> T) -> Failure? {
    do {
        _ = try body()
        return nil
    } catch let e as Failure {
        return e
    } catch {
        return nil
    }
}

@Suite("Slurm decisions on recorded answers")
struct SlurmDecisionTests {
    @Test(
        "whether a job is still queued or running",
        arguments: [
            (Recorded.running, Recorded.up, true),
            (Recorded.ended, Recorded.up, false),
            // The controller answers ping but no longer knows the job (it left after MinJobAge): not active.
            (Recorded.invalidJob, Recorded.up, false),
            (Recorded.invalidJob, Recorded.backupUp, false),
            // Other words, same statuses: the same decision.
            (SlurmToolRun(status: 1, stderr: "squeue: error: Ungültige Job-ID\n"), Recorded.up, false),
        ])
    func active(_ squeue: SlurmToolRun, _ ping: SlurmToolRun, _ expected: Bool) throws {
        let (b, _) = scripted(ping: ping, ["squeue -h": squeue])
        #expect(try b.isActive("42") == expected)
    }

    @Test(
        "a controller that does not answer ping is exit 3 naming it, whatever the tool printed",
        arguments: [
            SlurmToolRun(status: 1, stderr: Recorded.connectFailure),
            // Munge credentials the controller rejects: not in any list of words, still "does not answer".
            SlurmToolRun(status: 1, stderr: "slurm_load_jobs error: Protocol authentication error\n"),
            SlurmToolRun(status: 1, stderr: "slurm_load_jobs error: Invalid job id specified\n"),
        ])
    func controllerDown(_ squeue: SlurmToolRun) {
        let (b, _) = scripted(ping: Recorded.down, ["squeue -h": squeue, "scontrol show": squeue])
        for error in [computeFailure { try b.isActive("42") }, computeFailure { try b.poll("42") }] {
            #expect(error?.exitStatus == .infrastructure, "\(String(describing: error))")
            #expect(error?.description.contains("does not answer") == true, "\(String(describing: error))")
            #expect(error?.description.contains("/etc/slurm-test/slurm.conf") == true)
        }
    }

    @Test(
        "sbatch refusing a job while the controller answers is exit 2 with Slurm's words; a down controller exit 3",
        arguments: [
            (
                SlurmToolRun(
                    status: 1,
                    stderr:
                        "sbatch: error: invalid partition specified: nope\nsbatch: error: Batch job submission failed: Invalid partition name specified\n"
                ), Recorded.up, TandemCore.ExitStatus.badInput
            ),
            (
                SlurmToolRun(
                    status: 1,
                    stderr:
                        "sbatch: error: Memory specification can not be satisfied\nsbatch: error: Batch job submission failed: Requested node configuration is not available\n"
                ), Recorded.up, .badInput
            ),
            (SlurmToolRun(status: 255, stderr: "sbatch: error: Invalid --time specification\n"), Recorded.up, .badInput),
            (
                SlurmToolRun(
                    status: 1,
                    stderr: "sbatch: error: Batch job submission failed: Unable to contact slurm controller (connect failure)\n"),
                Recorded.down, .infrastructure
            ),
        ])
    func submit(_ sbatch: SlurmToolRun, _ ping: SlurmToolRun, _ status: TandemCore.ExitStatus) throws {
        let folder = NSTemporaryDirectory() + "tandem-slurm-decisions-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (b, _) = scripted(ping: ping, ["sbatch --parsable": sbatch])
        let error = computeFailure {
            try b.submit(
                ComputeJob(name: "x", executable: "/bin/true", arguments: [], workingDirectory: folder, logDirectory: folder))
        }
        #expect(error?.exitStatus == status, "\(String(describing: error))")
        if status == .badInput {
            #expect(error?.description.contains(sbatch.stderr.split(separator: "\n").last.map(String.init) ?? "") == true)
        }
    }

    @Test("sbatch's --parsable answer is the job id; anything else is not taken for one")
    func submitted() throws {
        let folder = NSTemporaryDirectory() + "tandem-slurm-decisions-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let job = ComputeJob(name: "x", executable: "/bin/true", arguments: [], workingDirectory: folder, logDirectory: folder)
        let (b, _) = scripted(ping: Recorded.up, ["sbatch --parsable": SlurmToolRun(status: 0, stdout: "17\n")])
        #expect(try b.submit(job) == "17")
        let (c, _) = scripted(ping: Recorded.up, ["sbatch --parsable": SlurmToolRun(status: 0, stdout: "17;tandem\n")])
        #expect(try c.submit(job) == "17")
        let (d, _) = scripted(ping: Recorded.up, ["sbatch --parsable": SlurmToolRun(status: 0, stdout: "Submitted\n")])
        #expect(computeFailure { try d.submit(job) }?.exitStatus == .infrastructure)
    }

    @Test(
        "scancel: a refusal of a job that is no longer active leaves nothing to stop; of an active one, exit 3",
        arguments: [
            (SlurmToolRun(status: 0), Recorded.running, true),
            // Slurm 22.05 exits 0 for a job that already ended; later versions exit 1 with "Invalid job id specified".
            (
                SlurmToolRun(status: 1, stderr: "scancel: error: Kill job error on job id 42: Invalid job id specified\n"),
                Recorded.invalidJob, true
            ),
            (
                SlurmToolRun(
                    status: 1, stderr: "scancel: error: Kill job error on job id 42: Job/step already completing or completed\n"),
                Recorded.ended, true
            ),
            (
                SlurmToolRun(status: 1, stderr: "scancel: error: Kill job error on job id 42: Access/permission denied\n"),
                Recorded.running, false
            ),
        ])
    func cancel(_ scancel: SlurmToolRun, _ squeue: SlurmToolRun, _ quiet: Bool) {
        let (b, _) = scripted(ping: Recorded.up, ["scancel 42": scancel, "squeue -h": squeue])
        let error = computeFailure { try b.cancel("42") }
        #expect((error == nil) == quiet, "\(String(describing: error))")
        if !quiet { #expect(error?.exitStatus == .infrastructure) }
    }

    @Test("scancel with the controller down is exit 3 naming it")
    func cancelDown() {
        let scancel = SlurmToolRun(
            status: 8,
            stderr: "scancel: error: Kill job error on job id 1: Unable to contact slurm controller (connect failure)\n")
        let (b, _) = scripted(ping: Recorded.down, ["scancel 42": scancel])
        let error = computeFailure { try b.cancel("42") }
        #expect(error?.exitStatus == .infrastructure && error?.description.contains("slurmctld") == true)
    }

    @Test(
        "ping is decided on scontrol's exit status",
        arguments: [(Recorded.up, true), (Recorded.backupUp, true), (Recorded.down, false)])
    func ping(_ answer: SlurmToolRun, _ up: Bool) {
        let (b, _) = scripted(ping: answer, [:])
        let error = computeFailure { try b.ping() }
        #expect((error == nil) == up, "\(String(describing: error))")
    }

    @Test("a job the controller no longer knows, polled, is exit 3 (not bad input)")
    func pollPurged() {
        let (b, _) = scripted(ping: Recorded.up, ["scontrol show": Recorded.invalidJob])
        #expect(computeFailure { try b.poll("42") }?.exitStatus == .infrastructure)
    }
}

/// The job script's launch checks exit 126: that status decides a launch failure (its printed line is the reason).
@Suite("Slurm launch failures")
struct SlurmLaunchFailureTests {
    @Test(
        "exit 126 is a launch failure (exit 3) with or without the script's line; other exits stay the stage's",
        arguments: [
            ("tandem: launch failure: working directory '/w' does not exist on vm\n", 126, JobOutcome.launchFailed, Int32(3)),
            ("/bin/sh: 1: exec: /opt/tandem/bin/tandem-etl: Permission denied\n", 126, .launchFailed, 3),
            ("tandem: launch failure: printed by the stage itself\n", 2, .failed, 2),
        ])
    func launch(_ log: String, _ code: Int, _ outcome: JobOutcome, _ status: Int32) throws {
        let folder = NSTemporaryDirectory() + "tandem-slurm-launch-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try log.write(toFile: folder + "/x-42.out", atomically: true, encoding: .utf8)
        let fields = SlurmBackend.fields(
            Substring(
                "JobId=42 JobName=tandem-x JobState=FAILED Reason=NonZeroExitCode ExitCode=\(code):0 WorkDir=/w "
                    + "StdOut=\(folder)/x-42.out"))
        let r = SlurmBackend(options: [:]).result("42", fields)
        #expect(r.outcome == outcome, "\(r)")
        #expect(r.exitStatus == status, "\(r)")
        if outcome == .launchFailed, log.hasPrefix("tandem: launch failure: ") {
            #expect(r.reason == "working directory '/w' does not exist on vm")
        }
    }
}
