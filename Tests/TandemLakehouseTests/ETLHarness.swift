import Foundation
import TandemStorage

@testable import TandemFeatures
@testable import TandemLakehouse

/// Runs the ETL on hand-written input in a fresh temporary features root.
struct ETLHarness {
    let folder: String
    let input: String
    let root: String

    init(videos: [String], judgments: [String], trailingNewline: Bool = true) throws {
        folder = NSTemporaryDirectory() + "tandem-etl-\(UUID().uuidString)"
        input = folder + "/input"
        root = folder + "/features"
        try FileManager.default.createDirectory(atPath: input, withIntermediateDirectories: true)
        try write(videos: videos, judgments: judgments, trailingNewline: trailingNewline)
    }

    func write(videos: [String], judgments: [String], trailingNewline: Bool = true) throws {
        let end = trailingNewline ? "\n" : ""
        try (videos.joined(separator: "\n") + end).write(toFile: input + "/videos.jsonl", atomically: true, encoding: .utf8)
        try (judgments.joined(separator: "\n") + end).write(toFile: input + "/judgments.jsonl", atomically: true, encoding: .utf8)
    }

    func store() throws -> FeatureStore {
        try RootGuard.claim(path: root, environment: "test", role: .features, writer: .stage("etl"))
        return try FeatureStore(root: root)
    }

    func run(exportSilver: Bool = false, exportGold: Bool = false) throws -> ETLReport {
        try ETLPipeline(
            store: try store(),
            options: .init(
                environment: "test", inputFolder: input, exportSilver: exportSilver ? folder + "/silver" : nil,
                exportGold: exportGold ? folder + "/gold.jsonl" : nil)
        ).run()
    }

    func exported(_ name: String) throws -> [[String: Any]] {
        let text = try String(contentsOfFile: folder + "/" + name, encoding: .utf8)
        return try text.split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] ?? [:]
        }
    }

    func remove() { try? FileManager.default.removeItem(atPath: folder) }

    static func video(
        _ id: String, title: String = "Python Tutorial", description: String = "learn python fast",
        channel: String = "Py Channel", duration: Int = 300, views: Int = 1000,
        published: String = "2024-01-01T00:00:00Z", url: String? = nil
    ) -> String {
        let u = url ?? "https://www.vid.example/watch?v=\(id)"
        return "{\"url\": \"\(u)\", \"title\": \"\(title)\", \"description\": \"\(description)\", \"channel\": \"\(channel)\", "
            + "\"duration_s\": \(duration), \"views\": \(views), \"published\": \"\(published)\"}"
    }

    static func judgment(_ query: String, _ url: String, label: String = "2", at: String = "2024-06-01T00:00:00Z") -> String {
        "{\"query\": \"\(query)\", \"video_url\": \"\(url)\", \"label\": \(label), \"judged_at\": \"\(at)\"}"
    }
}
