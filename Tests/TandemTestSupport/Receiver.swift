import Foundation

/// The Python webhook receiver of Tests/Reference, started on 127.0.0.1 for one test and stopped after it.
public final class Receiver: @unchecked Sendable {
    let process = Process()
    /// The file the receiver appends every request to (one JSON line each).
    public let log: String
    public let port: Int
    public var base: String { "http://127.0.0.1:\(port)" }

    /// The receiver's script, `Tests/Reference/webhook_receiver.py`.
    public static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Reference/webhook_receiver.py").path

    public init(environment: [String: String] = [:], port fixed: Int? = nil) throws {
        log = NSTemporaryDirectory() + "tandem-receiver-\(UUID().uuidString).jsonl"
        FileManager.default.createFile(atPath: log, contents: nil)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Self.script, log]
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        var line = Data()
        while !line.contains(0x0A) {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        port = Int(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    }

    public func stop() {
        // SIGKILL: a process spawned from a dispatch worker thread inherits its blocked signals, SIGTERM included.
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    deinit { stop() }

    /// Every request received so far.
    public func requests() throws -> [[String: Any]] {
        let text = try String(contentsOfFile: log, encoding: .utf8)
        return text.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }
}
