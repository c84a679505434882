import ArgumentParser
import Foundation
import TandemCore
import TandemEnvironment
import TandemProfiles
import TandemPromotion

extension PromoteCommand {
    struct Check: StageCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check every model's lane in a target (--env prod): champion = lock file = the promotion that made it.",
            discussion: """
                For each model with a champion in the target's registry or a lock file on its production branch: \
                the champion version, the version (environment and digest) the production branch's lock file \
                names, and the version of the promotion whose merge produced the production branch's copy of the \
                model's lock file and config must be one and the same (docs/models.md, "The invariant"). The \
                promotion engine runs it after every promotion and rollback; CI can run it at any time.

                Exits 1 with the differences when a lane does not hold.

                \(exitCodesHelp)
                """)
        @OptionGroup var common: CommonOptions
        @Option(help: ArgumentHelp("Only this model (repeatable).", valueName: "name")) var model: [String] = []

        func run() async throws {
            let engine = try PromoteCommand.engine(common, targetGiven: true, needsGate: false)
            let checks = try engine.check(models: model.isEmpty ? nil : model)
            let target = engine.context.target
            if common.json {
                try Terminal.printJSON(checks)
            } else {
                if checks.isEmpty { print("no model has a champion or a lock file in \(target.name) yet") }
                for c in checks {
                    let versions =
                        "champion \(c.champion.map { "@\($0)" } ?? "none"), lock \(c.lock.map { "@\($0)" } ?? "none")"
                        + (c.promotion.map { ", promoted by \($0)" } ?? "")
                    print((c.holds ? "ok    " : "CROSSED ") + "\(c.model): \(versions)")
                    for d in c.differences { print("  - \(d)") }
                }
            }
            let crossed = checks.filter { !$0.holds }
            if !crossed.isEmpty {
                throw Failure(
                    .refused,
                    "\(crossed.count) of \(checks.count) model lane(s) in \(target.name) do not hold: "
                        + crossed.map(\.model).joined(separator: ", "))
            }
        }
    }
}
