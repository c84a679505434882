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
