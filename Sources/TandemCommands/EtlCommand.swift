public import ArgumentParser
import Foundation
import TandemCore
import TandemEnvironment
import TandemFeatures
import TandemGit
import TandemLakehouse
import TandemProfiles

/// `tandem etl`: bronze → silver → gold, registering a feature table version.
public struct EtlCommand: StageCommand {
    public static let configuration = CommandConfiguration(
        commandName: "etl",
        _superCommandName: "tandem",
        abstract: "Run the medallion ETL (bronze → silver → gold) and register a feature table version.",
        discussion: """
            Reads INPUT/videos.jsonl and INPUT/judgments.jsonl (the raw format of docs/data-contract.md) and writes, in the \
            environment's features root: bronze (every line as read, idempotent by file digest), silver \
            (canonical, deduplicated, with the quarantine of rejected lines and their reasons) and gold (the \
            features of the feature set, one row per silver judgment), registered as an immutable feature table \
            version such as relevance_v1@3. A run whose gold equals the latest version registers nothing new. A run \
            in which no judgment passes its checks exits 1 with the count per reason and the first rejected lines, and \
            registers nothing: the latest version stays the latest. `tandem features quarantine` lists the rejected \
            lines of the latest silver version, each with what is wrong with it.

            Example:
              tandem etl --env test --input fixtures/sample --json
              tandem etl --env dev --input /data/raw --export-silver out/silver --export-gold out/gold.jsonl

            \(exitCodesHelp)
            """,
        version: TandemVersion.current)

    @OptionGroup var common: CommonOptions

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Folder with videos.jsonl and judgments.jsonl (defaults to the profile's data.sample_input).", valueName: "dir"))
    var input: String?

    @Option(
        name: .long, help: ArgumentHelp("Feature set to build (defaults to the profile's data.feature_set).", valueName: "name"))
    var featureSet: String?

    @Option(
        name: .long,
        help: ArgumentHelp("Also write silver_judgments.jsonl and silver_videos.jsonl to this folder.", valueName: "dir"))
    var exportSilver: String?

    @Option(name: .long, help: ArgumentHelp("Also write the gold rows as JSON lines to this file.", valueName: "file"))
    var exportGold: String?

    public init() {}

    public func run() async throws {
        let context = try StageContext.load(common)
        let setName = featureSet ?? context.profile.data.featureSet
        let view = try context.featureViews().view(setName)
        let inputFolder = input.map { ($0 as NSString).standardizingPath } ?? context.resolve(context.profile.data.sampleInput)
        let store = try context.openFeatureStore(stage: "etl")
        let git = GitInfo.current(at: context.repositoryRoot)
        var pipeline = ETLPipeline(
            store: store,
            options: .init(
                environment: context.profile.name, inputFolder: inputFolder, view: view,
                exportSilver: exportSilver, exportGold: exportGold, codeCommit: git?.commit, codeDirty: git?.dirty))
        let bar = ProgressBar()
        pipeline.progress = { stage, fraction in bar.update(stage, fraction) }
        let report = try pipeline.run()
        bar.finish()
        if common.json {
            try Terminal.printJSON(report)
            return
        }
        for line in RehearsalText.etl(report, features: view.features.count) { print(line) }
    }
}
