public import ArgumentParser
import Foundation
import TandemCore
import TandemEnvironment
import TandemGit
import TandemHTTP
import TandemProfiles
import TandemWebhooks

/// `tandem notify`: the environment's webhook outbox.
public struct NotifyCommand: StageCommand {
    public static let configuration = CommandConfiguration(
        commandName: "notify",
        _superCommandName: "tandem",
        abstract: "Deliver the webhook outbox, list undelivered messages, retry dead ones, send a test event.",
        discussion: """
            Every CI status and team notification is stored in the environment's outbox (in its registry root) \
            before any attempt, then delivered with retries and exponential back-off; messages a receiver refuses \
            for good go to the dead letters. Stages flush the outbox on their way out; `flush` delivers what is \
            still due. Secrets come from the variables the profile names and never appear in output; a variable \
            whose value holds a line break or another control character is refused (exit 2) before anything is sent.

            Flushes may run at the same time: each message is claimed for a lease before it is sent \
            (TANDEM_OUTBOX_LEASE_SECONDS, 60 by default), so it is sent once. A flush killed while sending leaves \
            its claim to expire; the next flush then sends the message again, with the same webhook-id.

            Example:
              tandem notify flush --env prod
              tandem notify list --env prod --dead
              tandem notify retry --env prod 6f1c…
              tandem notify test --env prod

            \(exitCodesHelp)
            """,
        version: TandemVersion.current,
        subcommands: [Flush.self, List.self, Retry.self, Test.self])

    public init() {}

    struct Flush: StageCommand {
        static let configuration = CommandConfiguration(
            abstract: "Deliver what is due, waiting at most --wait seconds for retries.",
            discussion: "Exits 3 when messages are still pending afterwards.\n\n\(exitCodesHelp)")
        @OptionGroup var common: CommonOptions
        @Option(help: "Seconds to keep delivering and retrying.") var wait: Double = 10

        func run() async throws {
            let context = try StageContext.load(common)
            try context.refuseUnsafeVariables()
            let outbox = try context.openOutbox()
            let summary = try await context.deliverer(outbox: outbox).flush(deadline: wait)
            if common.json {
                try Terminal.printJSON(summary)
            } else {
                print(
                    "delivered \(summary.delivered), retried \(summary.retried), dead \(summary.dead), still pending \(summary.pending)"
                )
            }
            if summary.pending > 0 { throw ExitCode(ExitStatus.infrastructure.rawValue) }
        }
    }

    struct List: StageCommand {
        static let configuration = CommandConfiguration(
            abstract: "List undelivered messages (pending, or --dead).", discussion: exitCodesHelp)
        @OptionGroup var common: CommonOptions
        @Flag(help: "List the dead letters.") var dead = false
        @Flag(help: "List every message, delivered ones included.") var all = false

        func run() throws {
            let context = try StageContext.load(common)
            let entries = try context.openOutbox().list(state: all ? nil : (dead ? "dead" : "pending"), limit: 1000)
            if common.json { try Terminal.printJSON(entries); return }
            for line in OutboxText.list(entries, dead: dead) { print(line) }
        }
    }

    struct Retry: StageCommand {
        static let configuration = CommandConfiguration(
            abstract: "Put a dead message back in the queue.", discussion: exitCodesHelp)
        @OptionGroup var common: CommonOptions
        @Argument(help: "The message id.") var id: String

        func run() throws {
            try StageContext.load(common).openOutbox().retry(id: id)
            print("\(id) is pending again; `tandem notify flush` delivers it")
        }
    }

    struct Test: StageCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send a test event to every configured endpoint and print each answer.",
            discussion: "Exits 3 when an endpoint did not accept it.\n\n\(exitCodesHelp)")
        @OptionGroup var common: CommonOptions

        func run() async throws {
            let context = try StageContext.load(common)
            let results = try await context.sendTestEvent()
            if results.isEmpty { print("no reporter or notifier is configured for \(context.profile.name)"); return }
            for line in OutboxText.testResults(results) { print(line) }
            if results.contains(where: { $0.delivery.state != "delivered" }) {
                throw ExitCode(ExitStatus.infrastructure.rawValue)
            }
        }
    }
}
