import Foundation
import Testing

/// Runs the built stage binaries as a user or CI would, and captures what they print.
struct Run {
    var status: Int32
    var stdout: String
    var stderr: String
}

enum Binaries {
    /// The folder holding the built executables (beside the test bundle).
    static let folder: String = {
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        for _ in 0..<4 {
            url = url.deletingLastPathComponent()
            if FileManager.default.isExecutableFile(atPath: url.appendingPathComponent("tandem-env").path) { return url.path }
        }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug").path
    }()

    /// The repository this test file belongs to.
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    static func run(
        _ executable: String, _ arguments: [String], in directory: String? = nil,
        environment extra: [String: String] = [:], removing: [String] = []
    ) throws -> Run {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable.hasPrefix("/") ? executable : folder + "/" + executable)
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["TANDEM_ENV"] = nil
        environment["TANDEM_PROJECT"] = nil
        for key in removing { environment[key] = nil }
        for (k, v) in extra { environment[k] = v }
        process.environment = environment
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(
            status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData, as: UTF8.self))
    }
}

/// A scratch repository: the project's environments and sample fixtures, copied into a temporary folder.
struct ScratchRepository {
    var root: String

    init(withFixtures: Bool = true) throws {
        root = NSTemporaryDirectory() + "tandem-e2e-\(UUID().uuidString)"
        let fm = FileManager.default
        try fm.createDirectory(atPath: root, withIntermediateDirectories: true)
        try fm.copyItem(atPath: Binaries.repository + "/environments", toPath: root + "/environments")
        if withFixtures {
            try fm.createDirectory(atPath: root + "/fixtures", withIntermediateDirectories: true)
            try fm.copyItem(atPath: Binaries.repository + "/fixtures/sample", toPath: root + "/fixtures/sample")
        }
    }

    func write(_ relative: String, _ text: String) throws {
        let path = root + "/" + relative
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:], removing: [String] = []) throws
        -> Run
    {
        try Binaries.run(executable, arguments, in: root, environment: environment, removing: removing)
    }

    func remove() { try? FileManager.default.removeItem(atPath: root) }
}

/// Parses a JSON document printed by a stage.
func json(_ text: String) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
}
