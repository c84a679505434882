import Foundation
public import TandemCore

/// A real PostgreSQL server (scripts/postgres-up: Debian's initdb and pg_ctl, on a free port on 127.0.0.1, a
/// password required), started once for the state suites (`shared`) or by a test of its own, and stopped by a
/// watchdog when the test process ends. The PostgreSQL tests run where the server is installed;
/// TANDEM_REQUIRE_POSTGRES=1 (CI) makes a missing or failed server an error, not a skip.
public final class PostgresServer: Sendable {
    public let folder = NSTemporaryDirectory() + "tandem-pg-\(UUID().uuidString.prefix(8))"
    /// The state root URL of the server's `tandem` database (password in `$TANDEM_STATE_PASSWORD`).
    public let url: String
    public let port: Int
    /// The role's password (what `passwordVariable` must hold).
    public let password: String
    public static let passwordVariable = "TANDEM_STATE_PASSWORD"

    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    public static let installed: Bool = {
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        return versions.contains { FileManager.default.isExecutableFile(atPath: "/usr/lib/postgresql/\($0)/bin/initdb") }
    }()
    public static let required = ProcessInfo.processInfo.environment["TANDEM_REQUIRE_POSTGRES"] == "1"
    public static let enabled = installed || required

    /// The server the suites share, or why it could not start.
    public static let shared: Result<PostgresServer, ChildProcessError> = {
        do { return .success(try PostgresServer()) } catch let e as ChildProcessError { return .failure(e) } catch {
            return .failure(ChildProcessError(description: "\(error)"))
        }
    }()

    /// The shared server; a test fails (not skips) when it could not start.
    public static func require() throws -> PostgresServer { try shared.get() }

    public init() throws {
        try cleanUpWhenThisProcessEnds("\(Self.repository)/scripts/postgres-down \(folder) >/dev/null 2>&1; rm -rf \(folder)")
        let log = folder + ".up.log"
        let out = folder + ".url"
        let up = try ChildProcess.spawn(
            executable: Self.repository + "/scripts/postgres-up", arguments: [folder], stdout: .file(out, append: false),
            stderr: .file(log, append: false)
        ).wait()
        guard up.succeeded, let text = try? String(contentsOfFile: out, encoding: .utf8),
            let secret = try? String(contentsOfFile: folder + "/password", encoding: .utf8),
            let portText = try? String(contentsOfFile: folder + "/port", encoding: .utf8),
            let port = Int(portText.trimmingCharacters(in: .whitespacesAndNewlines))
        else {
            throw ChildProcessError(
                description: "scripts/postgres-up failed: " + ((try? String(contentsOfFile: log, encoding: .utf8)) ?? ""))
        }
        url = text.trimmingCharacters(in: .whitespacesAndNewlines)
        password = secret.trimmingCharacters(in: .whitespacesAndNewlines)
        self.port = port
    }

    /// The environment a client needs: the password variable set.
    public var environment: [String: String] {
        var e = ProcessInfo.processInfo.environment
        e[Self.passwordVariable] = password
        return e
    }

    /// A fresh, empty database on this server, and its state root URL (each test its own, so tests run side by side).
    public func database(_ given: String? = nil) throws -> String {
        let name = given ?? "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
        try psql("CREATE DATABASE \(name)")
        return url.replacingOccurrences(of: "/tandem?", with: "/\(name)?")
    }

    /// Runs SQL as the `tandem` role in database `database` and returns what psql printed (unaligned, tuples only).
    @discardableResult
    public func psql(_ sql: String, database: String = "postgres") throws -> String {
        let bin = Self.binaries
        let r = try ChildProcess.run(
            bin + "/psql",
            ["-h", "127.0.0.1", "-p", String(port), "-U", "tandem", "-d", database, "-qAtX", "-v", "ON_ERROR_STOP=1", "-c", sql],
            environment: ["PGPASSWORD": password, "PATH": "/usr/bin:/bin"])
        guard r.termination.succeeded else { throw ChildProcessError(description: "psql failed: \(r.stderr)") }
        return r.stdout
    }

    /// Restarts the server (fast: open connections are cut, transactions roll back).
    public func restart() throws {
        let run = try ChildProcess.run(
            "/bin/sh",
            [
                "-c",
                (getuid() == 0 ? "runuser -u postgres -- " : "")
                    + "\(Self.binaries)/pg_ctl -D \(folder)/data -m fast -w -t 60 restart -l \(folder)/server.log >/dev/null",
            ], environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin"])
        guard run.termination.succeeded else { throw ChildProcessError(description: "pg_ctl restart failed: \(run.stderr)") }
    }

    static var binaries: String {
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? [])
            .compactMap(Int.init).sorted()
        return "/usr/lib/postgresql/\(versions.last ?? 15)/bin"
    }
}
