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
        abstract:
            "List the repository's models and their registered versions; show; move aliases; verify lock files; read the audit history.",
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
            abstract: "List the repository's models (models/*.yaml) and, in --env's registry, their versions and aliases.",
            discussion: """
                Every model configured under models/ is listed with its kind, features and owners, then its versions \
                and aliases in the environment's registry; models registered there without a config in this \
                checkout are listed after them. With --json: [{"name", "config", "kind", "feature_set", "features", \
                "team", "versions", "aliases"}].

                \(exitCodesHelp)
                """)
        @OptionGroup var common: CommonOptions

        func run() throws {
            let context = try StageContext.load(common)
            let entries = try context.modelListing()
            if common.json { try Terminal.printJSON(entries); return }
            for line in ModelText.listing(entries, environment: context.profile.name) { print(line) }
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
            for line in ModelText.version(v) { print(line) }
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
            // In a protected environment only an approver moves an alias; the audit log records who.
            let registry = try context.registryForAliasMove(actor: actor)
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
