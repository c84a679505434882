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
            its schema, row count, content digest and lineage. Models name a feature set and version; other \
            models reuse the same features by name.

            Example:
              tandem features list --env test
              tandem features show --env test relevance_v1@2 --json
              tandem features diff --env test relevance_v1@1 relevance_v1@2
              tandem features definitions relevance_v1 --env test

            \(exitCodesHelp)
            """,
        version: TandemVersion.current,
        subcommands: [List.self, Show.self, Diff.self, Definitions.self, Quarantine.self])

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
            if tables.isEmpty { print("no feature table versions yet; run `tandem etl`"); return }
            print("VERSION           ROWS       CREATED               DIGEST        INPUT (judgments)")
            for t in tables {
                print(
                    t.reference.padding(toLength: 17, withPad: " ", startingAt: 0)
                        + String(t.rowCount).padding(toLength: 11, withPad: " ", startingAt: 0)
                        + t.createdAt.padding(toLength: 22, withPad: " ", startingAt: 0)
                        + String(t.digest.prefix(12)) + "  " + String((t.lineage.inputs["judgments.jsonl"] ?? "").prefix(12)))
            }
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
            print("\(table.reference): \(table.rowCount) rows, created \(table.createdAt)")
            print("  digest   \(table.digest)")
            print("  path     \(table.path)")
            print(
                "  lineage  silver v\(table.lineage.silverVersion), bronze files \(table.lineage.bronzeFiles.map(String.init).joined(separator: ", "))"
                    + (table.lineage.codeCommit.map {
                        ", code \($0.prefix(12))\(table.lineage.codeDirty == true ? " (dirty)" : "")"
                    } ?? ""))
            for (name, digest) in table.lineage.inputs.sorted(by: { $0.key < $1.key }) { print("  input    \(name) \(digest)") }
            print("  schema   \(table.schema.count) features: " + table.schema.map(\.name).joined(separator: ", "))
        }
    }

    struct Diff: StageCommand {
        static let configuration = CommandConfiguration(
            abstract: "Compare two feature table versions.",
            discussion: exitCodesHelp)
        @OptionGroup var common: CommonOptions
        @Argument(help: "The first version (NAME@VERSION).") var first: String
        @Argument(help: "The second version (NAME@VERSION).") var second: String

        struct Difference: Encodable {
            var first: String
            var second: String
            var sameContent: Bool
            var rows: [Int]
            var addedFeatures: [String]
            var removedFeatures: [String]
            var changedInputs: [String]
            enum CodingKeys: String, CodingKey {
                case first, second, rows
                case sameContent = "same_content"
                case addedFeatures = "added_features"
                case removedFeatures = "removed_features"
                case changedInputs = "changed_inputs"
            }
        }

        func run() throws {
            let store = try StageContext.load(common).openFeatureStoreForReading()
            guard let a = FeatureTableReference(first), let b = FeatureTableReference(second) else {
                throw Failure(.invalidInput, "write both versions as NAME@VERSION, such as relevance_v1@1 relevance_v1@2")
            }
            let x = try store.featureTable(a), y = try store.featureTable(b)
            let xs = Set(x.schema.map(\.name)), ys = Set(y.schema.map(\.name))
            let inputs = Set(x.lineage.inputs.keys).union(y.lineage.inputs.keys)
                .filter { x.lineage.inputs[$0] != y.lineage.inputs[$0] }.sorted()
            let d = Difference(
                first: x.reference, second: y.reference, sameContent: x.digest == y.digest,
                rows: [x.rowCount, y.rowCount], addedFeatures: y.schema.map(\.name).filter { !xs.contains($0) },
                removedFeatures: x.schema.map(\.name).filter { !ys.contains($0) }, changedInputs: inputs)
            if common.json { try Terminal.printJSON(d); return }
            print("\(x.reference) → \(y.reference): " + (d.sameContent ? "same content" : "content differs"))
            print(
                "  rows     \(x.rowCount) → \(y.rowCount) (\(y.rowCount - x.rowCount >= 0 ? "+" : "")\(y.rowCount - x.rowCount))")
            print("  features +[\(d.addedFeatures.joined(separator: ", "))] −[\(d.removedFeatures.joined(separator: ", "))]")
            print("  inputs   " + (inputs.isEmpty ? "same" : "changed: " + inputs.joined(separator: ", ")))
        }
    }

    struct Definitions: StageCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a feature view's features as the repository declares them (features/NAME.yaml).",
            discussion: """
                Compiles the view (refusing a bad definition at FILE:LINE:COLUMN) and prints its columns in order, \
                with the digest of its normal form. With --env, also the versions of the view the environment's \
                feature store has used, each with its digest (docs/features.md, "Versions").

                \(exitCodesHelp)
                """)
        @Argument(help: "The feature view.") var set: String = "relevance_v1"
        @Flag(help: "Print JSON.") var json = false
        @Option(help: ArgumentHelp("The environment whose versions of the view to list.", valueName: "name"))
        var env: String?
        @Option(help: ArgumentHelp("The repository root (as for every stage).", valueName: "dir")) var project: String?

        struct Output: Encodable {
            var view: String
            var entity: String
            var owner: String
            var file: String
            var digest: String
            var features: [FeatureDefinition]
            var versions: [FeatureViewVersion]?
        }

        func run() throws {
            var common = CommonOptions()
            common.project = project
            let root = try StageContext.loadProfiles(common).repositoryRoot
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
            print(
                "\(view.name) (\(view.file), entity \(view.entity.rawValue), owner \(view.owner)): \(view.features.count) features, "
                    + "definition sha256:\(view.digest.prefix(12))…")
            for (i, f) in view.features.enumerated() {
                print(
                    String(format: "%3d ", i) + f.name.padding(toLength: 22, withPad: " ", startingAt: 0)
                        + "\(f.type.rawValue)  \(f.owner)  \(f.description)")
            }
            for v in versions ?? [] {
                print(
                    "  \(v.reference)  sha256:\(v.digest.prefix(12))…  first used \(v.createdAt)\(v.digest == view.digest ? "  (= the working tree's)" : "")"
                )
            }
        }
    }

    struct Quarantine: StageCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the quarantined lines of the latest silver version.",
            discussion: exitCodesHelp)
        @OptionGroup var common: CommonOptions
        @Option(help: "At most this many lines.") var limit: Int = 50

        /// One quarantined line: its reason code (docs/data-contract.md) and, in words, what is wrong with it.
        struct Line: Encodable { var file: String; var line: Int; var reason: String; var detail: String; var content: String }

        func run() throws {
            let store = try StageContext.load(common).openFeatureStoreForReading()
            let lines = try store.quarantinedLines(limit: limit).map {
                Line(
                    file: $0.file, line: $0.lineNumber, reason: $0.reason.rawValue, detail: $0.detail,
                    content: String(decoding: $0.content, as: UTF8.self))
            }
            if common.json { try Terminal.printJSON(lines); return }
            for l in lines {
                print("\(l.file):\(l.line): \(l.reason)" + (l.detail.isEmpty ? "" : ": \(l.detail)"))
                print("    \(l.content.prefix(120))")
            }
        }
    }
}
