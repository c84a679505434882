import ArgumentParser
import Foundation
import TandemCore
import TandemEnvironment
import TandemProfiles
import TandemRegistry

extension ModelsCommand {
    struct Verify: StageCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the branch's lock file against the registry, the artifact's bytes and the audit chain (CI runs it).",
            discussion: """
                Checks that the lock file names this environment, is committed on the branch and agrees with the \
                registry's version; that the version's stored artifact still hashes to its digest; that the registry's \
                versions and aliases are what its audit chain says; and that the chain still holds the heads recorded \
                in the lock files committed on this branch and on the production branch.

                Exits 1 with the differences when the lock file and the registry disagree, 3 when the registry was \
                tampered with (naming what differs).

                \(exitCodesHelp)
                """)
        @OptionGroup var common: CommonOptions
        @Option(
            help: ArgumentHelp(
                "The model whose lock file to check (default: the one whose lock file the branch changed, else the only model).",
                valueName: "name"))
        var model: String?

        func run() throws {
            let context = try StageContext.load(common)
            let model = try context.modelName(model, what: "models verify")
            let report = try LockVerification.verify(model: model, in: context)
            let (lock, differences, integrity) = (report.lock, report.differences, report.integrity)
            let relative = ModelLock.path(model: model)
            if common.json {
                try Terminal.printJSON(report)
            } else {
                if differences.isEmpty {
                    print(
                        "ok: \(relative) and the \(context.profile.name) registry agree on \(lock.model)@\(lock.version) "
                            + "(sha256:\(lock.artifactDigest.prefix(12))…)"
                            + (report.artifactTampered ? "" : "; the artifact's bytes match"))
                } else {
                    print("\(relative) and the \(context.profile.name) registry disagree:")
                    for d in differences { print("  - \(d)") }
                }
                for line in IntegrityText.lines(integrity) { print(line) }
            }
            if let error = integrity.error(environment: context.profile.name) { throw error }
            if !differences.isEmpty { throw ExitCode(ExitStatus.verdictNo.rawValue) }
        }
    }

    struct History: StageCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the audit log (checking it), or which version an alias pointed at, at a time.",
            discussion: """
                Checks the hash chain, that the registry's versions and aliases are what the chain says, and that the \
                chain still holds the heads recorded in the lock files committed on this branch and on the production \
                branch (so entries deleted from its end are detected up to the newest of them).

                Exits 3 when the registry was tampered with: an entry altered, removed or reordered, a row that differs \
                from the chain, or a chain cut short.

                \(exitCodesHelp)
                """)
        @OptionGroup var common: CommonOptions
        @Option(help: "A time (RFC 3339, UTC): show what each alias pointed at then.") var at: String?
        @Option(help: ArgumentHelp("The model, for --at (default: the repository's only model).", valueName: "name"))
        var model: String?

        struct Report: Encodable {
            var chainIntact: Bool
            var at: String?
            var aliases: [String: Int]?
            var entries: [AuditEntry]
            var integrity: IntegrityReport

            enum CodingKeys: String, CodingKey {
                case at, aliases, entries, integrity
                case chainIntact = "chain_intact"
            }
        }

        func run() throws {
            let context = try StageContext.load(common)
            let registry = try context.openRegistry(writer: nil)
            let entries = try registry.auditLog()
            let integrity = try RegistryIntegrity.check(
                registry, anchors: AuditAnchors.collect(context), sameRegistry: context.profile.protected)
            var aliases: [String: Int]?
            if let at {
                let model = try context.modelName(model, what: "models history --at")
                guard at.count >= 20, at.hasSuffix("Z") else {
                    throw Failure(.invalidInput, "--at takes an RFC 3339 UTC time such as 2026-11-28T12:00:00Z, not '\(at)'")
                }
                aliases = AuditChain.aliases(of: model, at: at, in: entries)
            }
            if common.json {
                try Terminal.printJSON(
                    Report(chainIntact: integrity.chainIntact, at: at, aliases: aliases, entries: entries, integrity: integrity))
            } else {
                if let at, let aliases {
                    let model = try context.modelName(model, what: "models history --at")
                    for line in ModelText.aliases(aliases, of: model, at: at) { print(line) }
                } else {
                    for line in ModelText.history(entries) { print(line) }
                }
                for line in IntegrityText.lines(integrity) { print(line) }
            }
            if let error = integrity.error(environment: context.profile.name) { throw error }
        }
    }
}
