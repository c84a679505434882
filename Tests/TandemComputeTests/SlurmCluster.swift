import Foundation

/// A real single-node Slurm cluster (scripts/slurm-up), started once for the backend suite and stopped by a
/// watchdog when the test process ends. Enabled where Slurm is installed, or required by TANDEM_REQUIRE_SLURM=1.
final class SlurmCluster: @unchecked Sendable {
    let folder = NSTemporaryDirectory() + "tandem-slurm-\(UUID().uuidString.prefix(8))"
    var conf: String { folder + "/etc/slurm.conf" }

    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    static let installed = ["slurmctld", "slurmd", "sbatch", "munged"].allSatisfy { tool in
        ["/usr/sbin/", "/usr/bin/"].contains { FileManager.default.isExecutableFile(atPath: $0 + tool) }
    }

    static let enabled = installed || ProcessInfo.processInfo.environment["TANDEM_REQUIRE_SLURM"] == "1"

    static let shared: SlurmCluster? = try? SlurmCluster()

    init() throws {
        let up = Process()
        up.executableURL = URL(fileURLWithPath: Self.repository + "/scripts/slurm-up")
        up.arguments = [folder]
        up.standardOutput = FileHandle.nullDevice
        try up.run()
        up.waitUntilExit()
        guard up.terminationStatus == 0 else { throw CocoaError(.featureUnsupported) }
        let watchdog = Process()
        watchdog.executableURL = URL(fileURLWithPath: "/usr/bin/setsid")
        watchdog.arguments = ["-f", "/bin/sh", "-c", """
            while kill -0 \(getpid()) 2>/dev/null; do sleep 1; done
            \(Self.repository)/scripts/slurm-down \(folder) >/dev/null 2>&1
            rm -rf \(folder)
            """]
        try watchdog.run()
    }
}
