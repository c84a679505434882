public import ArgumentParser
import Foundation
import TandemCore
import TandemEnvironment
import TandemHTTP
import TandemProfiles

/// `tandem env`: list, show and check environment profiles.
public struct EnvCommand: StageCommand {
    public static let configuration = CommandConfiguration(
        commandName: "env",
        _superCommandName: "tandem",
        abstract: "List, show and check the environment profiles in environments/.",
        discussion: """
            Every environment (dev, test, prod…) has a profile, environments/NAME.yaml, naming its own feature, \
            registry and compute roots. Profiles are checked strictly: an unknown key, a wrong type, a bad URL, \
            an inline secret or two environments sharing a storage root is refused with FILE:LINE:COLUMN.

            Example:
              tandem env list
              tandem env show test --json
              tandem env check prod

            \(exitCodesHelp)
            """,
        version: TandemVersion.current,
        subcommands: [List.self, Show.self, Check.self])

    public init() {}

    struct List: StageCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the environments and their roots.",
            discussion: "Example: tandem env list --json\n\n\(exitCodesHelp)")

        @OptionGroup var common: CommonOptions

        func run() throws {
            let set = try StageContext.loadProfiles(common)
            let rows = set.names.compactMap { set.profiles[$0] }
            if common.json {
                try Terminal.printJSON(rows.map { ProfileView($0, set: set) })
                return
            }
            print("ENVIRONMENT  FEATURES / REGISTRY / COMPUTE")
            for p in rows {
                print(p.name.padding(toLength: 12, withPad: " ", startingAt: 0) + " " + p.roots.features.description)
                print(String(repeating: " ", count: 13) + p.roots.registry.description)
                print(
                    String(repeating: " ", count: 13) + p.roots.compute.description
                        + (p.description.isEmpty ? "" : "   # \(p.description)"))
            }
        }
    }

    struct Show: StageCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show one environment's resolved profile (secrets only by the variable that holds them).",
            discussion: "Example: tandem env show test --json\n\n\(exitCodesHelp)")

        @Argument(help: "The environment (defaults to --env, then $TANDEM_ENV).")
        var name: String?

        @OptionGroup var common: CommonOptions

        func run() throws {
            let context = try StageContext.load(common, environment: try name ?? common.environmentName())
            let view = ProfileView(context.profile, set: context.profiles)
            if common.json {
                try Terminal.printJSON(view)
                return
            }
            let p = context.profile
            print("environment \(p.name)  (\(p.file)\(p.extends.map { ", extends \($0)" } ?? ""))")
            if !p.description.isEmpty { print("  \(p.description)") }
            for role in ["features", "registry", "compute", "state"] {
                guard let r = view.roots[role] else { continue }
                let secret = role == "state" ? (p.secretVariables.first { $0.key == "roots.state password_env" }?.variable) : nil
                print(
                    "  \(role.padding(toLength: 9, withPad: " ", startingAt: 0)) \(r.url)" + (r.path.map { "  → \($0)" } ?? "")
                        + (secret.map { "  (password in $\($0))" } ?? ""))
            }
            print("  git       production branch \(p.git.productionBranch)" + (p.git.remote.map { ", remote \($0)" } ?? ""))
            print("  reporter  \(p.reporter.kind.rawValue)" + (p.reporter.tokenEnv.map { " (token in $\($0))" } ?? ""))
            for n in p.notifiers {
                print(
                    "  notifier  \(n.name): \(n.kind.rawValue)" + (n.urlEnv.map { " (URL in $\($0))" } ?? "")
                        + " on " + n.events.joined(separator: ", "))
            }
            print("  approvals \(p.approvals.required) of \(p.approvals.approvers.joined(separator: ", "))")
            let policy = p.policy
            print(
                "  policy    \(policy.primaryMetric) ≥ +\(policy.minImprovement) at \(Int(policy.confidence * 100))% confidence"
                    + ", first release: \(policy.firstRelease.rawValue)")
            for g in policy.guardrails { print("            guardrail \(g.metric) may not fall by more than \(g.maxRegression)") }
        }
    }

    struct Check: StageCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check that an environment's roots are reachable and writable and its secret variables are set.",
            discussion: "Example: tandem env check test\n\nExits 3 naming what is not ready.\n\n\(exitCodesHelp)")

        @Argument(help: "The environment (defaults to --env, then $TANDEM_ENV).")
        var name: String?

        @OptionGroup var common: CommonOptions

        typealias Finding = RootHealth.Finding

        func run() throws {
            let context = try StageContext.load(common, environment: try name ?? common.environmentName())
            let p = context.profile
            var findings: [Finding] = []
            var roots = [("features", p.roots.features), ("registry", p.roots.registry), ("compute", p.roots.compute)]
            if let state = p.roots.state { roots.append(("state", state)) }
            for (role, root) in roots {
                findings.append(RootHealth.check(root, role: role, environment: p.name, set: context.profiles))
            }
            let environment = ProcessInfo.processInfo.environment
            for (key, variable) in p.secretVariables {
                let value = environment[variable] ?? ""
                if value.isEmpty {
                    findings.append(Finding(item: key, ok: false, detail: "$\(variable) is not set"))
                } else if let unsafe = StageContext.unsafeVariables([(key, variable)], environment).first {
                    findings.append(Finding(item: key, ok: false, detail: unsafe.description))
                } else {
                    findings.append(Finding(item: key, ok: true, detail: "$\(variable) is set"))
                }
            }
            let failed = findings.filter { !$0.ok }
            if common.json {
                struct Report: Encodable { var environment: String; var ok: Bool; var checks: [Finding] }
                try Terminal.printJSON(Report(environment: p.name, ok: failed.isEmpty, checks: findings))
            } else {
                for f in findings { print("\(f.ok ? "ok  " : "FAIL") \(f.item): \(f.detail)") }
            }
            if !failed.isEmpty {
                if !common.json {
                    Terminal.error("environment '\(p.name)' is not ready: " + failed.map(\.item).joined(separator: ", "))
                }
                throw ExitCode(ExitStatus.infrastructure.rawValue)
            }
        }
    }
}
