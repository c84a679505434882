public import ArgumentParser
import Foundation
import TandemCompute
import TandemCore
import TandemEnvironment
import TandemProfiles

/// `tandem jobs` (and `tandem submit`): stage jobs on the environment's compute backend.
public struct JobsCommand: StageCommand {
    public static let configuration = CommandConfiguration(
        commandName: "jobs",
        _superCommandName: "tandem",
        abstract: "Run any stage as a job on the environment's compute backend (local:// or slurm://); list, cancel, recover.",
        discussion: """
            `tandem submit --env ENV -- STAGE ARGS…` (the same as `tandem jobs submit`) runs tandem-STAGE as a job \
            where the profile's roots.compute says: a child process for local://, an sbatch job for slurm://. It \
            follows the job by polling, streams its log, and exits with the stage's own exit code (3 when the job \
            could not launch, timed out, lost its node or was cancelled). Ctrl-C cancels the job. Jobs in flight \
            are journalled in .tandem/jobs/ENV; `recover` stops the jobs a Tandem that died left behind.

            Example:
              tandem submit --env test -- etl
              tandem submit --env test --time 3600 -- train --set training.max_epochs=20
              tandem jobs list --env test
              tandem jobs logs --env test 1234
              tandem jobs recover --env test
              tandem jobs clean --env test --older-than 14

            \(exitCodesHelp)
            """,
        version: TandemVersion.current,
        subcommands: [Submit.self, List.self, Logs.self, Cancel.self, Recover.self, Clean.self])

    public init() {}

    struct Submit: StageCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a stage as a job and follow it to its end.",
            discussion:
                "Arguments after -- are the stage and its own arguments; --env ENV is added when absent.\n\n\(exitCodesHelp)"
        )
        @OptionGroup var common: CommonOptions
        @Option(help: ArgumentHelp("Seconds the job may run (Slurm rounds up to whole minutes).", valueName: "seconds"))
        var time: Int?
        @Option(help: "CPUs the job needs.") var cpus: Int = 1
        @Flag(help: "Do not stream the job's log.") var quiet = false
        @Argument(parsing: .postTerminator, help: ArgumentHelp("The stage and its arguments.", valueName: "stage args"))
        var command: [String] = []

        func validate() throws {
            guard !command.isEmpty else {
                throw ValidationError("name the stage to run after --, as in: tandem submit --env test -- etl")
            }
            if let time, time < 1 { throw ValidationError("--time must be at least 1 second") }
        }

        func run() async throws {
            let context = try StageContext.load(common)
            let stop = StopSignal()
            var id = ""
            let result = try context.runStageJob(
                command, timeLimitSeconds: time, cpus: cpus, streamLog: !quiet && !common.json,
                submitted: { job, backend in
                    id = job
                    Terminal.note("job \(job): tandem-\(command[0]) on \(backend)://, logs in \(context.jobLogs)")
                }, shouldCancel: { stop.isStopped })
            if common.json { try Terminal.printJSON(result) }
            if let failure = result.failure(stage: command[0], job: id) { throw failure }
        }
    }

    struct List: StageCommand {
        static let configuration = CommandConfiguration(
            abstract: "Jobs in flight: the journal of this environment (and, on Slurm, its queued and running tandem jobs).")
        @OptionGroup var common: CommonOptions

        func run() async throws {
            let context = try StageContext.load(common)
            let lines = try context.jobsInFlight()
            if common.json { return try Terminal.printJSON(lines) }
            for line in JobText.inFlight(lines, environment: context.profile.name) { print(line) }
        }
    }

    struct Logs: StageCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a job's log (every task's, in order, for an array), from .tandem/jobs/ENV/logs.",
            discussion: "Exits 2 when no log of that job is there.\n\n\(exitCodesHelp)")
        @OptionGroup var common: CommonOptions
        @Argument(help: "The job id (as `tandem submit`, a sweep or `tandem jobs list` shows it).") var id: String

        func run() async throws {
            let context = try StageContext.load(common)
            let files = JobLogs(folder: context.jobLogs).files(of: id)
            guard !files.isEmpty else {
                throw Failure(
                    .notFound,
                    "no log of job \(id) in \(context.jobLogs); `tandem jobs list --env \(context.profile.name)` shows jobs in flight"
                )
            }
            for file in files {
                if files.count > 1 { print("==> \(file) <==") }
                LogFollower(path: file).drain()
            }
        }
    }

    struct Clean: StageCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove job logs and job scripts older than some days (never those of jobs in flight).",
            discussion: exitCodesHelp)
        @OptionGroup var common: CommonOptions
        @Option(help: ArgumentHelp("Keep what is younger than this many days.", valueName: "days")) var olderThan: Double = 30

        func run() async throws {
            let context = try StageContext.load(common)
            let inFlight = Set(JobJournal(folder: context.jobsFolder).all().map(\.id))
            let removed = try JobLogs(folder: context.jobLogs).clean(olderThan: olderThan * 86_400, keeping: inFlight)
            if common.json { return try Terminal.printJSON(["removed": removed]) }
            print("removed \(removed.count) file(s) older than \(olderThan) days from \(context.jobLogs)")
        }
    }

    struct Cancel: StageCommand {
        static let configuration = CommandConfiguration(abstract: "Cancel a journalled job by id.")
        @OptionGroup var common: CommonOptions
        @Argument(help: "The job id (as `tandem jobs list` shows it).") var id: String

        func run() async throws {
            let context = try StageContext.load(common)
            print("cancelled " + (try context.cancelJob(id)))
        }
    }

    struct Recover: StageCommand {
        static let configuration = CommandConfiguration(
            abstract: "Stop the jobs a Tandem that died left queued or running, and reclaim what killed runs left.",
            discussion: """
                Jobs whose submitting process is alive are left alone. Then, in the environment's roots: staging \
                files and folders whose owning process is gone are removed, and runs still RUNNING whose training \
                process (recorded host, pid and start time) is gone from this host are marked FAILED (killed). \
                With --json: {"jobs": […], "staging": [paths], "runs": [run ids]}.

                \(exitCodesHelp)
                """)
        @OptionGroup var common: CommonOptions

        struct Report: Encodable {
            var jobs: [JobJournal.Recovered]
            var staging: [String]
            var runs: [String]
        }

        func run() async throws {
            let context = try StageContext.load(common)
            let recovered = JobJournal(folder: try context.checkedJobsFolder()).recover()
            let leftovers = try context.recoverLeftovers()
            if common.json {
                try Terminal.printJSON(Report(jobs: recovered, staging: leftovers.staging, runs: leftovers.runs))
            } else {
                if recovered.isEmpty { print("no orphaned jobs for \(context.profile.name)") }
                for r in recovered { print("\(r.id)  \(r.backend)  \(r.name): \(r.action)") }
                if !leftovers.staging.isEmpty {
                    print("removed \(leftovers.staging.count) staging entries left by killed processes")
                }
                for run in leftovers.runs { print("run \(run): FAILED (its process was killed)") }
            }
            if recovered.contains(where: { $0.error != nil }) {
                throw Failure(.failed, "some jobs could not be checked; see above")
            }
        }
    }
}
