import Foundation

/// A root named in an environment profile: where an environment keeps its features or registry,
/// or where its jobs run.
///
/// Every scheme the profile format knows is parsed here, so a typo is refused when the profile loads;
/// whether a scheme is *served* by this version is decided where the root is used.
public enum RootURL: Sendable, Hashable, CustomStringConvertible {
    /// `file://PATH`: a folder on this machine. A relative path resolves against the repository root.
    case file(path: String)
    /// `local://[?max_jobs=N]`: child processes on this machine.
    case local(options: [String: String])
    /// `mlflow+http://HOST:PORT[/PATH]` or `mlflow+https://…`: a registry on an MLflow tracking server.
    case mlflow(baseURL: String)
    /// `slurm://[CLUSTER][?partition=…&time=…]`: jobs on a Slurm cluster.
    case slurm(cluster: String, options: [String: String])
    /// `postgres://HOST[:PORT]/DATABASE[?user=…&password_env=…&sslmode=…]`: a shared PostgreSQL database
    /// (`PostgresLocation`), written back in its canonical form.
    case postgres(url: String)

    /// The scheme as written in profiles.
    public var scheme: String {
        switch self {
        case .file: "file"
        case .local: "local"
        case .mlflow(let base): base.hasPrefix("https") ? "mlflow+https" : "mlflow+http"
        case .slurm: "slurm"
        case .postgres: "postgres"
        }
    }

    public var description: String {
        switch self {
        case .file(let path): "file://\(path)"
        case .local(let options): "local://" + Self.queryString(options)
        case .mlflow(let base): "mlflow+" + base
        case .slurm(let cluster, let options): "slurm://\(cluster)" + Self.queryString(options)
        case .postgres(let url): url
        }
    }

    private static func queryString(_ options: [String: String]) -> String {
        if options.isEmpty { return "" }
        return "?" + options.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "&")
    }

    /// Why a root URL was refused; the text says what to write instead.
    public struct ParseError: Error, Sendable, CustomStringConvertible {
        /// What is wrong and what to do.
        public var description: String
    }

    /// Parses a root URL. Credentials written into the URL are refused: a profile names the
    /// environment variable that holds a secret instead.
    public static func parse(_ text: String) throws(ParseError) -> RootURL {
        let trimmed = text.trimmingASCIIWhitespace()
        guard let schemeEnd = trimmed.range(of: "://") else {
            throw ParseError(
                description: "'\(trimmed)' is not a root URL; write SCHEME://…, one of "
                    + "file://, local://, mlflow+http(s)://, slurm://, postgres://")
        }
        let scheme = trimmed[..<schemeEnd.lowerBound].lowercased()
        let rest = String(trimmed[schemeEnd.upperBound...])
        switch scheme {
        case "file":
            let path = rest.hasPrefix("localhost/") ? String(rest.dropFirst("localhost".count)) : rest
            guard !path.isEmpty else {
                throw ParseError(description: "file:// needs a path, as in file://.tandem/test/features or file:///srv/tandem")
            }
            if path.contains("?") || path.contains("#") {
                throw ParseError(description: "file:// roots take no query or fragment; write only the folder")
            }
            return .file(path: path)
        case "local":
            let (host, options) = try splitQuery(rest)
            guard host.isEmpty || host == "localhost" else {
                throw ParseError(
                    description: "local:// runs on this machine and takes no host; write local:// or local://?max_jobs=2")
            }
            for key in options.keys where key != "max_jobs" {
                throw ParseError(description: "local:// does not know option '\(key)'; the only option is max_jobs")
            }
            if let jobs = options["max_jobs"], Int(jobs).map({ $0 >= 1 }) != true {
                throw ParseError(description: "local://?max_jobs must be a whole number ≥ 1, not '\(jobs)'")
            }
            return .local(options: options)
        case "mlflow+http", "mlflow+https":
            let (host, _) = try splitQuery(rest)
            let authority = host.split(separator: "/", maxSplits: 1).first.map(String.init) ?? ""
            guard !authority.isEmpty else {
                throw ParseError(description: "\(scheme):// needs a host, as in \(scheme)://127.0.0.1:5000")
            }
            try refuseCredentials(authority, scheme: scheme)
            try checkPort(authority, scheme: scheme)
            return .mlflow(baseURL: String(scheme.dropFirst("mlflow+".count)) + "://" + rest)
        case "slurm":
            let (cluster, options) = try splitQuery(rest)
            try refuseCredentials(cluster, scheme: scheme)
            let known: Set = ["partition", "account", "time", "cpus", "mem", "conf", "qos", "max_jobs", "sbatch"]
            for key in options.keys where !known.contains(key) {
                throw ParseError(
                    description: "slurm:// does not know option '\(key)'; known options: "
                        + known.sorted().joined(separator: ", "))
            }
            return .slurm(cluster: cluster, options: options)
        case "postgres", "postgresql":
            return .postgres(url: try PostgresLocation.parse(trimmed).description)
        default:
            throw ParseError(
                description:
                    "unknown root scheme '\(scheme)://'; use file://, local://, mlflow+http(s)://, slurm:// or postgres://")
        }
    }

    private static func splitQuery(_ rest: String) throws(ParseError) -> (String, [String: String]) {
        let parts = rest.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let head = parts.first.map(String.init) ?? ""
        var options: [String: String] = [:]
        if parts.count == 2 {
            for pair in parts[1].split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard kv.count == 2, !kv[0].isEmpty, !kv[1].isEmpty else {
                    throw ParseError(description: "option '\(pair)' must be written NAME=VALUE")
                }
                options[String(kv[0])] = String(kv[1])
            }
        }
        return (head, options)
    }

    private static func refuseCredentials(_ authority: String, scheme: String) throws(ParseError) {
        if authority.contains("@") {
            throw ParseError(
                description: "\(scheme):// URL carries credentials; remove them and name the variable "
                    + "that holds the secret with a key ending in _env (for example password_env: PGPASSWORD)")
        }
    }

    private static func checkPort(_ authority: String, scheme: String) throws(ParseError) {
        guard let colon = authority.lastIndex(of: ":"), !authority.hasSuffix("]") else { return }
        let port = authority[authority.index(after: colon)...]
        guard let number = Int(port), (1...65535).contains(number) else {
            throw ParseError(description: "\(scheme):// port '\(port)' is not a number from 1 to 65535")
        }
    }
}

extension String {
    /// The string without leading and trailing ASCII spaces, tabs and line breaks.
    public func trimmingASCIIWhitespace() -> String {
        let isBlank: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        var slice = Substring(self)
        while let first = slice.first, isBlank(first) { slice = slice.dropFirst() }
        while let last = slice.last, isBlank(last) { slice = slice.dropLast() }
        return String(slice)
    }
}
