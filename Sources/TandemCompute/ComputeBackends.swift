import Foundation
public import TandemCore

/// The one place a `compute` root becomes a backend: `local://` child processes or `slurm://` jobs.
public enum ComputeBackends {
    /// The backend of a compute root; `resolve` turns a repository-relative path (a Slurm `conf`) into an absolute one.
    ///
    /// - Throws: `Failure` (exit 2) for a root that is not a compute root.
    public static func make(_ root: RootURL, file: String, resolve: (String) -> String) throws -> any ComputeBackend {
        switch root {
        case .local(let options):
            return LocalBackend(maxJobs: options["max_jobs"].flatMap(Int.init) ?? ProcessInfo.processInfo.activeProcessorCount)
        case .slurm:
            return try slurm(root, resolve: resolve)
        default:
            throw Failure(.invalidInput, "\(file): roots.compute is \(root); compute roots are local:// or slurm://")
        }
    }

    /// The Slurm backend of a `slurm://` root (its `conf` resolved), for what only Slurm does (ping, its queue).
    public static func slurm(_ root: RootURL, resolve: (String) -> String) throws -> SlurmBackend {
        guard case .slurm(_, var options) = root else {
            throw Failure(.invalidInput, "\(root) is not a slurm:// root")
        }
        if let conf = options["conf"] { options["conf"] = resolve(conf) }
        return SlurmBackend(options: options)
    }
}
