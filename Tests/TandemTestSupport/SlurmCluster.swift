import Foundation
public import TandemCore

/// A real single-node Slurm cluster (scripts/slurm-up, on free ports in a temporary folder), started once for the
/// backend suite and stopped by a watchdog when the test process ends. The Slurm half of the suite runs where
/// Slurm is installed; TANDEM_REQUIRE_SLURM=1 (CI) makes a missing or failed cluster an error, not a skip.
public final class SlurmCluster: Sendable {
    public let folder = NSTemporaryDirectory() + "tandem-slurm-\(UUID().uuidString.prefix(8))"
    public var conf: String { folder + "/etc/slurm.conf" }

    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    /// A compute root for profiles: this cluster.
    public var computeRoot: String { "slurm://tandem?conf=" + conf }

    public static let installed = ["slurmctld", "slurmd", "sbatch", "munged"].allSatisfy { tool in
        ["/usr/sbin/", "/usr/bin/"].contains { FileManager.default.isExecutableFile(atPath: $0 + tool) }
    }

    public static let required = ProcessInfo.processInfo.environment["TANDEM_REQUIRE_SLURM"] == "1"
    /// Where Slurm is installed and we are root (the cluster runs its daemons as root, as scripts/slurm-up writes
    /// it), or when CI requires it; TANDEM_TEST_NO_SLURM=1 turns the Slurm half off.
    public static let enabled =
        ((installed && getuid() == 0) || required) && ProcessInfo.processInfo.environment["TANDEM_TEST_NO_SLURM"] != "1"

    /// The cluster, or why it could not start.
    public static let shared: Result<SlurmCluster, ChildProcessError> = {
        do { return .success(try SlurmCluster()) } catch let e as ChildProcessError { return .failure(e) } catch {
            return .failure(ChildProcessError(description: "\(error)"))
        }
    }()

    /// Starts a cluster of its own (the suites share `shared`; a test that breaks its cluster starts one).
    public init() throws {
        // The watchdog first, so that even a start that fails half-way is cleaned up.
        try cleanUpWhenThisProcessEnds("\(Self.repository)/scripts/slurm-down \(folder) >/dev/null 2>&1; rm -rf \(folder)")
        // Output to a file, not a pipe: the daemons it starts could hold a pipe open for ever.
        let log = folder + ".up.log"
        let up = try ChildProcess.spawn(
            executable: Self.repository + "/scripts/slurm-up", arguments: [folder], stdout: .file(log, append: false),
            stderr: .standardOutput
        ).wait()
        guard up.succeeded else {
            throw ChildProcessError(
                description: "scripts/slurm-up failed: " + ((try? String(contentsOfFile: log, encoding: .utf8)) ?? ""))
        }
    }

    /// Stops the cluster now (the watchdog would when the process ends).
    public func stop() {
        _ = try? ChildProcess.spawn(
            executable: Self.repository + "/scripts/slurm-down", arguments: [folder], stdout: .null, stderr: .null
        ).wait()
    }
}
