import Foundation
import TandemCore

#if canImport(Glibc)
    import Glibc
#endif

/// One job this machine's Tandem submitted and has not yet seen end: enough for another process to find it and
/// stop it if the submitter died (Slurm job id, or the process groups of a local job's tasks).
public struct JobRecord: Codable, Sendable, Equatable {
    public var id: String
    public var backend: String
    public var name: String
    public var environment: String
    public var ownerPID: Int32
    /// The owner's start time in clock ticks since boot (/proc/PID/stat), so a reused pid is not mistaken for it.
    public var ownerStart: UInt64
    public var submittedAt: String
    public var logDirectory: String
    /// Local jobs: the process group of every task started so far.
    public var groups: [Int32]
    /// Slurm jobs: the SLURM_CONF the job was submitted with.
    public var slurmConf: String?

    enum CodingKeys: String, CodingKey {
        case id, backend, name, environment, groups
        case ownerPID = "owner_pid"
        case ownerStart = "owner_start"
        case submittedAt = "submitted_at"
        case logDirectory = "log_directory"
        case slurmConf = "slurm_conf"
    }

    /// Whether the Tandem process that submitted the job is still running.
    public var ownerAlive: Bool {
        guard kill(ownerPID, 0) == 0 || errno == EPERM else { return false }
        return JobJournal.startTime(of: ownerPID) == ownerStart
    }
}

/// The jobs in flight, one JSON file each under `FOLDER/active/` (written whole, then renamed into place),
/// removed when the job ends. `tandem jobs recover` stops the jobs whose owner is gone.
public final class JobJournal: Sendable {
    public let folder: String
    var active: String { (folder as NSString).appendingPathComponent("active") }

    public init(folder: String) { self.folder = folder }

    static func startTime(of pid: Int32) -> UInt64 {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return 0 }
        // Fields after the command name: state is field 3; starttime is field 22.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 19 ? UInt64(fields[19]) ?? 0 : 0
    }

    func path(_ id: String) -> String {
        (active as NSString).appendingPathComponent(id.replacingOccurrences(of: "/", with: "_") + ".json")
    }

    /// Records a job just submitted by this process.
    public func record(
        id: String, backend: String, name: String, environment: String, logDirectory: String, slurmConf: String?
    ) throws {
        let pid = getpid()
        try write(
            JobRecord(
                id: id, backend: backend, name: name, environment: environment, ownerPID: pid,
                ownerStart: Self.startTime(of: pid),
                submittedAt: Timestamp.nowMillis(), logDirectory: logDirectory, groups: [], slurmConf: slurmConf))
    }

    /// Serialises read-modify-write of a record within this process (tasks of one job can start on two threads).
    private static let updates = NSLock()

    /// Adds the process group of a local task that just started.
    public func addGroup(_ group: Int32, to id: String) {
        Self.updates.withLock {
            guard var r = read(id) else { return }
            r.groups.append(group)
            try? write(r)
        }
    }

    public func remove(_ id: String) { try? FileManager.default.removeItem(atPath: path(id)) }

    public func read(_ id: String) -> JobRecord? {
        guard let data = FileManager.default.contents(atPath: path(id)) else { return nil }
        return try? JSONDecoder().decode(JobRecord.self, from: data)
    }

    public func all() -> [JobRecord] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: active)) ?? []
        return names.filter { $0.hasSuffix(".json") }.sorted().compactMap { read(String($0.dropLast(5))) }
            .sorted { $0.submittedAt < $1.submittedAt }
    }

    private func write(_ r: JobRecord) throws {
        try FileManager.default.createDirectory(atPath: active, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(r)
        let temporary = path(r.id) + ".tmp-\(getpid())"
        try data.write(to: URL(fileURLWithPath: temporary))
        guard rename(temporary, path(r.id)) == 0 else {
            throw Failure(.failed, "cannot write the job journal in \(active): \(String(cString: strerror(errno)))")
        }
    }

    /// What `recover` did with one orphaned job.
    public struct Recovered: Codable, Sendable {
        public var id: String
        public var backend: String
        public var name: String
        /// `cancelled` (it was still queued or running), `gone` (it had already ended) or `error: …`.
        public var action: String
        /// Why the job could not be checked or stopped (nil when it was); what callers decide on.
        public var error: String?
    }

    /// Stops a recorded job wherever it runs (scancel; SIGKILL to a local job's process groups); true when
    /// something was still queued or running.
    public static func stop(_ record: JobRecord) throws -> Bool {
        switch record.backend {
        case "local":
            return LocalBackend.stopGroups(record.groups) > 0
        case "slurm":
            let slurm = SlurmBackend(options: record.slurmConf.map { ["conf": $0] } ?? [:])
            guard try slurm.isActive(record.id) else { return false }
            try slurm.cancel(record.id)
            return true
        default:
            throw Failure(.invalidInput, "job \(record.id) has an unknown backend '\(record.backend)'")
        }
    }

    /// Stops every job whose owner is gone and forgets it; jobs of live owners are left alone.
    public func recover() -> [Recovered] {
        var done: [Recovered] = []
        for r in all() where !r.ownerAlive {
            var action = "gone"
            var failure: String?
            do {
                if try Self.stop(r) { action = "cancelled" }
            } catch {
                failure = "\(error)"
                action = "error: \(error)"
            }
            if failure == nil { remove(r.id) }
            done.append(Recovered(id: r.id, backend: r.backend, name: r.name, action: action, error: failure))
        }
        return done
    }
}

/// Runs jobs through a backend with the journal kept: recorded at submission, each local task's process group
/// added as it starts, forgotten when the job ends; interrupted (SIGINT/SIGTERM through `shouldCancel`) it
/// cancels the job before returning.
public struct JobRunner: Sendable {
    public let backend: any ComputeBackend
    public let journal: JobJournal
    public let environment: String

    public init(backend: any ComputeBackend, journal: JobJournal, environment: String) {
        self.backend = backend
        self.journal = journal
        self.environment = environment
        backend.observeTaskStarts { [journal] id, group in journal.addGroup(group, to: id) }
    }

    public func submit(_ job: ComputeJob) throws -> String {
        // Recorded before the first task starts where the backend can hold it, so no process group is missed.
        try backend.submit(job) { id in
            try journal.record(
                id: id, backend: backend.kind, name: job.name, environment: environment, logDirectory: job.logDirectory,
                slurmConf: backend.journalConf)
        }
    }

    /// Follows the job (calling `eachPoll` between polls) until every task has ended, cancelling it once when
    /// `shouldCancel` turns true, and forgets it.
    public func wait(
        _ id: String, shouldCancel: () -> Bool = { false }, eachPoll: () -> Void = {}
    ) throws -> [JobResult] {
        let results = try backend.wait(id, shouldCancel: shouldCancel, eachPoll: eachPoll)
        journal.remove(id)
        return results
    }

    public func run(_ job: ComputeJob, shouldCancel: () -> Bool = { false }) throws -> [JobResult] {
        try wait(try submit(job), shouldCancel: shouldCancel)
    }
}

extension SlurmBackend {
    /// The cluster's configuration, so that `tandem jobs recover` in another process reaches the same controller.
    public var journalConf: String? { environment["SLURM_CONF"] }
}
