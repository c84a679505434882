public import Foundation
import TandemHTTP
import TandemProfiles

extension RootHealth {
    /// Every check of `tandem env check`: each root of the environment, then each secret variable its profile
    /// names (set, and safe to put in a request; the value itself never appears).
    public static func environment(
        _ context: StageContext, _ variables: [String: String] = ProcessInfo.processInfo.environment
    ) -> [Finding] {
        let p = context.profile
        var roots = [("features", p.roots.features), ("registry", p.roots.registry), ("compute", p.roots.compute)]
        if let state = p.roots.state { roots.append(("state", state)) }
        var findings = roots.map { check($0.1, role: $0.0, environment: p.name, set: context.profiles) }
        for (key, variable) in p.secretVariables {
            let value = variables[variable] ?? ""
            if value.isEmpty {
                findings.append(Finding(item: key, ok: false, detail: "$\(variable) is not set"))
            } else if let unsafe = StageContext.unsafeVariables([(key, variable)], variables).first {
                findings.append(Finding(item: key, ok: false, detail: unsafe.description))
            } else {
                findings.append(Finding(item: key, ok: true, detail: "$\(variable) is set"))
            }
        }
        return findings
    }
}
