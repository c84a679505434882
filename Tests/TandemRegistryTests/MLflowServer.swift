import Foundation
import TandemTestSupport

/// A real MLflow tracking server (SQLite backend, artifacts proxied) on 127.0.0.1, started once for the
/// conformance suite. It needs `mlflow` (installed by .ci/run with pip); `TANDEM_REQUIRE_MLFLOW=1` makes its
/// absence an error instead of leaving the MLflow half of the suite disabled.
final class MLflowServer: @unchecked Sendable {
    let folder = NSTemporaryDirectory() + "tandem-mlflow-\(UUID().uuidString)"
    let process = Process()
    var base = ""
    var artifacts: String { folder + "/artifacts" }

    static let available: Bool = {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", "import mlflow"]
        p.standardError = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return false }
        p.waitUntilExit()
        return p.terminationStatus == 0
    }()

    static let enabled = available || ProcessInfo.processInfo.environment["TANDEM_REQUIRE_MLFLOW"] == "1"

    static let shared: MLflowServer? = try? MLflowServer()

    init() throws {
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
            while kill -0 \(getpid()) 2>/dev/null; do sleep 1; done
            kill -9 -$s

            """,
        ]
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        base = "http://127.0.0.1:\(port)"
        let deadline = Date().addingTimeInterval(90)
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

    deinit { try? FileManager.default.removeItem(atPath: folder) }
}
