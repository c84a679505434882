import ArgumentParser
import Foundation
import TandemCore
import TandemEnvironment
import TandemProfiles
import TandemRegistry
import TandemStorage

extension ModelsCommand {
    /// `tandem models copy`: a version from another environment's registry into this one, keeping its digest and
    /// lineage and recording where it came from. Into a protected environment (prod) only the promotion engine
    /// copies, so this refuses it.
    struct Copy: StageCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy a model version from another environment's registry into --env's, with its artifact and lineage.",
            discussion: """
                Example: tandem models copy --env test --from dev relevance-ranker@4

                The copy gets the next version number in the target, the same artifact digest, and `copied_from` \
                (dev:relevance-ranker@4); the target's audit log records it. Prod is written only by `tandem promote`.

                \(exitCodesHelp)
                """)
        @OptionGroup var common: CommonOptions
        @Option(help: "The environment to copy from.") var from: String
        @Argument(help: "NAME@VERSION or NAME@ALIAS in the source environment.") var reference: String

        func run() throws {
            let target = try StageContext.load(common)
            guard from != target.profile.name else {
                throw Failure(.invalidInput, "--from and --env name the same environment; copy between two")
            }
            let source = try StageContext.load(common, environment: from)
            let sourceRegistry = try source.openRegistry(writer: nil)
            let targetRegistry = try target.openRegistry(writer: .stage("models"))
            let version = try sourceRegistry.version(try ModelsCommand.parse(reference))
            let created = try VersionCopy.copy(
                version, from: sourceRegistry, origin: "\(from):\(version.reference)", into: targetRegistry,
                actor: Actor.current(), reuse: false)
            if common.json { try Terminal.printJSON(created); return }
            print(
                "\(from):\(version.reference) → \(target.profile.name):\(created.reference) (sha256:\(created.artifactDigest.prefix(12))…)"
            )
        }
    }
}
