public import ArgumentParser
import Foundation
import TandemCore
import TandemEnvironment
import TandemFeatures
import TandemLakehouse
import TandemProfiles

/// `tandem features`: the feature store's registered feature table versions and feature definitions.
public struct FeaturesCommand: StageCommand {
    public static let configuration = CommandConfiguration(
        commandName: "features",
        _superCommandName: "tandem",
        abstract: "List, show and compare feature table versions and feature definitions.",
        discussion: """
            Each ETL run registers its gold table as an immutable feature table version (relevance_v1@3) with \
            its schema, row count, content digest and lineage. Models name one feature view or several joined on \
            their keys (features.views), and a version; other models reuse the same features by name. Views are \
            declared in features/*.yaml; `plan` and `apply` record their new versions (docs/features.md).

            Example:
              tandem features list --env test
              tandem features show --env test relevance_v1@2 --json
              tandem features get --env test relevance_v1 --as-of 2026-11-28T12:00:00Z --output train.jsonl
              tandem features diff --env test relevance_v1@1 relevance_v1@2
              tandem features definitions relevance_v1 --env test
              tandem features plan --env test
              tandem features apply --env test

            \(exitCodesHelp)
            """,
        version: TandemVersion.current,
        subcommands: [List.self, Show.self, Get.self, Diff.self, Definitions.self, Plan.self, Apply.self, Quarantine.self])

    public init() {}

    struct List: StageCommand {
        static let configuration = CommandConfiguration(
            abstract: "List feature table versions.",
            discussion: exitCodesHelp)
        @OptionGroup var common: CommonOptions
        @Option(help: "Only this feature set.") var set: String?

        func run() throws {
            let store = try StageContext.load(common).openFeatureStoreForReading()
            let tables = try store.featureTables(set: set)
            if common.json { try Terminal.printJSON(tables); return }
            for line in FeatureText.tables(tables) { print(line) }
        }
    }

    struct Show: StageCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show one feature table version (the latest when no version is given).",
            discussion: exitCodesHelp)
        @OptionGroup var common: CommonOptions
        @Argument(help: "NAME@VERSION, or NAME for the latest.") var reference: String = "relevance_v1"

        func run() throws {
            guard let ref = FeatureTableReference(reference) else {
                throw Failure(
                    .invalidInput, "'\(reference)' is not a feature table reference; write NAME@VERSION such as relevance_v1@3")
            }
            let table = try StageContext.load(common).openFeatureStoreForReading().featureTable(ref)
            if common.json { try Terminal.printJSON(table); return }
            for line in FeatureText.table(table) { print(line) }
        }
    }

    struct Get: StageCommand {
        static let configuration = CommandConfiguration(
            abstract: "Get a feature table as it was at a time (--as-of), or a version; write its rows with --output.",
            discussion: """
                With --as-of T, the latest version of the feature set registered at or before T (to the second): \
                versions are immutable, so this is the training set a training at T read, with the same digest. \
                --output writes its rows as JSON lines, as `tandem etl --export-gold` does.

                \(exitCodesHelp)
                """)
        @OptionGroup var common: CommonOptions
        @Argument(help: "NAME@VERSION, or NAME (the latest, or the one current at --as-of).") var reference: String =
            "relevance_v1"
        @Option(help: ArgumentHelp("A time (RFC 3339): the version current then.", valueName: "time")) var asOf: String?
        @Option(help: ArgumentHelp("Write the table's rows here, as JSON lines.", valueName: "file")) var output: String?

        func run() throws {
            guard let ref = FeatureTableReference(reference) else {
                throw Failure(.invalidInput, "'\(reference)' is not a feature table reference; write NAME or NAME@VERSION")
            }
            if asOf != nil, ref.version != nil {
                throw ValidationError("give a version (\(reference)) or --as-of, not both")
            }
            let store = try StageContext.load(common).openFeatureStoreForReading()
            let table = try asOf.map { try store.featureTable(set: ref.featureSet, asOf: $0) } ?? store.featureTable(ref)
            if let output { try store.exportGold(table, to: output) }
            if common.json { try Terminal.printJSON(table); return }
            for line in FeatureText.table(table) { print(line) }
            if let output { print("  rows     written to \(output)") }
        }
    }

    struct Diff: StageCommand {
        static let configuration = CommandConfiguration(
            abstract: "Compare two feature table versions.",
            discussion: exitCodesHelp)
        @OptionGroup var common: CommonOptions
        @Argument(help: "The first version (NAME@VERSION).") var first: String
        @Argument(help: "The second version (NAME@VERSION).") var second: String

        func run() throws {
            let store = try StageContext.load(common).openFeatureStoreForReading()
            guard let a = FeatureTableReference(first), let b = FeatureTableReference(second) else {
                throw Failure(.invalidInput, "write both versions as NAME@VERSION, such as relevance_v1@1 relevance_v1@2")
            }
            let d = FeatureTableDifference(try store.featureTable(a), try store.featureTable(b))
            if common.json { try Terminal.printJSON(d); return }
            for line in FeatureText.difference(d) { print(line) }
        }
    }

    struct Definitions: StageCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a feature view's features as the repository declares them (features/NAME.yaml).",
            discussion: """
                Compiles the view (refusing a bad definition at FILE:LINE:COLUMN) and prints its columns in order, \
                with the digest of its normal form. With --env, also the versions of the view the environment's \
                feature store has used, each with its digest (docs/features.md, "Versions"). With --env and \
                --version N, what version N computed: its declaration as the store recorded it, compiled again \
                (its digest checked), with its columns and its normal form.

                \(exitCodesHelp)
                """)
        @Argument(help: "The feature view.") var set: String = "relevance_v1"
        @Flag(help: "Print JSON.") var json = false
        @Option(help: ArgumentHelp("The environment whose versions of the view to list.", valueName: "name"))
        var env: String?
        @Option(help: ArgumentHelp("The repository root (as for every stage).", valueName: "dir")) var project: String?
        @Option(help: ArgumentHelp("With --env: show this recorded version instead of the working tree's.", valueName: "n"))
        var version: Int?

        struct Output: Encodable {
            var view: String
            var entity: String
            var owner: String
            var file: String
            var digest: String
            var features: [FeatureDefinition]
            var versions: [FeatureViewVersion]?
            var version: Int?
            var normalized: String?
        }

        func validate() throws {
            if version != nil, env == nil { throw ValidationError("--version reads an environment's feature store: give --env") }
        }

        func run() throws {
            var common = CommonOptions()
            common.project = project
            let root = try StageContext.loadProfiles(common).repositoryRoot
            if let version, let env {
                common.env = env
                let (recorded, view) = try StageContext.load(common).openFeatureStoreForReading().recordedView(
                    set, version: version)
                if json {
                    return try Terminal.printJSON(
                        Output(
                            view: view.name, entity: view.entity.rawValue, owner: view.owner, file: recorded.file,
                            digest: view.digest, features: view.features, version: version, normalized: view.normalizedDefinition)
                    )
                }
                print("\(recorded.reference), recorded \(recorded.createdAt) from \(recorded.file):")
                for line in FeatureText.view(view, versions: []) { print(line) }
                print("  normal form (what sha256:\(recorded.digest.prefix(12))… is of):")
                for line in view.normalizedDefinition.split(separator: "\n") { print("    \(line)") }
                return
            }
            let view = try FeatureViewCatalogue.inWorkingTree(root).view(set)
            var versions: [FeatureViewVersion]?
            if let env {
                common.env = env
                versions = try StageContext.load(common).openFeatureStoreForReading().viewVersions(view.name)
            }
            if json {
                try Terminal.printJSON(
                    Output(
                        view: view.name, entity: view.entity.rawValue, owner: view.owner, file: view.file,
                        digest: view.digest, features: view.features, versions: versions))
                return
            }
            for line in FeatureText.view(view, versions: versions ?? []) { print(line) }
        }
    }

    struct Plan: StageCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show what `features apply` would record: the repository's views against the feature store's versions.",
            discussion: """
                Each view of features/*.yaml is new (+, recorded as version 1), unchanged (=, a version the store \
                holds), changed (~, recorded as the next version; the earlier ones never change) or refused (!, \
                its entity changed). A changed view lists its columns added and removed, the lines of its normal \
                form that differ, and the model versions of the environment that compute an earlier version (they \
                keep doing so: their artifacts carry their feature contract). Exits 1 when something would be \
                recorded or refused, 0 when the store is up to date (as `terraform plan -detailed-exitcode`).

                \(exitCodesHelp)
                """)
        @OptionGroup var common: CommonOptions

        func run() throws {
            let context = try StageContext.load(common)
            let entries = try context.featurePlan(apply: false)
            if common.json {
                try Terminal.printJSON(entries)
            } else {
                for line in FeatureText.plan(entries, environment: context.profile.name, applied: false) { print(line) }
            }
            if entries.contains(where: { $0.action != .unchanged }) { throw ExitCode(ExitStatus.verdictNo.rawValue) }
        }
    }

    struct Apply: StageCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record the repository's new and changed views as new versions in the feature store (never in place).",
            discussion: """
                Records, in one transaction, what `features plan` shows as new or changed; nothing when a view is \
                refused (exit 2, naming it). A recorded version is never changed. The ETL records the versions it \
                builds with as well; apply records them before any table is built, so they can be reviewed.

                \(exitCodesHelp)
                """)
        @OptionGroup var common: CommonOptions

        func run() throws {
            let context = try StageContext.load(common)
            let entries = try context.featurePlan(apply: true)
            if common.json { return try Terminal.printJSON(entries) }
            for line in FeatureText.plan(entries, environment: context.profile.name, applied: true) { print(line) }
        }
    }

    struct Quarantine: StageCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the quarantined lines of the latest silver version.",
            discussion: exitCodesHelp)
        @OptionGroup var common: CommonOptions
        @Option(help: "At most this many lines.") var limit: Int = 50

        func run() throws {
            let store = try StageContext.load(common).openFeatureStoreForReading()
            let lines = try store.quarantinedLines(limit: limit).map(FeatureText.QuarantineLine.init)
            if common.json { try Terminal.printJSON(lines); return }
            for line in FeatureText.quarantine(lines) { print(line) }
        }
    }
}
