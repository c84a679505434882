public import ArgumentParser
import Foundation
import TandemCore
import TandemEnvironment
import TandemFeatures
import TandemLearning
import TandemPipeline
import TandemProfiles

/// `tandem train`: trains the ranker, tracks the run, registers the model version.
public struct TrainCommand: StageCommand {
    public static let configuration = CommandConfiguration(
        commandName: "train",
        _superCommandName: "tandem",
        abstract: "Train the relevance ranker on the environment's latest gold features, track the run and register the version.",
        discussion: """
            Reads the model's config (--config FILE, or the models/*.yaml of --model NAME; docs/models.md), trains on the feature table it \
            names (the latest by default), validating on queries chosen by hash (docs/data-contract.md), and records a run with \
            its parameters, per-epoch metrics, artifact, git commit and branch, feature table and data digest. \
            Unless --no-register is given, the best model is registered as the next version of its model, and, \
            on a git branch, models/NAME.lock.json is written and committed so the code and the model travel together.

            Modes: batch (the default when stdout is not a terminal: CI), interactive (--interactive, or whenever \
            stdout is a terminal: a live view; Ctrl-C stops and keeps the best model so far), and sweep \
            (--sweep FILE: grid or random search, trials run in parallel as child runs, best trial reported).

            The same data, configuration, seed and thread count give a byte-identical artifact.

            Example:
              tandem train --env test --json
              tandem train --env dev --interactive --set training.learning_rate=0.003
              tandem train --env dev --sweep models/sweep.yaml

            \(exitCodesHelp)
            """,
        version: TandemVersion.current)

    @OptionGroup var common: CommonOptions

    @Option(name: .long, help: ArgumentHelp("The model's config file (default: the config of --model).", valueName: "file"))
    var config: String?

    @Option(
        help: ArgumentHelp(
            "The model to train (default: the one whose lock file the branch changed, else the repository's only model).",
            valueName: "name"))
    var model: String?

    @Option(name: .customLong("set"), help: ArgumentHelp("Override a configuration key (repeatable).", valueName: "key=value"))
    var overrides: [String] = []

    @Flag(help: "Show the live view even when stdout is not a terminal.") var interactive = false
    @Flag(help: "Never show the live view.") var batch = false
    @Option(help: ArgumentHelp("Run a hyper-parameter sweep described in this file.", valueName: "file")) var sweep: String?
    @Option(
        help: ArgumentHelp(
            "Train on the feature table as it was at this time (RFC 3339): the latest version registered by then.",
            valueName: "time"))
    var asOf: String?
    @Flag(help: "Track the run but do not register a model version.") var noRegister = false
    @Flag(help: "Register the version but do not write and commit the lock file.") var noLock = false
    @Option(help: .hidden) var parentRun: String?
    /// A sweep's array task: the plan file; the trial is the plan's entry at TANDEM_ARRAY_INDEX.
    @Option(help: .hidden) var sweepPlan: String?

    public init() {}

    public func validate() throws {
        if interactive && batch { throw ValidationError("--interactive and --batch exclude each other; give one") }
        if sweep != nil && parentRun != nil { throw ValidationError("a sweep trial cannot run a sweep itself") }
    }

    public func run() async throws {
        let context = try StageContext.load(common)
        let config = try self.config ?? context.modelConfig(model, what: "tandem train").file
        let configPath = context.repositoryPath(config)
        var overrides = overrides
        var parentRun = parentRun
        var trialIndex: Int?
        if let sweepPlan {
            let (plan, index) = try SweepPlan.trial(plan: sweepPlan)
            overrides = plan.overrides[index]
            parentRun = plan.parentRun
            trialIndex = index
        }
        if let asOf {
            let configured = try TrainingConfig.load(path: configPath, displayName: config, overrides: overrides)
            let (table, pin) = try context.tableAsOf(asOf, config: configured)
            overrides.append(pin)
            if !common.json { Terminal.note("as of \(asOf): \(table.reference), registered \(table.createdAt)") }
        }
        let trainingConfig = try TrainingConfig.load(path: configPath, displayName: config, overrides: overrides)
        if let sweep {
            let spec = try SweepSpec.load(path: context.repositoryPath(sweep), displayName: sweep)
            let report = try SweepRunner(
                context: context, configArgument: config, baseOverrides: overrides, spec: spec,
                say: common.json ? nil : { print($0) }
            ).run()
            try SweepView.show(report, spec: spec, context: context, json: common.json)
            return
        }
        let live = !batch && !common.json && (interactive || Terminal.stdoutIsTerminal)
        let view = live ? LiveTrainingView(maxEpochs: trainingConfig.maxEpochs) : nil
        let stop = StopSignal()
        var session = TrainingSession(environment: context.trainingEnvironment(), config: trainingConfig)
        session.parentRun = parentRun
        session.register = !noRegister && sweepPlan == nil
        session.writeLock = !noLock
        let quiet = common.json || parentRun != nil
        session.observe = { event in
            if let view {
                view.handle(event)
            } else if !quiet, case .epoch(let r, let best) = event {
                print(TrainingText.epoch(r, best: best))
            }
        }
        session.shouldStop = { stop.isStopped }
        let result = try session.run()
        if let sweepPlan, let trialIndex {
            print(TrainingText.trial(trialIndex, result))
            try SweepPlan.write(result, plan: sweepPlan, index: trialIndex)
            return
        }
        if common.json { return try Terminal.printJSON(result) }
        for line in TrainingText.result(result) { print(line) }
    }
}
