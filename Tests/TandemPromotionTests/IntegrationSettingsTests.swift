import TandemLearning
import TandemPipeline
import TandemProfiles
import Testing

@testable import TandemPromotion

@Suite("The promotion's training-pipeline test trains what the branch configures")
struct IntegrationSettingsTests {
    /// A configuration in which every training key differs from the trainer's defaults.
    static let config = """
        model: other-ranker
        kind: linear
        features:
          set: relevance_v1
          table: latest
          names: []
        training:
          hidden: [64]
          learning_rate: 0.01
          batch_queries: 16
          max_epochs: 9
          patience: 5
          weight_decay: 0.001
          lr_schedule: cosine
          seed: 11
          threads: 2
        """

    @Test("every trainer setting comes from the branch's config; only the epochs are cut to one")
    func everySettingFromTheConfig() throws {
        let config = try TrainingConfig.parse(Self.config, displayName: "models/other.yaml")
        let settings = IntegrationTests.trainingSettings(config)
        #expect(settings.maxEpochs == 1)
        #expect(settings.patience == 5)
        #expect(settings.weightDecay == 0.001)
        #expect(settings.threads == 2)
        // Every other setting differs from the trainer's default, so a mapping that drops one (leaving the default)
        // fails here, including settings added later.
        let defaults = Dictionary(
            uniqueKeysWithValues: Mirror(reflecting: TrainingSettings()).children.map { ($0.label ?? "", "\($0.value)") })
        for child in Mirror(reflecting: settings).children where child.label != "maxEpochs" {
            let label = child.label ?? ""
            #expect(defaults[label] != "\(child.value)", "\(label) is the trainer's default: the mapping drops it")
        }
        // And it is the mapping `tandem train` uses.
        var trained = TrainingSettings(config)
        trained.maxEpochs = 1
        #expect("\(trained)" == "\(settings)")
    }
}
