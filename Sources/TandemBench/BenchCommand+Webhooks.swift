import ArgumentParser
import Foundation
import TandemCommands
import TandemCore
import TandemHTTP
import TandemPostgres
import TandemWebhooks

extension BenchCommand {
    /// `tandem-bench webhooks`: delivery through the outbox to a local receiver, one connection reused.
    struct Webhooks: StageCommand {
        static let configuration = CommandConfiguration(
            abstract: "Messages/s delivered through the outbox to a receiver on 127.0.0.1 (the tests' Python receiver).")

        @Option(help: "Messages.") var count: Int = 2000
        @Option(help: "Streams (promotions) they belong to.") var streams: Int = 20
        @Option(help: ArgumentHelp("The receiver script.", valueName: "file")) var receiver: String =
            "Tests/Reference/webhook_receiver.py"
        @Option(
            help: ArgumentHelp(
                "A postgres:// state root to run the outbox on (password from its password_env; an empty database, or one "
                    + "whose outbox has nothing pending). Absent: the SQLite outbox in a temporary folder.",
                valueName: "url")) var state: String?
        @Option(help: "Flushers delivering at the same time, each with its own connection (several runners).")
        var flushers: Int = 1
        @Option(
            help: ArgumentHelp(
                "An HTTP receiver already running (such as scripts/fast-receiver, nginx answering 200), instead of the tests' "
                    + "Python receiver, whose own speed bounds the figure.",
                valueName: "base-url")) var url: String?
        @Flag(help: "Print JSON.") var json = false

        func openOutbox(folder: String) throws -> any DeliveryQueue {
            guard let state else { return try Outbox(root: folder) }
            let location: PostgresLocation
            do { location = try PostgresLocation.parse(state) } catch {
                throw Failure(.invalidInput, "--state: \(error.description)")
            }
            return PostgresOutbox(try PostgresState(location, environment: "bench"))
        }

        func run() async throws {
            let folder = NSTemporaryDirectory() + "tandem-bench-outbox-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: folder) }
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let process = Process()
            defer {
                if process.isRunning {
                    kill(process.processIdentifier, SIGKILL)
                    process.waitUntilExit()
                }
            }
            let base: String
            if let url {
                base = url
            } else {
                process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
                process.arguments = ["python3", receiver, folder + "/received.jsonl"]
                let out = Pipe()
                process.standardOutput = out
                try process.run()
                var line = Data()
                while !line.contains(0x0A) {
                    let chunk = out.fileHandleForReading.availableData
                    if chunk.isEmpty { break }
                    line.append(chunk)
                }
                guard let port = Int(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
                else {
                    throw Failure(.failed, "the receiver did not start (python3 \(receiver))")
                }
                base = "http://127.0.0.1:\(port)/ok"
            }
            guard (1...16).contains(flushers) else { throw Failure(.invalidInput, "--flushers is from 1 to 16") }
            let outbox = try openOutbox(folder: folder)
            if let pending = try outbox.counts()["pending"], pending > 0 {
                throw Failure(
                    .invalidInput,
                    "the outbox at \(outbox.location) has \(pending) pending messages; run the benchmark on an empty database")
            }
            let run = UUID().uuidString.prefix(8)
            let body = String(repeating: "x", count: 400)
            try outbox.enqueue(
                (0..<count).map { i in
                    OutboxMessage(
                        stream: "\(run)-p\(i % streams)", destination: "bench", kind: "generic", eventType: "bench",
                        url: "\(base)/\(i % streams)", urlEnv: nil,
                        headers: ["Content-Type": "application/json"],
                        body: "{\"n\":\(i),\"pad\":\"\(body)\"}", createdAt: "t")
                })
            let deliverers = try (0..<flushers).map { n in
                Deliverer(outbox: n == 0 ? outbox : try openOutbox(folder: folder), transport: CurlTransport())
            }
            let start = ContinuousClock.now
            var summary = Deliverer.Summary()
            try await withThrowingTaskGroup(of: Deliverer.Summary.self) { group in
                for d in deliverers { group.addTask { try await d.flush(deadline: 120) } }
                for try await s in group { summary.delivered += s.delivered }
            }
            let d = ContinuousClock.now - start
            let seconds = d.seconds
            struct Result: Encodable {
                var backend: String
                var receiver: String
                var flushers: Int
                var messages: Int
                var delivered: Int
                var seconds: Double
                var perSecond: Double
            }
            let result = Result(
                backend: state == nil ? "sqlite" : "postgres", receiver: url ?? "python", flushers: flushers, messages: count,
                delivered: summary.delivered,
                seconds: seconds, perSecond: Double(summary.delivered) / seconds)
            if json { try Terminal.printJSON(result); return }
            print(
                String(
                    format:
                        "webhooks (%@ outbox, %d flusher(s), receiver %@): %d of %d messages delivered in %.2f s = %.0f messages/s "
                        + "(one keep-alive connection per flusher)",
                    result.backend, flushers, result.receiver, result.delivered, count, seconds, result.perSecond))
        }
    }
}
