import Foundation

/// The hyper-parameters of one training (the `training` part of `models/relevance.yaml`).
public struct TrainingSettings: Sendable, Codable, Equatable {
    public var kind: ModelKind = .mlp
    /// Hidden layer widths (ignored for `linear`).
    public var hidden: [Int] = [256, 128]
    public var learningRate: Double = 0.001
    /// Queries per mini-batch (whole queries: the loss is listwise).
    public var batchQueries: Int = 64
    public var maxEpochs: Int = 20
    /// Epochs without a better validation NDCG@10 before stopping.
    public var patience: Int = 3
    public var seed: UInt64 = 7
    /// OpenBLAS threads.
    public var threads: Int = 1
    /// Decoupled weight decay (AdamW); 0 for plain Adam.
    public var weightDecay: Double = 0
    /// How the learning rate moves over the run: constant, or cosine decay to 0 over `maxEpochs` epochs.
    public var schedule: LearningRateSchedule = .constant

    public init() {}

    /// Layer widths for a number of input features.
    public func sizes(inputs: Int) -> [Int] {
        kind == .linear ? [inputs, 1] : [inputs] + hidden + [1]
    }

    enum CodingKeys: String, CodingKey {
        case kind, hidden
        case learningRate = "learning_rate"
        case batchQueries = "batch_queries"
        case maxEpochs = "max_epochs"
        case patience, seed, threads
        case weightDecay = "weight_decay"
        case schedule = "lr_schedule"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        kind = try c.decode(ModelKind.self, forKey: .kind)
        hidden = try c.decode([Int].self, forKey: .hidden)
        learningRate = try c.decode(Double.self, forKey: .learningRate)
        batchQueries = try c.decode(Int.self, forKey: .batchQueries)
        maxEpochs = try c.decode(Int.self, forKey: .maxEpochs)
        patience = try c.decode(Int.self, forKey: .patience)
        seed = try c.decode(UInt64.self, forKey: .seed)
        threads = try c.decode(Int.self, forKey: .threads)
        weightDecay = try c.decode(Double.self, forKey: .weightDecay)
        // Artifacts written before schedules existed trained with a constant rate.
        schedule = try c.decodeIfPresent(LearningRateSchedule.self, forKey: .schedule) ?? .constant
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(kind, forKey: .kind)
        try c.encode(hidden, forKey: .hidden)
        try c.encode(learningRate, forKey: .learningRate)
        try c.encode(batchQueries, forKey: .batchQueries)
        try c.encode(maxEpochs, forKey: .maxEpochs)
        try c.encode(patience, forKey: .patience)
        try c.encode(seed, forKey: .seed)
        try c.encode(threads, forKey: .threads)
        try c.encode(weightDecay, forKey: .weightDecay)
        // Written only when not constant, so artifacts of constant-rate runs keep their bytes.
        if schedule != .constant { try c.encode(schedule, forKey: .schedule) }
    }
}

/// The learning rate over a run.
public enum LearningRateSchedule: String, Sendable, Codable, CaseIterable {
    /// The configured rate at every step.
    case constant
    /// rate · ½(1 + cos(π · step / steps)), from the configured rate to 0 at the end of `max_epochs`.
    case cosine

    /// The multiplier of the configured rate at `step` (1-based) of `steps`.
    public func factor(step: Int, of steps: Int) -> Double {
        switch self {
        case .constant: 1
        case .cosine: 0.5 * (1 + cos(Double.pi * min(1, Double(step) / Double(max(1, steps)))))
        }
    }
}

/// A training set or validation set: rows grouped by query.
public struct RankingDataset: Sendable {
    /// Row-major raw features, `rows × width`.
    public var features: [Float]
    public var labels: [Int8]
    public var groups: QueryGroups
    public var width: Int
    public var rows: Int { labels.count }

    public init(features: [Float], labels: [Int8], groups: QueryGroups, width: Int) {
        self.features = features
        self.labels = labels
        self.groups = groups
        self.width = width
    }
}

/// One epoch of a training, as tracked in its run.
public struct EpochRecord: Sendable, Codable, Equatable {
    public var epoch: Int
    public var step: Int
    public var loss: Double
    public var metrics: [String: Double]
    public var examplesPerSecond: Double
    public var seconds: Double

    enum CodingKeys: String, CodingKey {
        case epoch, step, loss, metrics, seconds
        case examplesPerSecond = "examples_per_second"
    }
}

/// What the trainer reports while it works.
public enum TrainingEvent: Sendable {
    case step(epoch: Int, step: Int, stepsPerEpoch: Int, loss: Double, examplesPerSecond: Double)
    case epoch(EpochRecord, best: Bool)
}

/// The outcome of a training: the best model (by validation NDCG@10) and the history.
public struct TrainingOutcome: Sendable {
    public var model: RankerModel
    public var history: [EpochRecord]
    public var bestEpoch: Int
    /// True when the user stopped it (Ctrl-C); the best model so far is kept.
    public var interrupted: Bool
    /// Training examples per second over the whole training (forward and backward passes).
    public var examplesPerSecond: Double
    /// Achieved GFLOP/s of the training loop.
    public var gflops: Double
    public var seconds: Double
}
