public import ArgumentParser
import Foundation
import TandemCore
import TandemEnvironment
import TandemGit
import TandemProfiles
import TandemRegistry
import TandemStorage

/// `tandem models`: registered models, versions and aliases of an environment.
public struct ModelsCommand: StageCommand {
    public static let configuration = CommandConfiguration(
        commandName: "models",
        _superCommandName: "tandem",
        abstract: "List and show registered models; move aliases; verify the branch's lock file; read the audit history.",
        discussion: """
            Each environment's registry holds registered models with numbered versions (from 1) and aliases \
            (champion, challenger, previous) that point at versions, as in MLflow. Every registration, alias move \
            and copy is appended to a hash-chained audit log.

            Example:
              tandem models list --env test
              tandem models show --env prod relevance-ranker@champion --json
              tandem models alias --env test relevance-ranker challenger 3
              tandem models verify --env test
              tandem models history --env prod --at 2026-11-28T12:00:00Z

            \(exitCodesHelp)
            """,
        version: TandemVersion.current,
        subcommands: [List.self, Show.self, Alias.self, Verify.self, History.self, Copy.self])

    public init() {}

    static func parse(_ text: String) throws -> ModelReference {
        guard let r = ModelReference(text) else {
            throw Failure(
                .invalidInput,
                "'\(text)' is not a model reference; write NAME@VERSION or NAME@ALIAS, such as relevance-ranker@champion")
        }
        return r
    }

    struct List: StageCommand {
        static let configuration = CommandConfiguration(
            abstract: "List registered models with their versions and aliases.", discussion: exitCodesHelp)
        @OptionGroup var common: CommonOptions

        struct Entry: Encodable {
            var name: String
            var versions: [ModelVersion]
            var aliases: [String: Int]
        }

        func run() throws {
            let registry = try StageContext.load(common).openRegistry(writer: nil)
            let entries = try registry.models().map {
                Entry(name: $0, versions: try registry.versions(name: $0), aliases: try registry.aliases(name: $0))
            }
            if common.json { try Terminal.printJSON(entries); return }
            if entries.isEmpty { print("no registered models yet; `tandem train` registers one") }
            for e in entries {
                print("\(e.name): \(e.versions.count) version(s)")
                let byVersion = Dictionary(grouping: e.aliases, by: { $0.value }).mapValues { $0.map(\.key).sorted() }
                for v in e.versions {
                    let aliases = byVersion[v.version].map { "  [" + $0.joined(separator: ", ") + "]" } ?? ""
                    print(
                        "  v\(v.version)  \(v.createdAt)  NDCG@10 " + String(format: "%.4f", v.metrics["ndcg@10"] ?? 0)
                            + "  \(v.featureTable ?? "-")  sha256:\(v.artifactDigest.prefix(12))"
                            + (v.copiedFrom.map { "  from \($0)" } ?? "") + aliases)
                }
            }
        }
    }

    struct Show: StageCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show one version (NAME@VERSION or NAME@ALIAS).", discussion: exitCodesHelp)
        @OptionGroup var common: CommonOptions
        @Argument(help: "NAME@VERSION or NAME@ALIAS.") var reference: String

        func run() throws {
            let registry = try StageContext.load(common).openRegistry(writer: nil)
            let v = try registry.version(try ModelsCommand.parse(reference))
            if common.json { try Terminal.printJSON(v); return }
            print("\(v.reference)  created \(v.createdAt)")
            print("  artifact sha256:\(v.artifactDigest) (\(v.artifactSize) bytes)")
            print("  run      \(v.runID ?? "-")")
            print("  data     \(v.featureTable ?? "-") (\(v.dataDigest.map { String($0.prefix(12)) } ?? "-"))")
            print(
                "  code     \(v.gitCommit.map { String($0.prefix(12)) } ?? "-") on \(v.gitBranch ?? "-")"
                    + (v.gitRemote.map { " (\($0))" } ?? ""))
            if let from = v.copiedFrom { print("  copied from \(from)") }
            for (k, value) in v.metrics.sorted(by: { $0.key < $1.key }) {
                print("  metric   \(k) " + String(format: "%.4f", value))
            }
        }
    }

    struct Alias: StageCommand {
        static let configuration = CommandConfiguration(
            abstract: "Point an alias at a version (it moves if it pointed elsewhere), or delete it.",
            discussion: """
                In a protected environment (prod, as its production branch's profile says) only one of its approvers \
                may move or delete an alias; anyone else is refused (exit 2). The audit log records who did it.

                \(exitCodesHelp)
                """)
        @OptionGroup var common: CommonOptions
        @Argument(help: "The model.") var name: String
        @Argument(help: "The alias (champion, challenger, previous, …).") var alias: String
        @Argument(help: "The version; omit with --delete.") var version: Int?
        @Flag(help: "Delete the alias.") var delete = false

        func validate() throws {
            if delete == (version != nil) { throw ValidationError("give a version to point the alias at, or --delete") }
        }

        func run() throws {
            let context = try StageContext.load(common)
            let actor = Actor.current()
            // In a protected environment (as its production branch says) only an approver moves an alias; the
            // registry's audit log records who.
            let protection = try context.protection()
            if protection.protected {
                guard protection.approvers.contains(actor) else {
                    let list = protection.approvers.isEmpty ? "none listed" : protection.approvers.joined(separator: ", ")
                    throw Failure(
                        .invalidInput,
                        "'\(actor)' is not an approver of \(context.profile.name) (\(protection.file): approvals.approvers: "
                            + "\(list)); only an approver may move or delete an alias of a protected environment "
                            + "(TANDEM_ACTOR, else the OS user, says who you are)")
                }
            }
            let registry = try context.openRegistry(writer: protection.protected ? .promotionEngine : .stage("models"))
            if delete {
                try registry.deleteAlias(name: name, alias: alias, actor: actor)
                print("deleted \(name)@\(alias)")
            } else if let version {
                try registry.setAlias(name: name, alias: alias, version: version, actor: actor)
                print("\(name)@\(alias) → version \(version)")
            }
        }
    }
}
