import Foundation
import TandemCompute
public import TandemCore
import TandemHTTP
import TandemPostgres
public import TandemProfiles
import TandemStorage

/// Whether each root of an environment is ready (`tandem env check`): a `file://` root is writable and not
/// another environment's, a Slurm controller answers, an MLflow server answers `/health`.
public enum RootHealth {
    /// One check's outcome.
    public struct Finding: Encodable, Sendable {
        public var item: String
        public var ok: Bool
        public var detail: String

        public init(item: String, ok: Bool, detail: String) {
            self.item = item
            self.ok = ok
            self.detail = detail
        }
    }

    /// Checks one root (`role` is `features`, `registry`, `compute` or `state`).
    public static func check(_ root: RootURL, role: String, environment: String, set: ProfileSet) -> Finding {
        switch root {
        case .file:
            let path = set.absolutePath(of: root) ?? ""
            if let stamp = RootGuard.stamp(of: path), stamp.environment != environment {
                return Finding(
                    item: "roots.\(role)", ok: false,
                    detail: "\(path) belongs to environment '\(stamp.environment)'")
            }
            var probe = path
            while !FileManager.default.fileExists(atPath: probe) { probe = (probe as NSString).deletingLastPathComponent }
            let writable = access(probe, W_OK) == 0
            let exists = probe == path
            return Finding(
                item: "roots.\(role)", ok: writable,
                detail: writable
                    ? "\(path) is writable" + (exists ? "" : " (will be created)")
                    : "\(probe) is not writable")
        case .local:
            return Finding(item: "roots.\(role)", ok: true, detail: "\(root): child processes on this machine")
        case .slurm:
            do {
                let slurm = try ComputeBackends.slurm(root) { ProfileSet.absolutePath($0, repositoryRoot: set.repositoryRoot) }
                let answer = try slurm.ping()
                return Finding(item: "roots.\(role)", ok: true, detail: "\(root): \(answer)")
            } catch {
                return Finding(item: "roots.\(role)", ok: false, detail: "\(root): \(error)")
            }
        case .mlflow(let base):
            let url = base.hasSuffix("/") ? base + "health" : base + "/health"
            do {
                let response = try CurlTransport().sendBlocking(
                    HTTPRequest(method: .get, url: url, connectTimeout: 3, timeout: 5))
                let ok = (200..<300).contains(response.status)
                return Finding(
                    item: "roots.\(role)", ok: ok,
                    detail: ok ? "\(root): the MLflow server answers" : "\(url) answered HTTP \(response.status)")
            } catch {
                return Finding(
                    item: "roots.\(role)", ok: false, detail: "\(root): the MLflow server does not answer (\(error))")
            }
        case .postgres(let url) where role == "state":
            // Read only: connects, and reads the owner stamp and the migrations if Tandem has used the database.
            do {
                let location = try PostgresLocation.parse(url)
                let db = try PostgresConnection(location) { ProfileSet.absolutePath($0, repositoryRoot: set.repositoryRoot) }
                let used = try db.execute("SELECT to_regclass('tandem_owner') IS NOT NULL").first?[0] == "t"
                guard used else {
                    return Finding(item: "roots.\(role)", ok: true, detail: "\(root): connects; empty (migrated on first use)")
                }
                let owner = try db.execute("SELECT environment FROM tandem_owner").first?[0] ?? nil
                let applied = try db.execute("SELECT count(*) FROM tandem_migrations").first?[0] ?? nil ?? "0"
                if let owner, owner != environment {
                    return Finding(
                        item: "roots.\(role)", ok: false, detail: "\(root) holds the state of environment '\(owner)'")
                }
                return Finding(
                    item: "roots.\(role)", ok: true,
                    detail:
                        "\(root): connects; \(environment)'s state, \(applied) of \(PostgresState.migrations.count) migrations applied"
                )
            } catch {
                return Finding(item: "roots.\(role)", ok: false, detail: "\(error)")
            }
        default:
            return Finding(
                item: "roots.\(role)", ok: false,
                detail: "\(root): \(root.scheme):// roots are parsed but not served by this version")
        }
    }
}
