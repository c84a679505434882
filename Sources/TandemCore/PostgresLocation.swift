import Foundation

/// Where a `postgres://` root is, as a profile writes it:
/// `postgres://HOST[:PORT]/DATABASE[?user=…&password_env=VAR&sslmode=…&sslrootcert=…&sslcert=…&sslkey=…&connect_timeout=S]`.
///
/// No credential is ever written into the URL: the password is read, when Tandem connects, from the environment
/// variable that `password_env` names. The TLS options are libpq's own (`sslmode` is one of disable, allow, prefer,
/// require, verify-ca, verify-full; the certificate paths resolve against the repository root when relative).
public struct PostgresLocation: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var database: String
    /// The role Tandem connects as (libpq's default, the OS user, when absent).
    public var user: String?
    /// The environment variable that holds the password.
    public var passwordEnv: String?
    public var sslMode: String?
    public var sslRootCert: String?
    public var sslCert: String?
    public var sslKey: String?
    /// Seconds a connection attempt may take (10 when absent).
    public var connectTimeout: Int

    public static let knownOptions: [String] = [
        "connect_timeout", "password_env", "sslcert", "sslkey", "sslmode", "sslrootcert", "user",
    ]
    public static let sslModes: Set = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]

    public init(
        host: String, port: Int = 5432, database: String, user: String? = nil, passwordEnv: String? = nil,
        sslMode: String? = nil, sslRootCert: String? = nil, sslCert: String? = nil, sslKey: String? = nil,
        connectTimeout: Int = 10
    ) {
        self.host = host
        self.port = port
        self.database = database
        self.user = user
        self.passwordEnv = passwordEnv
        self.sslMode = sslMode
        self.sslRootCert = sslRootCert
        self.sslCert = sslCert
        self.sslKey = sslKey
        self.connectTimeout = connectTimeout
    }

    /// The server and database, the identity two profiles may not share: `HOST:PORT/DATABASE`.
    public var identity: String { "\(host.lowercased()):\(port)/\(database)" }

    /// The URL again, options in a fixed order (no secret is ever part of it).
    public var description: String {
        var options: [(String, String)] = []
        if connectTimeout != 10 { options.append(("connect_timeout", String(connectTimeout))) }
        if let passwordEnv { options.append(("password_env", passwordEnv)) }
        if let sslCert { options.append(("sslcert", sslCert)) }
        if let sslKey { options.append(("sslkey", sslKey)) }
        if let sslMode { options.append(("sslmode", sslMode)) }
        if let sslRootCert { options.append(("sslrootcert", sslRootCert)) }
        if let user { options.append(("user", user)) }
        let hostPart = host.contains(":") ? "[\(host)]" : host
        return "postgres://\(hostPart):\(port)/\(database)"
            + (options.isEmpty ? "" : "?" + options.map { "\($0.0)=\($0.1)" }.joined(separator: "&"))
    }

    /// Parses `postgres://…` (or `postgresql://…`); every error says what to write instead.
    public static func parse(_ text: String) throws(RootURL.ParseError) -> PostgresLocation {
        func refuse(_ why: String) -> RootURL.ParseError { RootURL.ParseError(description: why) }
        let trimmed = text.trimmingASCIIWhitespace()
        guard let schemeEnd = trimmed.range(of: "://"),
            ["postgres", "postgresql"].contains(trimmed[..<schemeEnd.lowerBound].lowercased())
        else { throw refuse("'\(trimmed)' is not a postgres:// URL") }
        let rest = trimmed[schemeEnd.upperBound...]
        let parts = rest.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let path = parts[0]
        guard let slash = path.firstIndex(of: "/") else {
            throw refuse("postgres:// needs a host and a database, as in postgres://db.internal:5432/tandem_state")
        }
        let authority = String(path[..<slash])
        let database = String(path[path.index(after: slash)...])
        if authority.contains("@") {
            throw refuse(
                "postgres:// URL carries credentials; remove them, write the role as ?user=NAME and name the variable that "
                    + "holds the password with ?password_env=VAR")
        }
        guard !authority.isEmpty else {
            throw refuse("postgres:// needs a host, as in postgres://db.internal:5432/tandem_state")
        }
        guard !database.isEmpty, database.allSatisfy({ $0.isLetter || $0.isNumber || "_-.".contains($0) }) else {
            throw refuse(
                "postgres:// needs a database name of letters, digits, '_', '-' or '.' after the host, as in "
                    + "postgres://db.internal:5432/tandem_state (found '\(database)')")
        }
        var host = authority
        var port = 5432
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw refuse("postgres:// host '\(authority)' lacks its ']'") }
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":"), let p = Int(after.dropFirst()), (1...65535).contains(p) else {
                    throw refuse("postgres:// port must be a number from 1 to 65535, as in postgres://[::1]:5432/db")
                }
                port = p
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = String(authority[..<colon])
            guard let p = Int(authority[authority.index(after: colon)...]), (1...65535).contains(p) else {
                throw refuse("postgres:// port must be a number from 1 to 65535, as in postgres://db.internal:5432/db")
            }
            port = p
        }
        guard !host.isEmpty, host.allSatisfy({ $0.isLetter || $0.isNumber || "-._:".contains($0) }) else {
            throw refuse("postgres:// host '\(host)' is not a host name or address")
        }
        var location = PostgresLocation(host: host, port: port, database: database)
        guard parts.count == 2 else { return location }
        var seen = Set<String>()
        for pair in parts[1].split(separator: "&", omittingEmptySubsequences: false) {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard kv.count == 2, !kv[0].isEmpty, !kv[1].isEmpty else {
                throw refuse("postgres:// option '\(pair)' must be written NAME=VALUE")
            }
            let key = String(kv[0])
            let value = String(kv[1])
            guard seen.insert(key).inserted else { throw refuse("postgres:// option '\(key)' is written twice; keep one") }
            guard
                !value.contains(where: { $0.isWhitespace || $0 == "'" || $0 == "\\" || $0.asciiValue.map { $0 < 0x20 } ?? false })
            else { throw refuse("postgres:// option '\(key)' holds a space, quote or control character; write a plain value") }
            switch key {
            case "user": location.user = value
            case "password_env":
                guard value.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }),
                    !(value.first?.isNumber ?? true)
                else {
                    throw refuse("postgres:// password_env names an environment variable (letters, digits, '_'), not '\(value)'")
                }
                location.passwordEnv = value
            case "sslmode":
                guard sslModes.contains(value) else {
                    throw refuse(
                        "postgres:// sslmode is one of " + sslModes.sorted().joined(separator: ", ") + ", not '\(value)'")
                }
                location.sslMode = value
            case "sslrootcert": location.sslRootCert = value
            case "sslcert": location.sslCert = value
            case "sslkey": location.sslKey = value
            case "connect_timeout":
                guard let s = Int(value), (1...600).contains(s) else {
                    throw refuse("postgres:// connect_timeout is a number of seconds from 1 to 600, not '\(value)'")
                }
                location.connectTimeout = s
            case "password":
                throw refuse(
                    "postgres:// URL carries a password; remove it and name the variable that holds it with ?password_env=VAR")
            default:
                throw refuse("postgres:// does not know option '\(key)'; known options: " + knownOptions.joined(separator: ", "))
            }
        }
        return location
    }
}
