import Foundation
import TandemCompute
import TandemCore
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
