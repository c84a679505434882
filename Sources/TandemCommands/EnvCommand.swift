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
            for line in ProfileText.list(rows) { print(line) }
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
            for line in ProfileText.show(context.profile, view: view) { print(line) }
        }
    }

    struct Check: StageCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check that an environment's roots are reachable and writable and its secret variables are set.",
            discussion: "Example: tandem env check test\n\nExits 3 naming what is not ready.\n\n\(exitCodesHelp)")

        @Argument(help: "The environment (defaults to --env, then $TANDEM_ENV).")
        var name: String?

        @OptionGroup var common: CommonOptions

        func run() throws {
            let context = try StageContext.load(common, environment: try name ?? common.environmentName())
            let p = context.profile
            let findings = RootHealth.environment(context)
            let failed = findings.filter { !$0.ok }
            if common.json {
                struct Report: Encodable { var environment: String; var ok: Bool; var checks: [RootHealth.Finding] }
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
