import Foundation
public import TandemCompute
import TandemCore
import TandemDispatch
import TandemProfiles
import TandemStorage

extension StageContext {
    /// This environment's job folder on this machine: the journal of jobs in flight and their logs
    /// (`.tandem/jobs/ENV` in the repository; with Slurm the repository must be on storage the nodes share).
    public var jobsFolder: String { resolve(".tandem/jobs/\(profile.name)") }

    /// The job folder, checked to stay inside the repository: no link on the way (`.tandem`, `jobs`, `ENV`) leads
    /// into another environment's journal.
    public func checkedJobsFolder() throws -> String {
        // Built component by component: a resolved path would already have followed the links this looks for.
        let logs = (repositoryRoot as NSString).appendingPathComponent(".tandem/jobs/\(profile.name)/logs")
        try RootGuard.contained(logs, in: repositoryRoot)
        return jobsFolder
    }

    /// The compute backend of the profile's `compute` root, with this environment's journal.
    public func openCompute() throws -> JobRunner {
        _ = try checkedJobsFolder()
        let backend = try ComputeBackends.make(profile.roots.compute, file: profile.file) { resolve($0) }
        return JobRunner(
            backend: backend, journal: JobJournal(folder: jobsFolder), environment: profile.name)
    }

    /// The Slurm controller of a `slurm://` compute root, for what only Slurm does (its queue, ids it knows).
    public func slurm() throws -> SlurmBackend {
        _ = try checkedJobsFolder()
        return try ComputeBackends.slurm(profile.roots.compute) { resolve($0) }
    }

    /// The log folder for jobs of this environment.
    public var jobLogs: String { (jobsFolder as NSString).appendingPathComponent("logs") }

    /// A stage binary beside this one (the one a job runs).
    public static func stageExecutable(_ stage: String) -> String {
        return (UmbrellaCommand.ownFolder() as NSString).appendingPathComponent("tandem-\(stage)")
    }

    /// A job that runs a stage (`command`: the stage and its arguments) in this environment: `tandem-STAGE` found
    /// as the umbrella finds it, with `--env` and `--project` added when absent, logging into the job folder.
    public func stageJob(_ command: [String], timeLimitSeconds: Int?, cpus: Int) throws -> ComputeJob {
        let stage = command[0]
        let resolver = StageResolver(
            ownFolder: UmbrellaCommand.ownFolder(), path: ProcessInfo.processInfo.environment["PATH"],
            isExecutable: { access($0, X_OK) == 0 && !UmbrellaCommand.isDirectory($0) })
        let executable: String
        switch resolver.resolve(stage) {
        case .success(let path): executable = path
        case .failure(let failure): throw Failure(.invalidInput, failure.description)
        }
        var arguments = Array(command.dropFirst())
        if !arguments.contains(where: { $0 == "--env" || $0.hasPrefix("--env=") }) {
            arguments += ["--env", profile.name]
        }
        if !arguments.contains(where: { $0 == "--project" || $0.hasPrefix("--project=") }) {
            arguments += ["--project", repositoryRoot]
        }
        return ComputeJob(
            name: stage, executable: executable, arguments: arguments,
            workingDirectory: FileManager.default.currentDirectoryPath, logDirectory: jobLogs,
            timeLimitSeconds: timeLimitSeconds, cpus: cpus)
    }
}
