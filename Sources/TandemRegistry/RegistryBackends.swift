import Foundation
public import TandemCore

/// The one place a `registry` root becomes a registry: `file://` → SQLite (with its artifact store),
/// `mlflow+http(s)://` → an MLflow tracking server.
public enum RegistryBackends {
    /// The registry of `root`; `folder` is the absolute path of a `file://` root (checked by the caller's root guard).
    ///
    /// - Throws: `Failure` (exit 2) for a root that is neither.
    public static func open(_ root: RootURL, folder: String?) throws -> any ModelRegistry {
        switch root {
        case .mlflow(let base):
            return MLflowModelRegistry(baseURL: base)
        case .file:
            guard let folder else { throw Failure(.invalidInput, "\(root): no folder to open the registry in") }
            return try SQLiteModelRegistry(root: folder)
        default:
            throw Failure(
                .invalidInput, "\(root): \(root.scheme):// registry roots are not served; use file:// or mlflow+http(s)://")
        }
    }
}
