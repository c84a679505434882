public import ArgumentParser
import Foundation
import TandemCore
import TandemEnvironment
import TandemHTTP
import TandemProfiles
import TandemPromotion
import TandemWebhooks

/// `tandem promote`: the promotion state machine.
public struct PromoteCommand: StageCommand {
    public static let configuration = CommandConfiguration(
        commandName: "promote",
        _superCommandName: "tandem",
        abstract: "Promote a branch and its model version together from test to prod.",
        discussion: """
            A promotion moves one (branch, model version) pair from an environment (test, whose profile says \
            promotes_to: prod) to its target. `start` records it and advances as far as it can: integration \
            tests of the training and inference pipelines, the champion/challenger evaluation against the \
            target's champion, then it waits for approvals (exit 4). `approve`/`reject` record a release \
            manager's decision, bound to the commit, the model digest and the report digest; `advance` \
            continues. Promoting copies the version into the target registry, merges the branch into the target's \
            production branch, tags it, pushes both atomically, and makes the version champion: both or neither. \
            `recover` finishes or undoes a promotion interrupted while promoting; `rollback --env prod --model NAME` \
            returns that model to its previous pair (undoing its promotion's merge, nothing else); `check --env prod` \
            verifies every model's lane: champion = lock file on the production branch = the promotion that made it.

            Example:
              tandem promote start --env test --branch feature/better-ranker
              tandem promote status --env test p-3f2a…
              TANDEM_ACTOR=alice tandem promote approve --env test p-3f2a… --as alice
              tandem promote rollback --env prod --model relevance-ranker
              tandem promote check --env prod

            \(exitCodesHelp)
            """,
        version: TandemVersion.current,
        subcommands: [
            Start.self, Advance.self, Status.self, List.self, Approve.self, Reject.self, Recover.self, Rollback.self,
            Check.self, IntegrationTestJob.Command.self,
        ])

    public init() {}

    /// The engine for `--env` (a source environment such as test; with `targetGiven`, a target such as prod,
    /// whose source is the environment that promotes to it). See `StageContext.promotionRoute`.
    static func engine(_ common: CommonOptions, targetGiven: Bool = false, needsGate: Bool = true) throws -> PromotionEngine {
        try StageContext.load(common).promotionEngine(targetGiven: targetGiven, needsGate: needsGate) {
            Terminal.note($0)
        }
    }

    /// Who decides: in CI the CI system's record of the reviewer (ApproverIdentity), else TANDEM_ACTOR or the OS user.
    static func establishIdentity(_ engine: PromotionEngine, approving: Bool) async throws {
        let who = try await engine.establishIdentity(approving: approving)
        if who.source.isVerified { Terminal.note("acting as \(who.name) (\(who.source.rawValue))") }
    }

    /// Delivers what the step enqueued, bounded in time, so CI sees statuses promptly.
    static func flush(_ engine: PromotionEngine) async {
        if let pending = await engine.flushOutbox(), pending > 0 {
            Terminal.note(
                "\(pending) notification(s) still pending; `tandem notify flush --env \(engine.context.source.name)` delivers them"
            )
        }
    }

    /// Prints a promotion and exits with its state's status.
    static func finish(_ p: Promotion, engine: PromotionEngine, json: Bool) async throws {
        await flush(engine)
        if json {
            try Terminal.printJSON(p)
        } else {
            print(PromotionText.describe(p, engine: engine))
        }
        let status = p.state.exitStatus
        if status != .done { throw ExitCode(status.rawValue) }
    }

    struct Start: StageCommand {
        static let configuration = CommandConfiguration(
            abstract: "Start a promotion and advance it as far as it goes.", discussion: exitCodesHelp)
        @OptionGroup var common: CommonOptions
        @Option(help: "The branch to promote.") var branch: String
        @Option(
            help: ArgumentHelp(
                "NAME, or NAME@VERSION (default: the one model whose lock file the branch changed, at the version it names).",
                valueName: "model"))
        var model: String?

        func run() async throws {
            let engine = try PromoteCommand.engine(common)
            let reference = try model.flatMap { $0.contains("@") ? try ModelsCommand.parse($0) : nil }
            let started = try engine.start(
                branch: branch, model: model.flatMap { $0.contains("@") ? nil : $0 }, reference: reference)
            let p = try engine.advance(started.id)
            try await PromoteCommand.finish(p, engine: engine, json: common.json)
        }
    }

    struct Advance: StageCommand {
        static let configuration = CommandConfiguration(
            abstract: "Continue a promotion from where it stands.", discussion: exitCodesHelp)
        @OptionGroup var common: CommonOptions
        @Argument(help: "The promotion id (or a unique prefix).") var id: String

        func run() async throws {
            let engine = try PromoteCommand.engine(common)
            try await PromoteCommand.finish(try engine.advance(id), engine: engine, json: common.json)
        }
    }

    struct Status: StageCommand {
        static let configuration = CommandConfiguration(abstract: "Show a promotion.", discussion: exitCodesHelp)
        @OptionGroup var common: CommonOptions
        @Argument(help: "The promotion id (or a unique prefix).") var id: String

        func run() async throws {
            let engine = try PromoteCommand.engine(common, needsGate: false)
            try await PromoteCommand.finish(try engine.context.store.promotion(id), engine: engine, json: common.json)
        }
    }

    struct List: StageCommand {
        static let configuration = CommandConfiguration(abstract: "List promotions, newest first.", discussion: exitCodesHelp)
        @OptionGroup var common: CommonOptions

        func run() throws {
            let engine = try PromoteCommand.engine(common, needsGate: false)
            let all = try engine.context.store.all()
            if common.json { try Terminal.printJSON(all); return }
            for line in PromotionText.list(all) { print(line) }
        }
    }

    struct Approve: StageCommand {
        static let configuration = CommandConfiguration(
            abstract: "Approve a promotion as yourself and advance it.",
            discussion: """
                Who you are is established, not typed: in a GitHub Actions job, the user who approved the deployment \
                to the environment in GitHub's review of this run (never github.actor); in a GitLab manual job, the \
                user who ran it; elsewhere TANDEM_ACTOR, else the OS user (recorded as asserted, which a profile with \
                approvals.require_verified refuses). TANDEM_IDENTITY=github-environment-review|gitlab-manual-job|asserted \
                chooses explicitly.

                \(exitCodesHelp)
                """)
        @OptionGroup var common: CommonOptions
        @Argument(help: "The promotion id.") var id: String
        @Option(name: .customLong("as"), help: "Who you are; must equal your identity.") var identity: String?

        func run() async throws {
            let engine = try PromoteCommand.engine(common)
            try await PromoteCommand.establishIdentity(engine, approving: true)
            try await PromoteCommand.finish(
                try engine.decide(id, approve: true, claimedIdentity: identity, reason: nil), engine: engine, json: common.json)
        }
    }

    struct Reject: StageCommand {
        static let configuration = CommandConfiguration(
            abstract: "Reject a promotion as yourself, with a reason.", discussion: exitCodesHelp)
        @OptionGroup var common: CommonOptions
        @Argument(help: "The promotion id.") var id: String
        @Option(name: .customLong("as"), help: "Who you are; must equal your identity.") var identity: String?
        @Option(help: "Why.") var reason: String

        func run() async throws {
            let engine = try PromoteCommand.engine(common)
            try await PromoteCommand.establishIdentity(engine, approving: false)
            try await PromoteCommand.finish(
                try engine.decide(id, approve: false, claimedIdentity: identity, reason: reason), engine: engine,
                json: common.json)
        }
    }

    struct Recover: StageCommand {
        static let configuration = CommandConfiguration(
            abstract: "Finish or undo promotions interrupted while promoting (all of them when no id is given).",
            discussion: exitCodesHelp)
        @OptionGroup var common: CommonOptions
        @Argument(help: "The promotion id.") var id: String?

        func run() async throws {
            let engine = try PromoteCommand.engine(common)
            let targets = try id.map { [try engine.context.store.promotion($0)] } ?? engine.interrupted()
            var results: [Promotion] = []
            for p in targets { results.append(try engine.recover(p.id)) }
            await PromoteCommand.flush(engine)
            if common.json { try Terminal.printJSON(results); return }
            if results.isEmpty { print("no interrupted promotion") }
            for p in results { print("\(p.id): \(p.state.rawValue)" + (p.reason.map { " — \($0)" } ?? "")) }
        }
    }

    struct Rollback: StageCommand {
        static let configuration = CommandConfiguration(
            abstract: "Return one model of the target (--env prod) to its previous version, undoing its promotion's merge.",
            discussion: """
                Undoes exactly the changes the promotion that made the model's champion merged into the production \
                branch (as `git revert -m 1` would: other models' promotions since stay), publishes that commit with a \
                tag, and makes the version that promotion replaced champion again (docs/models.md). A later commit \
                that changed the same lines makes it refuse with exit 1, naming them, with nothing changed. In a \
                protected environment only one of the model's approvers may roll back, identified as for `approve`.

                \(exitCodesHelp)
                """)
        @OptionGroup var common: CommonOptions
        @Option(help: ArgumentHelp("The model to roll back (default: the repository's only model).", valueName: "name"))
        var model: String?

        func run() async throws {
            let context = try StageContext.load(common)
            let model = try context.modelName(model, what: "the rollback")
            let engine = try PromoteCommand.engine(common, targetGiven: true)
            try await PromoteCommand.establishIdentity(engine, approving: true)
            let result = try engine.rollback(model: model)
            await PromoteCommand.flush(engine)
            if common.json { try Terminal.printJSON(result); return }
            print(
                "rolled back \(engine.context.target.name): \(model)@\(result.from) → \(model)@\(result.to); "
                    + "\(engine.context.target.git.productionBranch) @ \(result.revertCommit.prefix(12)) (tag \(result.tag))")
        }
    }
}
