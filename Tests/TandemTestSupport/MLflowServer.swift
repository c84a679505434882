import Foundation

/// A real MLflow tracking server (SQLite backend, artifacts proxied) on 127.0.0.1, started once for the
/// conformance suite (`shared`), or by a test of its own that stops it (`stop()`). It needs `mlflow` (installed by
/// .ci/run with pip); `TANDEM_REQUIRE_MLFLOW=1` makes its absence an error instead of leaving the MLflow tests
/// disabled.
public final class MLflowServer: @unchecked Sendable {
    public let folder = NSTemporaryDirectory() + "tandem-mlflow-\(UUID().uuidString)"
    let process = Process()
    public private(set) var base = ""
    public var artifacts: String { folder + "/artifacts" }
    /// The server's SQLite backend store (what it holds can be read while the server is stopped).
    public var database: String { folder + "/mlflow.db" }

    public static let available: Bool = {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", "import mlflow"]
        p.standardError = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return false }
        p.waitUntilExit()
        return p.terminationStatus == 0
    }()

    public static let enabled = available || ProcessInfo.processInfo.environment["TANDEM_REQUIRE_MLFLOW"] == "1"

    public static let shared: MLflowServer? = try? MLflowServer()

    public init() throws {
        try FileManager.default.createDirectory(atPath: folder + "/artifacts", withIntermediateDirectories: true)
        let port = unusedLocalPort()
        // A watchdog shell stops the server (and its workers) when this test process ends, however it ends.
        let server = [
            "python3", "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", String(port),
            "--backend-store-uri", "sqlite:///\(folder)/mlflow.db", "--artifacts-destination", folder + "/artifacts",
            "--serve-artifacts", "--workers", "1",
        ].joined(separator: " ")
        // The watchdog runs in a session of its own (`setsid -f`), out of reach of whatever ends this test
        // process's group, and the server in another, so that the watchdog can end all of it.
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setsid")
        process.arguments = [
            "-f", "/bin/sh", "-c",
            """

            setsid \(server) & s=$!
            echo $s > \(folder)/server.pid
            while kill -0 \(getpid()) 2>/dev/null; do sleep 1; done
            kill -9 -$s

            """,
        ]
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        base = "http://127.0.0.1:\(port)"
        // A loaded machine (a parallel test run starting several servers on 2 cores) can take minutes to import MLflow.
        let deadline = Date().addingTimeInterval(240)
        while Date() < deadline {
            let probe = Process()
            probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            probe.arguments = ["curl", "-sf", base + "/health"]
            probe.standardOutput = FileHandle.nullDevice
            probe.standardError = FileHandle.nullDevice
            try probe.run()
            probe.waitUntilExit()
            if probe.terminationStatus == 0 { return }
            Thread.sleep(forTimeInterval: 0.5)
        }
        throw CocoaError(.featureUnsupported, userInfo: [NSLocalizedDescriptionKey: "the MLflow server did not start"])
    }

    /// Stops the server at once (SIGKILL to its process group, workers included) and waits until its port is closed.
    public func stop() {
        if let text = try? String(contentsOfFile: folder + "/server.pid", encoding: .utf8),
            let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
        {
            kill(-pid, SIGKILL)
        }
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            let probe = Process()
            probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            probe.arguments = ["curl", "-s", "-o", "/dev/null", "--max-time", "1", base + "/health"]
            probe.standardOutput = FileHandle.nullDevice
            probe.standardError = FileHandle.nullDevice
            guard (try? probe.run()) != nil else { return }
            probe.waitUntilExit()
            if probe.terminationStatus == 7 { return }  // curl: failed to connect
            Thread.sleep(forTimeInterval: 0.1)
        }
    }

    deinit { try? FileManager.default.removeItem(atPath: folder) }
}
