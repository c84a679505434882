import ArgumentParser
import Foundation
import TandemCore
import TandemEnvironment
import TandemProfiles
import TandemPromotion

/// `tandem-promote integration-tests`: the job's side of the promotion's integration tests (the engine submits it
/// through `StageContext.integrationTestRunner`).
enum IntegrationTestJob {
    /// `tandem-promote integration-tests`: the job's side (hidden; the engine starts it).
    struct Command: StageCommand {
        static let configuration = CommandConfiguration(
            commandName: "integration-tests", abstract: "Run a promotion's integration tests (a job the engine submits).",
            shouldDisplay: false)
        @OptionGroup var common: CommonOptions
        @Option(help: "The promotion, as the engine wrote it.") var promotionFile: String
        @Option(help: "Where to write the results.") var result: String
        @Option(help: "The source environment's features root (when the engine moved it, as `tandem local test` does).")
        var featuresRoot: String?
        @Option(help: "The source environment's registry root (likewise).") var registryRoot: String?
        @Option(help: "The inference test's p99 budget in milliseconds (the engine passes the target's).")
        var latencyBudgetMs: Double?

        func run() async throws {
            let base = try StageContext.load(common)
            var profile = base.profile
            if let featuresRoot { profile.roots.features = try RootURL.parse(featuresRoot) }
            if let registryRoot { profile.roots.registry = try RootURL.parse(registryRoot) }
            let context = StageContext(repositoryRoot: base.repositoryRoot, profiles: base.profiles, profile: profile)
            let p = try JSONDecoder().decode(Promotion.self, from: Data(contentsOf: URL(fileURLWithPath: promotionFile)))
            let target = try context.profiles.profile(named: p.target)
            let tests = try IntegrationTests.run(
                for: p, registry: try context.openRegistry(writer: nil), store: try context.openFeatureStoreForReading(),
                repositoryRoot: context.repositoryRoot, sampleInput: context.resolve(profile.data.sampleInput),
                latencyBudgetMs: latencyBudgetMs ?? target.policy.latencyBudgetMs)
            for t in tests { print("\(t.passed ? "passed" : "FAILED"): \(t.name) — \(t.detail)") }
            try JSONEncoder().encode(tests).write(to: URL(fileURLWithPath: result), options: .atomic)
        }
    }
}
