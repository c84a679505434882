public import Foundation
import TandemCore
public import TandemHTTP
import TandemProfiles
import TandemStorage
public import TandemWebhooks

extension StageContext {
    /// The environment's webhook outbox, in its state root (`roots.state`, else its registry root). Every stage writes it, the promotion engine included,
    /// so it is opened as the engine; read or written, it passes the root's gate (its stamp), since SQLite writes
    /// even when a stage only reads.
    public func openOutbox() throws -> any DeliveryQueue {
        if case .postgres = profile.roots.state { return try openState(stage: "notify").outbox }
        let role: RootRole = profile.roots.state == nil ? .registry : .state
        let path = try folder(of: role)
        try RootGuard.claim(path: path, environment: profile.name, role: role, protected: false, writer: .promotionEngine)
        return try Outbox(root: path)
    }

    /// The set variables among `variables` whose value cannot go into a request (a line break in a token, a URL
    /// that is not http(s)); each error names the variable, never its value.
    public static func unsafeVariables(
        _ variables: [(key: String, variable: String)], _ environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> [UnsafeValueError] {
        variables.compactMap { (key, variable) -> UnsafeValueError? in
            guard let value = environment[variable], !value.isEmpty else { return nil }
            do throws(UnsafeValueError) {
                try HTTPSafety.checkVariable(variable, value, isURL: key.hasSuffix("url_env"))
                return nil
            } catch { return error }
        }
    }

    /// Refuses (exit 2) to send anything while a variable the profile names holds a value that cannot be sent.
    public func refuseUnsafeVariables() throws {
        if let first = Self.unsafeVariables(profile.secretVariables).first { throw first }
    }

    /// Delivers the outbox over libcurl, with the profile's secret variables kept out of every message.
    public func deliverer(outbox: any DeliveryQueue) -> Deliverer {
        Deliverer(outbox: outbox, transport: CurlTransport(), secretVariables: profile.secretVariables.map(\.variable))
    }
}
