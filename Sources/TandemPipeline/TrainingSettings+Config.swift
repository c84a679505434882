public import TandemLearning
public import TandemProfiles

extension TrainingSettings {
    /// The trainer's settings for a repository's training configuration: the one mapping from
    /// `models/NAME.yaml` to the trainer, used by `tandem train` and by the promotion's training-pipeline test.
    public init(_ config: TrainingConfig) {
        self.init()
        kind = ModelKind(rawValue: config.kind) ?? .mlp
        hidden = config.hidden
        learningRate = config.learningRate
        batchQueries = config.batchQueries
        maxEpochs = config.maxEpochs
        patience = config.patience
        weightDecay = config.weightDecay
        schedule = LearningRateSchedule(rawValue: config.lrSchedule) ?? .constant
        seed = config.seed
        threads = config.threads
    }
}
