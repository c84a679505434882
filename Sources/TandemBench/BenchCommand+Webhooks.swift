import ArgumentParser
import Foundation
import TandemCommands
import TandemCore
import TandemHTTP
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
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let folder = NSTemporaryDirectory() + "tandem-bench-outbox-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: folder) }
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let log = folder + "/received.jsonl"
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", receiver, log]
            let out = Pipe()
            process.standardOutput = out
            try process.run()
            defer {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
            var line = Data()
            while !line.contains(0x0A) {
                let chunk = out.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                line.append(chunk)
            }
            guard let port = Int(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) else {
                throw Failure(.failed, "the receiver did not start (python3 \(receiver))")
            }
            let outbox = try Outbox(root: folder)
            let body = String(repeating: "x", count: 400)
            try outbox.enqueue(
                (0..<count).map { i in
                    OutboxMessage(
                        stream: "p\(i % streams)", destination: "bench", kind: "generic", eventType: "bench",
                        url: "http://127.0.0.1:\(port)/ok/\(i % streams)", urlEnv: nil,
                        headers: ["Content-Type": "application/json"],
                        body: "{\"n\":\(i),\"pad\":\"\(body)\"}", createdAt: "t")
                })
            let deliverer = Deliverer(outbox: outbox, transport: CurlTransport())
            let start = ContinuousClock.now
            let summary = try await deliverer.flush(deadline: 120)
            let d = ContinuousClock.now - start
            let seconds = d.seconds
            struct Result: Encodable { var messages: Int; var delivered: Int; var seconds: Double; var perSecond: Double }
            let result = Result(
                messages: count, delivered: summary.delivered, seconds: seconds, perSecond: Double(summary.delivered) / seconds)
            if json { try Terminal.printJSON(result); return }
            print(
                String(
                    format: "webhooks: %d of %d messages delivered in %.2f s = %.0f messages/s (one keep-alive connection)",
                    result.delivered, count, seconds, result.perSecond))
        }
    }
}
