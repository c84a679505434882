import Foundation
import TandemCore

/// A training configuration in the repository (`models/relevance.yaml`): which model, on which features,
/// with which hyper-parameters and seed. Loaded as strictly as profiles, with `FILE:LINE:COLUMN` errors.
public struct TrainingConfig: Sendable, Equatable {
    /// The registered model's name.
    public var model: String
    /// `mlp` or `linear`.
    public var kind: String
    public var featureSet: String
    /// The feature table version to train on; nil for the latest.
    public var featureTableVersion: Int?
    /// The features the model uses, by name; empty for all of the set's (and of its joined views'), in order.
    /// A joined view's features are named `VIEW.FEATURE`.
    public var features: [String]
    /// Further feature views joined to `featureSet` on their entity keys (`features.views` after the first),
    /// each with its pinned feature table version or nil for the one built from the same silver (docs/models.md).
    public var joinedViews: [JoinedView] = []
    /// Whether the config names its views with `features.views` (rather than `set` and `table`).
    public var viewsDeclared = false

    public var hidden: [Int]
    public var learningRate: Double
    public var batchQueries: Int
    public var maxEpochs: Int
    public var patience: Int
    public var weightDecay: Double
    /// `constant` or `cosine` (decay to 0 over max_epochs).
    public var lrSchedule: String
    public var seed: UInt64
    public var threads: Int
    /// Who owns the model: team, approvers, policy keys, notifiers (docs/models.md); nil when not written.
    public var owners: ModelOwners?
    /// The file it came from.
    public var file: String

    /// The training hyper-parameters as strings, as a run records them (`joined_views` only when there are).
    public var parameters: [String: String] {
        var parameters = [
            "model": model, "kind": kind, "feature_set": featureSet,
            "feature_table": featureTableVersion.map(String.init) ?? "latest",
            "features": features.isEmpty ? "all" : features.joined(separator: ","),
            "hidden": hidden.map(String.init).joined(separator: ","), "learning_rate": String(learningRate),
            "batch_queries": String(batchQueries), "max_epochs": String(maxEpochs), "patience": String(patience),
            "weight_decay": String(weightDecay), "seed": String(seed), "threads": String(threads),
            "lr_schedule": lrSchedule,
        ]
        if !joinedViews.isEmpty { parameters["joined_views"] = joinedViews.map(\.reference).joined(separator: ",") }
        return parameters
    }

    /// Loads a configuration, applying `--set KEY=VALUE` overrides (dotted keys, YAML values).
    public static func load(path: String, displayName: String, overrides: [String] = []) throws(ProfileError) -> TrainingConfig {
        let text = try YAMLBounds.read(path: path, displayName: displayName, fix: "give a readable UTF-8 YAML file with --config")
        return try parse(text, displayName: displayName, overrides: overrides)
    }

    /// Parses a configuration's text (read from a commit, say), applying `--set KEY=VALUE` overrides.
    public static func parse(_ text: String, displayName: String, overrides: [String] = []) throws(ProfileError)
        -> TrainingConfig
    {
        var tree = try YAMLTree.parse(text, file: displayName)
        for override in overrides { tree = tree.merged(with: try overrideTree(override)) }
        return try decode(tree, file: displayName)
    }

    /// Parses `a.b=value` into a tree `{a: {b: value}}`.
    static func overrideTree(_ text: String) throws(ProfileError) -> YAMLTree {
        let origin = "--set \(text)"
        guard let eq = text.firstIndex(of: "="), eq != text.startIndex else {
            throw ProfileError(
                location: SourceLocation(file: origin, line: 1, column: 1), problem: "not KEY=VALUE",
                fix: "write --set training.learning_rate=0.003")
        }
        let keys = text[..<eq].split(separator: ".").map(String.init)
        var node = try YAMLTree.parse(String(text[text.index(after: eq)...]), file: origin)
        for key in keys.reversed() {
            let here = SourceLocation(file: origin, line: 1, column: 1)
            node = .mapping([YAMLTree.Entry(key: key, keyLocation: here, value: node)], here)
        }
        return node
    }

    static func decode(_ tree: YAMLTree, file: String) throws(ProfileError) -> TrainingConfig {
        let top = try MappingReader(
            tree, path: "", allowed: ["model", "kind", "features", "training", "owners"], required: ["model"])
        let model = try top.requiredString("model")
        guard model.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }) else {
            throw ProfileError(
                location: top.node("model")?.location ?? top.location,
                problem: "model name '\(model)' has characters a name cannot",
                fix: "use letters, digits, '-', '_' and '.'")
        }
        let kind = try top.string("kind") ?? "mlp"
        guard ["mlp", "linear"].contains(kind) else {
            throw ProfileError(
                location: top.node("kind")?.location ?? top.location, problem: "unknown model kind '\(kind)'",
                fix: "write mlp or linear")
        }
        var config = TrainingConfig(
            model: model, kind: kind, featureSet: "relevance_v1", featureTableVersion: nil, features: [], hidden: [256, 128],
            learningRate: 0.001, batchQueries: 64, maxEpochs: 20, patience: 3, weightDecay: 0, lrSchedule: "constant", seed: 7,
            threads: 1,
            file: file)
        if let node = top.node("owners") { config.owners = try ModelOwners.decode(node, file: file) }
        if let node = top.node("features") {
            let f = try MappingReader(node, path: "features", allowed: ["set", "table", "names", "views"])
            config.featureSet = try f.string("set") ?? config.featureSet
            if f.node("views") != nil { try config.readViews(f) }
            if let table = f.node("table") {
                if case .scalar("latest", _, _) = table {
                    config.featureTableVersion = nil
                } else {
                    config.featureTableVersion = try f.int("table", range: 1...1_000_000)
                }
            }
            config.features = try f.stringList("names")
        }
        if let node = top.node("training") {
            let t = try MappingReader(
                node, path: "training",
                allowed: [
                    "hidden", "learning_rate", "batch_queries", "max_epochs", "patience", "weight_decay", "seed", "threads",
                    "lr_schedule",
                ])
            if t.node("hidden") != nil {
                config.hidden = []
                for item in try t.list("hidden") {
                    guard case .scalar(let text, false, _) = item, let width = Int(text), (1...8192).contains(width) else {
                        throw ProfileError(
                            location: item.location,
                            problem: "training.hidden: a layer width must be a whole number from 1 to 8192, not "
                                + MappingReader.quote(item),
                            fix: "write hidden: [256, 128]")
                    }
                    config.hidden.append(width)
                }
            }
            config.learningRate = try t.double("learning_rate", range: 1e-7...1) ?? config.learningRate
            config.batchQueries = try t.int("batch_queries", range: 1...100_000) ?? config.batchQueries
            config.maxEpochs = try t.int("max_epochs", range: 1...10_000) ?? config.maxEpochs
            config.patience = try t.int("patience", range: 1...10_000) ?? config.patience
            config.weightDecay = try t.double("weight_decay", range: 0...1) ?? config.weightDecay
            config.seed = UInt64(try t.int("seed", range: 0...Int.max) ?? Int(config.seed))
            config.threads = try t.int("threads", range: 1...256) ?? config.threads
            if let schedule = try t.string("lr_schedule") {
                guard ["constant", "cosine"].contains(schedule) else {
                    throw ProfileError(
                        location: t.node("lr_schedule")?.location ?? t.location,
                        problem: "training.lr_schedule is '\(schedule)'", fix: "write constant or cosine")
                }
                config.lrSchedule = schedule
            }
        }
        return config
    }
}

/// A hyper-parameter search (`tandem train --sweep FILE`).
public struct SweepSpec: Sendable, Equatable {
    public enum Method: String, Sendable, CaseIterable { case grid, random }
    public var method: Method
    /// Trials for a random search (grid searches try every combination).
    public var trials: Int
    /// Trials run at once.
    public var parallel: Int
    /// The validation metric that picks the best trial.
    public var metric: String
    public var seed: UInt64
    /// Dotted configuration keys and the values to try, each value as YAML text (`0.003`, `[256, 128]`).
    public var parameters: [(key: String, values: [String])]

    public static func == (a: SweepSpec, b: SweepSpec) -> Bool {
        a.method == b.method && a.trials == b.trials && a.parallel == b.parallel && a.metric == b.metric && a.seed == b.seed
            && a.parameters.map(\.key) == b.parameters.map(\.key) && a.parameters.map(\.values) == b.parameters.map(\.values)
    }

    /// The most trials a sweep may run (a grid's every combination, or a random search's `trials`).
    public static let maxTrials = 10_000

    /// The trials: each a list of `KEY=VALUE` overrides, in a fixed order (a grid's combinations with the last
    /// parameter varying fastest; a random search picks combinations without building the whole grid).
    public func trialOverrides() -> [[String]] {
        let sizes = parameters.map(\.values.count)
        let total = Self.combinations(sizes) ?? 0
        func combination(_ index: Int) -> [String] {
            var rest = index
            var digits = [Int](repeating: 0, count: sizes.count)
            for k in sizes.indices.reversed() {
                digits[k] = rest % sizes[k]
                rest /= sizes[k]
            }
            return parameters.indices.map { "\(parameters[$0].key)=\(parameters[$0].values[digits[$0]])" }
        }
        guard method == .random else { return (0..<total).map(combination) }
        // The same picks as drawing from a list of every combination and removing each drawn one: `taken` holds
        // the drawn indices in order, so the r-th combination still in the pool is found by skipping them.
        var state = seed
        var taken: [Int] = []
        var picked: [[String]] = []
        while picked.count < trials && taken.count < total {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            var index = Int((z ^ (z >> 31)) % UInt64(total - taken.count))
            for t in taken where t <= index { index += 1 }
            taken.insert(index, at: taken.firstIndex { $0 > index } ?? taken.count)
            picked.append(combination(index))
        }
        return picked
    }

    /// How many combinations lists of these sizes make; nil beyond 2^62.
    static func combinations(_ sizes: [Int]) -> Int? {
        var total = 1
        for size in sizes {
            let (product, overflow) = total.multipliedReportingOverflow(by: size)
            guard !overflow, product <= 1 << 62 else { return nil }
            total = product
        }
        return total
    }

    public static func load(path: String, displayName: String) throws(ProfileError) -> SweepSpec {
        let text = try YAMLBounds.read(path: path, displayName: displayName, fix: "give a readable UTF-8 YAML file with --sweep")
        let tree = try YAMLTree.parse(text, file: displayName)
        let top = try MappingReader(
            tree, path: "", allowed: ["method", "trials", "parallel", "metric", "seed", "parameters"],
            required: ["parameters"])
        let metric = try top.string("metric") ?? "ndcg@10"
        try ProfileDecoder.checkMetric(metric, node: top.node("metric"), reader: top)
        guard case .mapping(let entries, let location)? = top.node("parameters"), !entries.isEmpty else {
            throw ProfileError(
                location: top.node("parameters")?.location ?? top.location,
                problem: "'parameters' must map configuration keys to lists of values",
                fix: "write parameters: {training.learning_rate: [0.001, 0.003]}")
        }
        _ = location
        var parameters: [(String, [String])] = []
        for entry in entries {
            guard case .sequence(let items, _) = entry.value, !items.isEmpty else {
                throw ProfileError(
                    location: entry.value.location, problem: "'\(entry.key)' must list the values to try",
                    fix: "write \(entry.key): [a, b]")
            }
            parameters.append((entry.key, items.map(Self.yamlText)))
        }
        let method = try top.choice("method", Method.self) ?? .grid
        let combinations = Self.combinations(parameters.map(\.1.count))
        if method == .grid ? (combinations ?? .max) > maxTrials : combinations == nil {
            let sizes = parameters.map { String($0.1.count) }.joined(separator: " × ")
            throw ProfileError(
                location: top.node("parameters")?.location ?? top.location,
                problem: "the grid of 'parameters' (\(sizes) values) has "
                    + "\(combinations.map(String.init) ?? "over 2^62") combinations, more than "
                    + (method == .grid ? "the \(maxTrials) trials a sweep may run" : "a random search can draw from"),
                fix: method == .grid
                    ? "list fewer values, or write `method: random` with `trials:` to try a sample of them" : "list fewer values")
        }
        return SweepSpec(
            method: method, trials: try top.int("trials", range: 1...maxTrials) ?? 8,
            parallel: try top.int("parallel", range: 1...256) ?? 2, metric: metric,
            seed: UInt64(try top.int("seed", range: 0...Int.max) ?? 1), parameters: parameters)
    }

    static func yamlText(_ node: YAMLTree) -> String {
        switch node {
        case .scalar(let text, let quoted, _): quoted ? "'\(text.replacingOccurrences(of: "'", with: "''"))'" : text
        case .sequence(let items, _): "[" + items.map(yamlText).joined(separator: ", ") + "]"
        case .mapping(let entries, _): "{" + entries.map { "\($0.key): \(yamlText($0.value))" }.joined(separator: ", ") + "}"
        }
    }
}
