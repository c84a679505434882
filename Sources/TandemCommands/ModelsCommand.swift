import ArgumentParser
import Foundation
import TandemCore
import TandemGit
import TandemRegistry

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
            throw UsageError(
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
            abstract: "Point an alias at a version (it moves if it pointed elsewhere), or delete it.", discussion: exitCodesHelp)
        @OptionGroup var common: CommonOptions
        @Argument(help: "The model.") var name: String
        @Argument(help: "The alias (champion, challenger, previous, …).") var alias: String
        @Argument(help: "The version; omit with --delete.") var version: Int?
        @Flag(help: "Delete the alias.") var delete = false

        func validate() throws {
            if delete == (version != nil) { throw ValidationError("give a version to point the alias at, or --delete") }
        }

        func run() throws {
            let registry = try StageContext.load(common).openRegistry(writer: .stage("models"))
            let actor = Actor.current()
            if delete {
                try registry.deleteAlias(name: name, alias: alias, actor: actor)
                print("deleted \(name)@\(alias)")
            } else if let version {
                try registry.setAlias(name: name, alias: alias, version: version, actor: actor)
                print("\(name)@\(alias) → version \(version)")
            }
        }
    }

    struct Verify: StageCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check that the branch's lock file and the registry agree (CI runs it before any promotion).",
            discussion: "Exits 1 with the differences when they do not.\n\n\(exitCodesHelp)")
        @OptionGroup var common: CommonOptions
        @Option(help: "The model whose lock file to check.") var model: String = "relevance-ranker"

        struct Report: Encodable {
            var ok: Bool
            var lock: ModelLock?
            var differences: [String]
        }

        func run() throws {
            let context = try StageContext.load(common)
            let relative = ModelLock.path(model: model)
            let path = context.resolve(relative)
            let limit = InputLimits.lockFileBytes
            let text: String
            switch BoundedFile.read(path, limit: limit) {
            case .success(let data):
                text = String(decoding: data, as: UTF8.self)
            case .failure(.missing):
                throw UsageError(
                    "\(relative): no lock file on this branch; register a model with `tandem train` first", exitStatus: .verdictNo
                )
            case .failure(.tooLarge):
                throw UsageError(
                    "\(relative): larger than \(BoundedFile.describe(bytes: limit)), so not a lock file (one is under 1 KiB); "
                        + "restore the one `tandem train` wrote")
            case .failure(.notRegularFile):
                throw UsageError("\(relative): not a regular file; restore the lock file `tandem train` wrote")
            case .failure(.unreadable(let reason)):
                throw UsageError("\(relative): cannot be read (\(reason)); check its permissions")
            }
            let lock: ModelLock
            do { lock = try ModelLock.parse(text) } catch {
                throw UsageError("\(relative): not a valid lock file (\(error)); re-register the model", exitStatus: .badInput)
            }
            var differences: [String] = []
            if lock.environment != context.profile.name {
                differences.append("environment: lock \(lock.environment), checked against \(context.profile.name)")
            }
            let registry = try context.openRegistry(writer: nil)
            if let v = try RegistryError.unlessNotFound({ try registry.version(.version(lock.model, lock.version)) }) {
                differences += lock.differences(from: v)
            } else {
                differences.append("version \(lock.model)@\(lock.version) does not exist in the \(context.profile.name) registry")
            }
            let git = Git(folder: context.repositoryRoot)
            if let commit = git.lastCommit(touching: relative) {
                if !git.isAncestor(commit, of: "HEAD") {
                    differences.append("the lock's commit \(commit.prefix(12)) is not an ancestor of HEAD")
                }
                if (git.blobSize(relative, at: commit) ?? 0) > limit {
                    differences.append("the committed lock file is larger than \(BoundedFile.describe(bytes: limit))")
                } else if let committed = git.show(relative, at: commit), (try? ModelLock.parse(committed)) != lock {
                    differences.append("the lock file has uncommitted changes")
                }
            } else {
                differences.append("the lock file is not committed on this branch")
            }
            let report = Report(ok: differences.isEmpty, lock: lock, differences: differences)
            if common.json {
                try Terminal.printJSON(report)
            } else if differences.isEmpty {
                print(
                    "ok: \(relative) and the \(context.profile.name) registry agree on \(lock.model)@\(lock.version) (sha256:\(lock.artifactDigest.prefix(12))…)"
                )
            } else {
                print("\(relative) and the \(context.profile.name) registry disagree:")
                for d in differences { print("  - \(d)") }
            }
            if !differences.isEmpty { throw ExitCode(ExitStatus.verdictNo.rawValue) }
        }
    }

    struct History: StageCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the audit log (checking its hash chain), or which version an alias pointed at, at a time.",
            discussion: "Exits 3 when the chain is broken (an entry was altered, removed or reordered).\n\n\(exitCodesHelp)")
        @OptionGroup var common: CommonOptions
        @Option(help: "A time (RFC 3339, UTC): show what each alias pointed at then.") var at: String?
        @Option(help: "The model.") var model: String = "relevance-ranker"

        struct Report: Encodable {
            var chainIntact: Bool
            var at: String?
            var aliases: [String: Int]?
            var entries: [AuditEntry]

            enum CodingKeys: String, CodingKey {
                case at, aliases, entries
                case chainIntact = "chain_intact"
            }
        }

        func run() throws {
            let registry = try StageContext.load(common).openRegistry(writer: nil)
            let entries = try registry.auditLog()
            let broken = AuditChain.firstBrokenEntry(entries)
            var aliases: [String: Int]?
            if let at {
                guard at.count >= 20, at.hasSuffix("Z") else {
                    throw UsageError("--at takes an RFC 3339 UTC time such as 2026-11-28T12:00:00Z, not '\(at)'")
                }
                let names = Set(
                    entries.filter { $0.action.hasPrefix("alias.") && $0.subject.hasPrefix(model + "@") }
                        .map { String($0.subject.dropFirst(model.count + 1)) })
                aliases = [:]
                for name in names { aliases?[name] = AuditChain.alias(name, of: model, at: at, in: entries) }
            }
            if common.json {
                try Terminal.printJSON(Report(chainIntact: broken == nil, at: at, aliases: aliases, entries: entries))
            } else {
                if let at, let aliases {
                    print("at \(at):")
                    for (name, v) in aliases.sorted(by: { $0.key < $1.key }) { print("  \(model)@\(name) → version \(v)") }
                    if aliases.isEmpty { print("  no aliases of \(model) yet") }
                } else {
                    for e in entries {
                        print(
                            "\(e.sequence)  \(e.at)  \(e.actor)  \(e.action)  \(e.subject)  "
                                + e.detail.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
                    }
                }
                print(
                    broken == nil ? "audit chain intact (\(entries.count) entries)" : "AUDIT CHAIN BROKEN at entry \(broken ?? 0)"
                )
            }
            if let broken {
                throw UsageError(
                    "the audit log was tampered with: entry \(broken) does not match its hash chain", exitStatus: .infrastructure)
            }
        }
    }
}
