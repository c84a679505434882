import Foundation
import TandemCore

/// `local://[?max_jobs=N]`: jobs are child processes of this one, at most `maxJobs` at a time, each with its log
/// file; an array's tasks are separate processes with `TANDEM_ARRAY_INDEX` set.
public final class LocalBackend: ComputeBackend, @unchecked Sendable {
    public let maxJobs: Int
    private let lock = NSLock()
    private var jobs: [String: [Task]] = [:]
    private var counter = 0

    final class Task: @unchecked Sendable {
        let index: Int?
        let process: Process
        let logPath: String
        let deadline: Date?
        var started = false
        var timedOut = false
        var cancelled = false
        /// Set by a watcher thread once `waitUntilExit` returns (polling `isRunning` needs a run loop).
        private let exitLock = NSLock()
        private var exitedFlag = false
        var exited: Bool { exitLock.withLock { exitedFlag } }

        func watch() {
            Thread.detachNewThread { [self] in
                process.waitUntilExit()
                exitLock.withLock { exitedFlag = true }
            }
        }

        init(index: Int?, process: Process, logPath: String, deadline: Date?) {
            self.index = index
            self.process = process
            self.logPath = logPath
            self.deadline = deadline
        }
    }

    public init(maxJobs: Int = 2) { self.maxJobs = max(1, maxJobs) }

    public func submit(_ job: ComputeJob) throws -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: job.workingDirectory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ComputeError("job \(job.name) cannot launch: its working directory \(job.workingDirectory) does not exist")
        }
        try FileManager.default.createDirectory(atPath: job.logDirectory, withIntermediateDirectories: true)
        lock.lock()
        counter += 1
        let id = "local-\(getpid())-\(counter)"
        lock.unlock()
        var tasks: [Task] = []
        for index in job.arrayCount.map({ Array(0..<$0).map(Optional.some) }) ?? [nil] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: job.executable)
            process.arguments = job.arguments
            process.currentDirectoryURL = URL(fileURLWithPath: job.workingDirectory)
            var environment = ProcessInfo.processInfo.environment  // secrets pass by name, as with --export=ALL
            for (k, v) in job.environment { environment[k] = v }
            if let index { environment["TANDEM_ARRAY_INDEX"] = String(index) }
            process.environment = environment
            let log = (job.logDirectory as NSString).appendingPathComponent("\(job.name)-\(id)" + (index.map { "_\($0)" } ?? "") + ".out")
            FileManager.default.createFile(atPath: log, contents: nil)
            let handle = FileHandle(forWritingAtPath: log)
            process.standardOutput = handle
            process.standardError = handle
            tasks.append(Task(index: index, process: process, logPath: log,
                              deadline: job.timeLimitSeconds.map { Date().addingTimeInterval(Double($0)) }))
        }
        lock.lock()
        jobs[id] = tasks
        lock.unlock()
        try schedule()
        return id
    }

    /// Starts queued tasks while fewer than `maxJobs` run.
    private func schedule() throws {
        lock.lock()
        defer { lock.unlock() }
        var running = jobs.values.joined().filter { $0.started && !$0.exited }.count
        for task in jobs.keys.sorted().flatMap({ jobs[$0] ?? [] }) where !task.started && !task.cancelled && running < maxJobs {
            do { try task.process.run() } catch {
                throw ComputeError("job cannot launch: \(error)")
            }
            task.started = true
            task.watch()
            running += 1
        }
    }

    public func wait(_ id: String, shouldCancel: @Sendable () -> Bool) throws -> [JobResult] {
        guard let tasks = (lock.withLock { jobs[id] }) else { throw ComputeError("no local job \(id)", exitStatus: .badInput) }
        while true {
            if shouldCancel() { try cancel(id) }
            for t in tasks where t.started && !t.exited {
                if let deadline = t.deadline, Date() > deadline {
                    t.timedOut = true
                    kill(t.process.processIdentifier, SIGKILL)
                }
            }
            try schedule()
            if tasks.allSatisfy({ ($0.cancelled && (!$0.started || $0.exited)) || ($0.started && $0.exited) }) { break }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return tasks.map { t in
            if t.cancelled {
                return JobResult(jobID: id, task: t.index, outcome: .cancelled, exitCode: nil, reason: "cancelled", logPath: t.logPath)
            }
            if t.timedOut {
                return JobResult(jobID: id, task: t.index, outcome: .timeout, exitCode: nil, reason: "time limit", logPath: t.logPath)
            }
            let code = t.process.terminationStatus
            let signaled = t.process.terminationReason == .uncaughtSignal
            return JobResult(jobID: id, task: t.index, outcome: code == 0 && !signaled ? .completed : .failed,
                             exitCode: signaled ? nil : code, reason: signaled ? "signal \(code)" : nil, logPath: t.logPath)
        }
    }

    public func cancel(_ id: String) throws {
        for t in lock.withLock({ jobs[id] ?? [] }) {
            t.cancelled = true
            if t.started && !t.exited { kill(t.process.processIdentifier, SIGKILL) }
        }
    }

    public func active(namePrefix: String) throws -> [String] {
        lock.withLock { jobs.filter { $0.value.contains { !$0.cancelled && (!$0.started || !$0.exited) } }.map(\.key).sorted() }
    }
}
