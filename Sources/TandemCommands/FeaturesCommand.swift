public import ArgumentParser
import Foundation
import TandemCore
import TandemEnvironment
import TandemFeatures
import TandemLakehouse

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
              tandem features definitions relevance_v1

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
            abstract: "Show the feature definitions of a feature set (defined in code).",
            discussion: exitCodesHelp)
        @Argument(help: "The feature set.") var set: String = "relevance_v1"
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            guard let fs = FeatureSet.all[set] else { throw FeatureStoreError.unknownFeatureSet(set) }
            if json { try Terminal.printJSON(fs); return }
            print("\(fs.name) (version \(fs.version)): \(fs.features.count) features")
            for (i, f) in fs.features.enumerated() {
                print(
                    String(format: "%3d ", i) + f.name.padding(toLength: 22, withPad: " ", startingAt: 0)
                        + "\(f.type.rawValue)  v\(f.version)  \(f.owner)  \(f.description)")
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
