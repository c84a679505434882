import Foundation
import TandemCore

#if canImport(Glibc)
    import Glibc
#endif

/// `local://[?max_jobs=N]`: jobs are child processes of this one, at most `maxJobs` tasks at a time, each in its
/// own process group (a cancel or a timeout stops the task's whole tree) with its log file; an array's tasks
/// are separate processes with `TANDEM_ARRAY_INDEX` set.
public final class LocalBackend: ComputeBackend, @unchecked Sendable {
    public let kind = "local"
    public let maxJobs: Int
    public var pollInterval: Double = 0.01
    /// Seconds between SIGTERM and SIGKILL when a task is cancelled or over its time limit.
    public var killGrace: Double = 3
    /// Called with the job id and the process group of each task as it starts (the journal records them, so
    /// `tandem jobs recover` can stop what a crashed Tandem left running).
    private var onTaskStart: (@Sendable (String, Int32) -> Void)? {
        get { lock.withLock { taskStartHandler } }
        set { lock.withLock { taskStartHandler = newValue } }
    }
    private var taskStartHandler: (@Sendable (String, Int32) -> Void)?

    private let lock = NSLock()
    private var jobs: [String: [Task]] = [:]
    private var order: [String] = []
    private var counter = 0

    final class Task {
        let index: Int?
        let job: ComputeJob
        let logPath: String
        var child: ChildProcess?
        var startedAt: Date?
        var termination: ChildProcess.Termination?
        var launchError: String?
        var cancelled = false
        var timedOut = false
        var signalledAt: Date?

        init(index: Int?, job: ComputeJob, logPath: String) {
            self.index = index
            self.job = job
            self.logPath = logPath
        }

        var finished: Bool { termination != nil || launchError != nil || (cancelled && child == nil) }
        var running: Bool { child != nil && termination == nil }
    }

    public init(maxJobs: Int = 2) { self.maxJobs = max(1, maxJobs) }

    public func submit(_ job: ComputeJob) throws -> String { try submit(job) { _ in } }

    public func observeTaskStarts(_ handler: @escaping @Sendable (String, Int32) -> Void) { onTaskStart = handler }

    /// Submits a job, calls `beforeStart` with its id before any task starts, then starts what it can.
    public func submit(_ job: ComputeJob, beforeStart: (String) throws -> Void) throws -> String {
        try FileManager.default.createDirectory(atPath: job.logDirectory, withIntermediateDirectories: true)
        let id = lock.withLock {
            counter += 1
            return "\(getpid())-\(counter)"
        }
        let indices: [Int?] = job.arrayCount.map { Array(0..<$0) } ?? [nil]
        let tasks = indices.map { index in
            Task(
                index: index, job: job,
                logPath: (job.logDirectory as NSString).appendingPathComponent(
                    "\(job.name)-\(id)" + (index.map { "_\($0)" } ?? "") + ".out"))
        }
        try beforeStart(id)
        lock.withLock {
            jobs[id] = tasks
            order.append(id)
        }
        schedule()
        return id

    }

    /// Reaps ended tasks, enforces time limits and cancellations, and starts queued tasks while fewer than
    /// `maxJobs` run (jobs in the order they were submitted).
    private func schedule() {
        var started: [(String, Int32)] = []
        lock.withLock {
            let now = Date()
            var running = 0
            for id in order {
                for t in jobs[id] ?? [] where t.running {
                    if let ended = t.child?.poll() {
                        t.termination = ended
                        continue
                    }
                    if !t.timedOut, let limit = t.job.timeLimitSeconds, let s = t.startedAt,
                        now.timeIntervalSince(s) > Double(limit)
                    {
                        t.timedOut = true
                        t.child?.signalGroup(SIGTERM)
                        t.signalledAt = now
                    }
                    if let at = t.signalledAt, now.timeIntervalSince(at) > killGrace { t.child?.signalGroup(SIGKILL) }
                    running += 1
                }
            }
            for id in order {
                let tasks = jobs[id] ?? []
                var own = tasks.filter(\.running).count
                for t in tasks where t.child == nil && !t.finished && running < maxJobs && own < (t.job.maxParallel ?? .max) {
                    start(t)
                    if let child = t.child {
                        running += 1
                        own += 1
                        started.append((id, child.pid))
                    }
                }
            }
        }
        for (id, group) in started { onTaskStart?(id, group) }
    }

    private func start(_ t: Task) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: t.job.workingDirectory, isDirectory: &isDirectory), isDirectory.boolValue
        else {
            t.launchError = "working directory \(t.job.workingDirectory) does not exist"
            try? "tandem: the job could not launch: \(t.launchError ?? "")\n".write(
                toFile: t.logPath, atomically: true, encoding: .utf8)
            return
        }
        var environment = ProcessInfo.processInfo.environment
        for (k, v) in t.job.environment { environment[k] = v }
        if let index = t.index { environment["TANDEM_ARRAY_INDEX"] = String(index) }
        do {
            t.child = try ChildProcess.spawn(
                executable: t.job.executable, arguments: t.job.arguments, environment: environment,
                directory: t.job.workingDirectory, stdout: .file(t.logPath, append: false), stderr: .standardOutput)

            t.startedAt = Date()
        } catch {
            t.launchError = "\(error)"
        }
    }

    public func poll(_ id: String) throws -> [JobResult]? {
        guard lock.withLock({ jobs[id] != nil }) else {
            throw Failure(.notFound, "no local job \(id) in this process")
        }
        schedule()
        return lock.withLock {
            guard let tasks = jobs[id], tasks.allSatisfy(\.finished) else { return nil }
            jobs[id] = nil
            order.removeAll { $0 == id }
            return tasks.map { result(id, $0) }
        }
    }

    private func result(_ id: String, _ t: Task) -> JobResult {
        func make(_ outcome: JobOutcome, _ code: Int32?, _ reason: String?) -> JobResult {
            JobResult(jobID: id, task: t.index, outcome: outcome, exitCode: code, reason: reason, logPath: t.logPath)
        }
        if let error = t.launchError { return make(.launchFailed, nil, error) }
        if t.cancelled { return make(.cancelled, nil, t.child == nil ? "cancelled before it started" : "cancelled") }
        if t.timedOut { return make(.timeout, nil, "over its time limit of \(t.job.timeLimitSeconds ?? 0) s") }
        switch t.termination {
        case .exited(0): return make(.completed, 0, nil)
        case .exited(let code): return make(.failed, code, nil)
        case .signaled(let signal): return make(.failed, nil, "killed by signal \(signal)")
        case nil: return make(.failed, nil, "unknown end")
        }
    }

    public func cancel(_ id: String) throws {
        lock.withLock {
            for t in jobs[id] ?? [] where !t.finished {
                t.cancelled = true
                if t.running {
                    t.child?.signalGroup(SIGTERM)
                    t.signalledAt = Date()
                }
            }
        }
    }

    /// Stops what a crashed Tandem left running: every process of the recorded task groups.
    public static func stopGroups(_ groups: [Int32]) -> Int {
        var stopped = 0
        for g in groups where g > 1 && kill(-g, 0) == 0 {
            kill(-g, SIGKILL)
            stopped += 1
        }
        return stopped
    }
}
