import Foundation
public import TandemCompute
public import TandemCore
import TandemProfiles

/// A job in flight, as `tandem jobs list` shows it: from this checkout's journal and, on Slurm, from its queue.
public struct JobInFlight: Encodable, Sendable {
    public var id: String
    public var backend: String
    public var name: String
    public var owner: Int32?
    public var ownerAlive: Bool?
    public var submittedAt: String?
    /// Slurm's state, for jobs the queue shows.
    public var state: String?
    public var journalled: Bool

    enum CodingKeys: String, CodingKey {
        case id, backend, name, owner, state, journalled
        case ownerAlive = "owner_alive"
        case submittedAt = "submitted_at"
    }
}

extension StageContext {
    /// The jobs in flight: this environment's journal, with Slurm's state of each and, after them, the tandem jobs
    /// in Slurm's queue that this checkout did not submit.
    public func jobsInFlight() throws -> [JobInFlight] {
        var jobs = JobJournal(folder: jobsFolder).all().map {
            JobInFlight(
                id: $0.id, backend: $0.backend, name: $0.name, owner: $0.ownerPID, ownerAlive: $0.ownerAlive,
                submittedAt: $0.submittedAt, journalled: true)
        }
        if case .slurm = profile.roots.compute {
            for job in try slurm().queuedTandemJobs() {
                if let i = jobs.firstIndex(where: { $0.id == job.id && $0.backend == "slurm" }) {
                    jobs[i].state = job.state
                } else {
                    jobs.append(JobInFlight(id: job.id, backend: "slurm", name: job.name, state: job.state, journalled: false))
                }
            }
        }
        return jobs
    }

    /// Cancels a job by id: a journalled one (forgotten when its owner is gone), else on Slurm a job its queue knows.
    /// Returns what was cancelled, in words.
    ///
    /// - Throws: `Failure(.notFound)` (exit 2) when neither knows the id.
    public func cancelJob(_ id: String) throws -> String {
        let journal = JobJournal(folder: jobsFolder)
        guard let record = journal.read(id) else {
            // A Slurm job this checkout did not submit: Slurm's own id is enough.
            if case .slurm = profile.roots.compute, case let slurm = try slurm(), try slurm.isActive(id) {
                try slurm.cancel(id)
                return "Slurm job \(id)"
            }
            throw Failure(.notFound, "no job \(id) in \(jobsFolder); `tandem jobs list --env \(profile.name)` shows them")
        }
        _ = try JobJournal.stop(record)
        if !record.ownerAlive { journal.remove(id) }
        return "job \(id)"
    }
}

extension StageContext {
    /// Runs `tandem-STAGE ARGS…` (`command`) as a job on this environment's compute backend and follows it to
    /// its end (`tandem submit`): `submitted` hears its id and backend once it is queued; with `streamLog`, its log
    /// goes to stdout as it grows; `shouldCancel` cancels it. A job that ran and exited 1…4 throws that stage's
    /// own exit status; one that could not launch, timed out, lost its node or was cancelled throws exit 3.
    public func runStageJob(
        _ command: [String], timeLimitSeconds: Int?, cpus: Int, streamLog: Bool,
        submitted: (_ id: String, _ backend: String) -> Void, shouldCancel: @escaping () -> Bool
    ) throws -> JobResult {
        let stage = command[0]
        let job = try stageJob(command, timeLimitSeconds: timeLimitSeconds, cpus: cpus)
        let runner = try openCompute()
        let id = try runner.submit(job)
        submitted(id, runner.backend.kind)
        var follower: LogFollower?
        let logs = jobLogs
        let results = try runner.wait(id, shouldCancel: shouldCancel) {
            guard streamLog else { return }
            let path = (logs as NSString).appendingPathComponent("\(stage)-\(id).out")
            if follower == nil, FileManager.default.fileExists(atPath: path) { follower = LogFollower(path: path) }
            follower?.drain()
        }
        let result = results[0]
        if streamLog {
            if follower == nil { follower = LogFollower(path: result.logPath) }
            follower?.drain()
        }
        return result
    }
}

extension JobResult {
    /// The error a stage job's end is, for `tandem submit` to exit with; nil when it completed. A stage that ran
    /// and exited 1…4 keeps its own status; anything else (no launch, time limit, lost node, cancelled) is exit 3.
    public func failure(stage: String, job id: String) -> Failure? {
        switch outcome {
        case .completed: return nil
        case .failed where exitCode.map({ (1...4).contains($0) }) == true:
            return Failure(
                Failure.Code(exitStatus: ExitStatus(rawValue: exitStatus) ?? .infrastructure),
                "job \(id) (tandem-\(stage)) exited with \(exitCode ?? 0); log \(logPath)")
        default:
            return Failure(.failed, "job \(id) (tandem-\(stage)) ended \(summary(logLines: 0))")
        }
    }
}
