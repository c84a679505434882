public import ArgumentParser
import Foundation
import TandemCore
import TandemEnvironment
import TandemProfiles
import TandemPromotion

/// `tandem local test`: the whole test environment on this machine, with embedded defaults.
public struct LocalCommand: StageCommand {
    public static let configuration = CommandConfiguration(
        commandName: "local",
        _superCommandName: "tandem",
        abstract: "Run an environment's pipeline on this machine, with nothing to install beyond the build.",
        discussion: exitCodesHelp,
        version: TandemVersion.current,
        subcommands: [Test.self])

    public init() {}

    struct Test: StageCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Run the test environment end to end on this machine: ETL, training, registration, integration tests, champion/challenger.",
            discussion: """
                Uses the test and prod profiles with their roots moved under one local folder (.tandem/local by \
                default), never inside a real environment's roots, no reporters, no notifiers and no git remote: \
                the fixtures (the test profile's data.sample_input) through the ETL, a training with the \
                repository's configuration, its registration, the integration tests of the training and inference \
                pipelines, and the champion/challenger evaluation against the local prod (on a first run, the \
                policy's first-release rule). Ends with the decision report and where everything was written. \
                Nothing is committed to git and nothing is promoted.

                Example:
                  tandem local test
                  tandem local test --clean --json

                Exits 0 when the challenger passes, 1 when it does not (or a test fails).

                \(exitCodesHelp)
                """)

        @OptionGroup var common: CommonOptions
        @Flag(help: "Start afresh: remove the local folder first.") var clean = false
        @Option(help: ArgumentHelp("The local folder (relative to the repository root).", valueName: "dir")) var folder: String =
            ".tandem/local"
        @Option(help: ArgumentHelp("The model's config file (default: the config of --model).", valueName: "file"))
        var config: String?
        @Option(help: ArgumentHelp("The model to rehearse (default: the repository's only model).", valueName: "name"))
        var model: String?
        @Option(
            name: .customLong("set"), help: ArgumentHelp("Override a configuration key (repeatable).", valueName: "key=value"))
        var overrides: [String] = []
        @Option(
            help: ArgumentHelp(
                "Where the jobs run (the integration tests): local:// (default) or a slurm:// root, as in slurm://ci?conf=/path/slurm.conf.",
                valueName: "url"))
        var compute: String = "local://"

        func run() async throws {
            let set = try StageContext.loadProfiles(common)
            let computeRoot: RootURL
            do { computeRoot = try RootURL.parse(compute) } catch {
                throw Failure(.invalidInput, "--compute: \(error.description)")
            }
            let rehearsal = try LocalRehearsal(profiles: set, folder: folder, compute: computeRoot, clean: clean)
            let local = rehearsal.folder
            if !common.json { Terminal.note("tandem local test: roots under \(local)") }
            let bar = ProgressBar()
            let config = try self.config ?? rehearsal.test.modelConfig(model, what: "tandem local test").file
            let summary = try rehearsal.run(
                config: config, overrides: overrides,
                progress: { stage, fraction in bar.update(stage, fraction) },
                stageDone: { line in
                    if line.stage == "ETL" { bar.finish() }
                    guard !common.json else { return }
                    Terminal.note(RehearsalText.stageDone(line))
                }, note: { Terminal.note($0) })
            let evaluated = summary.promotion
            if common.json {
                try Terminal.printJSON(summary)
            } else {
                for line in RehearsalText.summary(summary) { print(line) }
            }
            let passed = evaluated.state == .awaitingApproval || evaluated.state == .promoted
            if !passed { throw ExitCode(ExitStatus.verdictNo.rawValue) }
        }
    }
}
