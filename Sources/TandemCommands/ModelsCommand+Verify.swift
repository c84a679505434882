import ArgumentParser
import Foundation
import TandemCore
import TandemEnvironment
import TandemGit
import TandemRegistry

extension ModelsCommand {
    /// What both `verify` and `history` print about the registry's integrity, on lines of their own.
    static func describe(_ integrity: IntegrityReport) -> [String] {
        guard integrity.intact else {
            return (integrity.chainIntact ? [] : ["AUDIT CHAIN BROKEN"]) + integrity.problems.map { "TAMPERED: \($0)" }
        }
        let anchored =
            integrity.newestAnchor.map { "; anchored at entry \($0) by \(integrity.anchors) lock file revision(s)" }
            ?? "; no lock file anchors it yet"
        let others =
            integrity.otherRegistries > 0
            ? " (\(integrity.otherRegistries) other anchor(s) were taken on another registry, such as another machine's)"
            : ""
        return ["audit chain intact (\(integrity.entries) entries); versions and aliases agree with it" + anchored + others]
    }

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
        @Option(help: "The model whose lock file to check.") var model: String = "relevance-ranker"

        struct Report: Encodable {
            var ok: Bool
            var lock: ModelLock?
            var differences: [String]
            var integrity: IntegrityReport
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
            var tampered: [String] = []
            if let v = try RegistryError.unlessNotFound({ try registry.version(.version(lock.model, lock.version)) }) {
                differences += lock.differences(from: v)
                // The stored bytes, hashed again: a flipped byte is tampering, whatever the rows say.
                do {
                    let data = try registry.artifact(digest: v.artifactDigest)
                    if data.count != v.artifactSize {
                        tampered.append(
                            "\(v.reference): the artifact has \(data.count) bytes, the version says \(v.artifactSize)")
                    }
                } catch let e as RegistryError where e.code == .tampered {
                    tampered.append(e.description)
                }
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
            var integrity = try RegistryIntegrity.check(
                registry, anchors: AuditAnchors.collect(context), sameRegistry: context.profile.protected)
            integrity.problems = tampered + integrity.problems
            let report = Report(
                ok: differences.isEmpty && integrity.intact, lock: lock, differences: differences, integrity: integrity)
            if common.json {
                try Terminal.printJSON(report)
            } else {
                if differences.isEmpty {
                    print(
                        "ok: \(relative) and the \(context.profile.name) registry agree on \(lock.model)@\(lock.version) "
                            + "(sha256:\(lock.artifactDigest.prefix(12))…)"
                            + (tampered.isEmpty ? "; the artifact's bytes match" : ""))
                } else {
                    print("\(relative) and the \(context.profile.name) registry disagree:")
                    for d in differences { print("  - \(d)") }
                }
                for line in ModelsCommand.describe(integrity) { print(line) }
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
        @Option(help: "The model.") var model: String = "relevance-ranker"

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
                try Terminal.printJSON(
                    Report(chainIntact: integrity.chainIntact, at: at, aliases: aliases, entries: entries, integrity: integrity))
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
                for line in ModelsCommand.describe(integrity) { print(line) }
            }
            if let error = integrity.error(environment: context.profile.name) { throw error }
        }
    }
}
