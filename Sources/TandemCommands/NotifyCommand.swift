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
            if entries.isEmpty { print(dead ? "no dead letters" : "nothing pending") }
            let now = Date().timeIntervalSince1970
            for e in entries {
                let inFlight = e.delivery.claimedUntil.flatMap { until in
                    until >= now ? "  being sent by \(e.delivery.claimedBy ?? "?") (claim ends in \(Int(until - now)) s)" : nil
                }
                print(
                    "\(e.message.id)  \(e.delivery.state)  \(e.message.destination)  \(e.message.eventType)  attempts \(e.delivery.attempts)"
                        + (e.delivery.lastStatus.map { "  HTTP \($0)" } ?? "") + (e.delivery.lastError.map { "  \($0)" } ?? "")
                        + (inFlight ?? ""))
            }
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
            try context.refuseUnsafeVariables()
            let outbox = try context.openOutbox()
            let git = GitInfo.current(at: context.repositoryRoot)
            let id = "test-" + UUID().uuidString.lowercased().prefix(8)
            let event = WebhookEvent(
                type: "tandem.test", promotionID: String(id), environment: context.profile.name, state: "test",
                commit: git?.commit ?? String(repeating: "0", count: 40), branch: git?.branch ?? "-", model: "tandem",
                modelVersion: nil, reportDigest: nil, summary: "a test event from tandem notify test", link: nil,
                time: Timestamp.now())
            let messages = MessageFactory.messages(for: event, profile: context.profile, now: Timestamp.nowMillis())
            if messages.isEmpty { print("no reporter or notifier is configured for \(context.profile.name)"); return }
            try outbox.enqueue(messages)
            var policy = RetryPolicy.fromEnvironment()
            policy.maxAttempts = 1
            let deliverer = Deliverer(
                outbox: outbox, transport: CurlTransport(), policy: policy,
                secretVariables: context.profile.secretVariables.map(\.variable))
            _ = try await deliverer.flush(deadline: 15)
            let ids = Set(messages.map(\.id))
            let results = try outbox.list(state: nil, limit: 10_000).filter { ids.contains($0.message.id) }
            var failed = false
            for r in results {
                let ok = r.delivery.state == "delivered"
                failed = failed || !ok
                print(
                    "\(ok ? "ok  " : "FAIL") \(r.message.destination) (\(r.message.kind)): "
                        + (r.delivery.lastStatus.map { "HTTP \($0)" } ?? "no answer")
                        + (r.delivery.lastError.map { " — \($0)" } ?? ""))
            }
            if failed { throw ExitCode(ExitStatus.infrastructure.rawValue) }
        }
    }
}
