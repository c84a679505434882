import Foundation
public import TandemCompute
import TandemCore

/// A `ComputeBackend` held in this process, with the contract of `local://` and `slurm://` (the compute conformance
/// suite runs against all three): a job's executable names a *program* registered with the backend, a Swift
/// closure that runs on a thread of its own, once per task, at most `maxJobs` tasks at a time; its output is kept in
/// memory (`JobResult.capturedLog`), never written to a file. A program that is not registered, or a working
/// directory `workingDirectoryExists` denies, is a launch failure; a cancel or a time limit stops a task at its next
/// `TaskContext.sleep` or `isStopped` check (programs cooperate, as a process gets SIGTERM), and a queued task never
/// starts once cancelled. With an `Outage` down, submit, poll and cancel fail as an unreachable scheduler does
/// (exit 3), and nothing changes. Jobs live and die with the backend: there is nothing for `tandem jobs recover` to
/// stop in another process.
public final class InMemoryComputeBackend: ComputeBackend, @unchecked Sendable {
    public let kind = "memory"
    public let maxJobs: Int
    public var pollInterval: Double = 0.005

    /// What a program sees of its task, and how it writes its log and waits.
    public final class TaskContext: @unchecked Sendable {
        public let job: ComputeJob
        /// The task's index in an array (nil for a single job); also in `environment["TANDEM_ARRAY_INDEX"]`.
        public let index: Int?
        /// The inherited environment with the job's variables on top, as a child process would see it.
        public let environment: [String: String]
        fileprivate let lock = NSLock()
        fileprivate let wake = NSCondition()
        fileprivate var output = ""
        fileprivate var stopped = false

        fileprivate init(job: ComputeJob, index: Int?, environment: [String: String]) {
            self.job = job
            self.index = index
            self.environment = environment
        }

        /// Appends a line to the task's log (its stdout and stderr, as the other backends merge them).
        public func print(_ line: String) { lock.withLock { output += line + "\n" } }

        /// True once the task is cancelled or over its time limit.
        public var isStopped: Bool { wake.withLock { stopped } }

        /// Waits up to `seconds`; returns false at once when the task is stopped meanwhile.
        @discardableResult
        public func sleep(_ seconds: Double) -> Bool {
            let deadline = Date().addingTimeInterval(seconds)
            wake.lock()
            defer { wake.unlock() }
            while !stopped && Date() < deadline { _ = wake.wait(until: deadline) }
            return !stopped
        }

        fileprivate func stop() {
            wake.withLock {
                stopped = true
                wake.broadcast()
            }
        }

        fileprivate var log: String { lock.withLock { output } }
    }

    /// A program: runs one task and returns its exit code.
    public typealias Program = @Sendable (TaskContext) -> Int32

    private final class Task: @unchecked Sendable {
        let index: Int?
        let job: ComputeJob
        let logPath: String
        var context: TaskContext?
        var startedAt: Date?
        var exitCode: Int32?
        var launchError: String?
        var cancelled = false
        var timedOut = false

        init(index: Int?, job: ComputeJob, logPath: String) {
            self.index = index
            self.job = job
            self.logPath = logPath
        }

        var running: Bool { context != nil && exitCode == nil }
        var finished: Bool { exitCode != nil || launchError != nil || (cancelled && context == nil) }
    }

    private let lock = NSLock()
    private let programs: [String: Program]
    private let outage: Outage?
    private let workingDirectoryExists: @Sendable (String) -> Bool
    private var jobs: [String: [Task]] = [:]
    private var order: [String] = []
    private var counter = 0

    /// - Parameters:
    ///   - programs: the programs jobs may name as their executable.
    ///   - workingDirectoryExists: whether a job's working directory exists (the file system's answer by default).
    public init(
        programs: [String: Program], maxJobs: Int = 2, outage: Outage? = nil,
        workingDirectoryExists: (@Sendable (String) -> Bool)? = nil
    ) {
        self.programs = programs
        self.maxJobs = max(1, maxJobs)
        self.outage = outage
        self.workingDirectoryExists =
            workingDirectoryExists ?? { path in
                var isDirectory: ObjCBool = false
                return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
            }
    }

    private func available() throws {
        if outage?.isDown == true {
            throw Failure(.unreachable, "the in-memory compute backend is down (an Outage of this test)")
        }
    }

    public func submit(_ job: ComputeJob) throws -> String { try submit(job, beforeStart: { _ in }) }

    public func submit(_ job: ComputeJob, beforeStart: (String) throws -> Void) throws -> String {
        try available()
        let id = lock.withLock {
            counter += 1
            return "memory-\(counter)"
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

    /// Stops tasks over their time limit and starts queued tasks while fewer than `maxJobs` run.
    private func schedule() {
        lock.withLock {
            let now = Date()
            var running = 0
            for id in order {
                for t in jobs[id] ?? [] where t.running {
                    if !t.timedOut, let limit = t.job.timeLimitSeconds, let s = t.startedAt,
                        now.timeIntervalSince(s) > Double(limit)
                    {
                        t.timedOut = true
                        t.context?.stop()
                    }
                    running += 1
                }
            }
            for id in order {
                let tasks = jobs[id] ?? []
                var own = tasks.filter(\.running).count
                for t in tasks where t.context == nil && !t.finished && running < maxJobs && own < (t.job.maxParallel ?? .max) {
                    start(t)
                    if t.context != nil {
                        running += 1
                        own += 1
                    }
                }
            }
        }
    }

    /// Starts a task on a thread of its own (the lock is held).
    private func start(_ t: Task) {
        guard workingDirectoryExists(t.job.workingDirectory) else {
            t.launchError = "working directory \(t.job.workingDirectory) does not exist"
            return
        }
        guard let program = programs[t.job.executable] else {
            t.launchError = "no program \(t.job.executable) is registered with the in-memory backend"
            return
        }
        var environment = ProcessInfo.processInfo.environment
        for (k, v) in t.job.environment { environment[k] = v }
        if let index = t.index { environment["TANDEM_ARRAY_INDEX"] = String(index) }
        let context = TaskContext(job: t.job, index: t.index, environment: environment)
        t.context = context
        t.startedAt = Date()
        let thread = Thread { [weak self] in
            let code = program(context)
            self?.lock.withLock { t.exitCode = code }
        }
        thread.start()
    }

    public func poll(_ id: String) throws -> [JobResult]? {
        try available()
        guard lock.withLock({ jobs[id] != nil }) else {
            throw Failure(.notFound, "no in-memory job \(id)")
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
            var r = JobResult(jobID: id, task: t.index, outcome: outcome, exitCode: code, reason: reason, logPath: t.logPath)
            r.capturedLog = t.context?.log ?? t.launchError.map { "tandem: the job could not launch: \($0)\n" }
            return r
        }
        if let error = t.launchError { return make(.launchFailed, nil, error) }
        if t.cancelled { return make(.cancelled, nil, t.context == nil ? "cancelled before it started" : "cancelled") }
        if t.timedOut { return make(.timeout, nil, "over its time limit of \(t.job.timeLimitSeconds ?? 0) s") }
        switch t.exitCode {
        case 0: return make(.completed, 0, nil)
        case let code?: return make(.failed, code, nil)
        case nil: return make(.failed, nil, "unknown end")
        }
    }

    public func cancel(_ id: String) throws {
        try available()
        lock.withLock {
            for t in jobs[id] ?? [] where !t.finished {
                t.cancelled = true
                t.context?.stop()
            }
        }
    }
}
