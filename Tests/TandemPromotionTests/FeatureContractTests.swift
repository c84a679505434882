import Foundation
import TandemCore
import TandemFeatures
import TandemLearning
import TandemPipeline
import TandemProfiles
import TandemRegistry
import TandemStorage
import Testing

@testable import TandemLakehouse
@testable import TandemPromotion

/// Two feature stores built from the same raw data: one with relevance_v1 as declared, one whose relevance_v1@1
/// was built with another definition (BM25's k1 changed), as another environment's store may be.
private struct TwoStores {
    let folder: String
    let trained: FeatureStore
    let other: FeatureStore

    init() throws {
        let folder = NSTemporaryDirectory() + "tandem-contract-\(UUID().uuidString)"
        _ = try FixtureGenerator(queries: 40, seed: 5).write(to: folder + "/input")
        func store(_ name: String, _ view: FeatureView) throws -> FeatureStore {
            try RootGuard.claim(path: "\(folder)/\(name)", environment: name, role: .features, writer: .stage("test"))
            let store = try FeatureStore(root: "\(folder)/\(name)")
            _ = try ETLPipeline(store: store, options: .init(environment: name, inputFolder: folder + "/input", view: view))
                .run()
            return store
        }
        let text = try #require(BuiltinFeatureViews.files["features/relevance_v1.yaml"])
        let changed = text.replacingOccurrences(of: "bm25(qd, title, k1=1.2, b=0.75)", with: "bm25(qd, title, k1=2.0, b=0.75)")
        #expect(changed != text)
        self.folder = folder
        trained = try store("test", try FeatureViewCatalogue.relevanceV1())
        other = try store("prod", try FeatureViewCatalogue.compile(changed, file: "features/relevance_v1.yaml"))
    }

    /// A model trained for one epoch on the trained store's table (joined with `joining`), its artifact written
    /// and read back.
    func model(joining: [(name: String, table: Int?)] = []) throws -> RankerModel {
        let inputs = try TrainingInputs(
            store: trained, featureSet: "relevance_v1", tableVersion: nil, features: [], joining: joining)
        var settings = TrainingSettings()
        settings.hidden = [16]
        settings.maxEpochs = 1
        var model = Trainer(
            settings: settings, train: inputs.split.train, validation: inputs.split.validation, signature: inputs.signature
        ).run().model
        model.featureContract = inputs.featureContract
        return try ModelArtifact.decode(ModelArtifact.encode(model, metrics: [:], settings: settings), source: "m").0
    }

    /// Requests of held-out gold queries, with their candidates.
    func requests() throws -> [InferencePipeline.Request] {
        let table = try trained.featureTable(FeatureTableReference(featureSet: "relevance_v1", version: nil))
        let gold = try GoldTable.load(folder: trained.goldFolder(of: table), expectedDigest: table.digest)
        let groups = QueryGroups(queries: gold.queries)
        return (0..<min(groups.count, 10)).map { g in
            let range = groups.range(g)
            return .init(
                query: gold.queries[range.lowerBound], candidates: range.map { gold.videoURLs[$0] },
                at: DataTimestamp(gold.judgedAt[range.lowerBound]))
        }
    }

    func scores(_ model: RankerModel, in store: FeatureStore) throws -> [[Float]] {
        let pipeline = try InferencePipeline.serving(model, store: store)
        return try requests().map { try pipeline.rank($0).ranked.map(\.score) }
    }

    func integrationTests(_ model: RankerModel, store: FeatureStore, table: String? = "relevance_v1@1") throws
        -> IntegrationTests
    {
        IntegrationTests(
            candidate: model,
            candidateVersion: ModelVersion(
                name: "relevance-ranker", version: 4, runID: nil, artifactDigest: "", artifactSize: 0, signature: "{}",
                metrics: [:], featureTable: table, dataDigest: nil, gitCommit: nil, gitBranch: nil, gitRemote: nil),
            config: try TrainingConfig.parse(
                "model: relevance-ranker\nkind: linear\nfeatures:\n  set: relevance_v1\n", displayName: "models/r.yaml"),
            views: try FeatureViewCatalogue.builtin(), sampleInput: folder + "/input", store: store, latencyBudgetMs: 1000)
    }
}

@Suite("The feature contract: a model computes its features as it was trained, in every environment")
struct FeatureContractTests {
    static let freshness = """
        view: freshness_v1
        entity: video
        owner: discovery-team
        description: popularity
        features:
          - name: log_views
            expr: log1p(video.views)
            description: log(1 + views)
        """

    @Test("a store whose recorded definition was rewritten: training refuses to freeze it (exit 3, the store named)")
    func tamperedStoreNotFrozen() throws {
        let stores = try TwoStores()
        defer { try? FileManager.default.removeItem(atPath: stores.folder) }
        // As someone with write access to the root would, with the sqlite3 shell (.ci/run installs it).
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        shell.arguments = [
            "sqlite3", stores.folder + "/test/lakehouse.sqlite",
            "DROP TRIGGER feature_view_versions_immutable; "
                + "UPDATE feature_view_versions SET source = replace(source, 'k1=1.2', 'k1=1.3')",
        ]
        try shell.run()
        shell.waitUntilExit()
        try #require(shell.terminationStatus == 0, "the sqlite3 shell is needed (apt-get install sqlite3)")
        let refused = #expect(throws: Failure.self) { try stores.model() }
        #expect(refused?.code == .tampered)
        #expect(refused?.description.contains("the store was changed behind Tandem's back") == true)
    }

    @Test("statistics removed from an artifact that records their digest are refused as tampering")
    func statisticsRemoved() throws {
        let stores = try TwoStores()
        defer { try? FileManager.default.removeItem(atPath: stores.folder) }
        var model = try stores.model()
        #expect(model.featureContract?.views[0].statisticsDigest != nil)
        model.featureContract?.views[0].statistics = nil
        let refused = #expect(throws: Failure.self) { try InferencePipeline.serving(model, store: stores.trained) }
        #expect(refused?.code == .tampered)
    }

    @Test("a champion that joins a view the challenger does not is scored on the same rows, with its own view joined")
    func championJoinsMore() throws {
        let stores = try TwoStores()
        defer { try? FileManager.default.removeItem(atPath: stores.folder) }
        _ = try ETLPipeline(
            store: stores.trained,
            options: .init(
                environment: "test", inputFolder: stores.folder + "/input",
                view: try FeatureViewCatalogue.compile(Self.freshness, file: "features/freshness_v1.yaml"))
        ).run()
        let champion = try stores.model(joining: [("freshness_v1", nil)])
        #expect(champion.signature.joined == ["freshness_v1@1"])
        let challenger = try stores.model()
        func version(_ n: Int) -> ModelVersion {
            ModelVersion(
                name: "r", version: n, runID: nil, artifactDigest: "d\(n)", artifactSize: 0, signature: "{}", metrics: [:],
                featureTable: "relevance_v1@1", dataDigest: nil, gitCommit: nil, gitBranch: nil, gitRemote: nil)
        }
        let evaluation = try FeatureStoreEvaluator(store: stores.trained).evaluate(
            challenger: EvaluatedModel(model: challenger, version: version(2)),
            champion: EvaluatedModel(model: champion, version: version(1)))
        let queries = try #require(evaluation.challenger.perQuery["ndcg@10"]?.count)
        #expect(queries > 0 && evaluation.champion?.perQuery["ndcg@10"]?.count == queries)
    }

    @Test("the artifact carries the view version and statistics of its table; another store serves it the same")
    func servedTheSameEverywhere() throws {
        let stores = try TwoStores()
        defer { try? FileManager.default.removeItem(atPath: stores.folder) }
        let table = try stores.trained.featureTable(FeatureTableReference(featureSet: "relevance_v1", version: 1))
        let otherTable = try stores.other.featureTable(FeatureTableReference(featureSet: "relevance_v1", version: 1))
        let model = try stores.model()
        let contract = try #require(model.featureContract)
        let entry = try #require(contract.view("relevance_v1"))
        #expect(entry.table == "relevance_v1@1")
        #expect(entry.digest == (try stores.trained.viewVersion(of: table))?.digest)
        #expect(entry.statisticsDigest == (try stores.trained.frozenStatistics(of: table))?.digest)
        #expect(entry.statistics != nil)
        // The other store's relevance_v1@1 is another definition: the same number, not the same features.
        #expect((try stores.other.viewVersion(of: otherTable))?.digest != entry.digest)
        let home = try stores.scores(model, in: stores.trained)
        #expect(!home.isEmpty && home.allSatisfy { !$0.isEmpty })
        #expect(try stores.scores(model, in: stores.other) == home)
        // Without its contract, the other store would serve it with its own definition: different scores.
        var bare = model
        bare.featureContract = nil
        #expect(try stores.scores(bare, in: stores.trained) == home)
        #expect(try stores.scores(bare, in: stores.other) != home)
    }

    @Test("a contract changed in the artifact is refused as tampering (exit 3), naming what changed")
    func tamperedContract() throws {
        let stores = try TwoStores()
        defer { try? FileManager.default.removeItem(atPath: stores.folder) }
        let model = try stores.model()
        var source = model
        let text = try #require(model.featureContract?.views[0].source)
        source.featureContract?.views[0].source = text.replacingOccurrences(of: "k1=1.2", with: "k1=1.5")
        let changedSource = #expect(throws: Failure.self) { try InferencePipeline.serving(source, store: stores.trained) }
        #expect(changedSource?.code == .tampered)
        #expect(changedSource?.description.contains("relevance_v1@1") == true)
        var statistics = model
        statistics.featureContract?.views[0].statistics?.documents[0].videos += 1
        let changedStatistics = #expect(throws: Failure.self) {
            try InferencePipeline.serving(statistics, store: stores.trained)
        }
        #expect(changedStatistics?.code == .tampered)
        #expect(changedStatistics?.description.contains("corpus statistics") == true)
    }

    @Test("the promotion's feature gate passes a model whose contract is its table's, and names the views otherwise")
    func featureGate() throws {
        let stores = try TwoStores()
        defer { try? FileManager.default.removeItem(atPath: stores.folder) }
        let model = try stores.model()
        let passed = try stores.integrationTests(model, store: stores.trained).featureParity()
        #expect(passed.contains("relevance_v1@1") && passed.contains("prod computes the features it was trained on"))
        // The same table number, built with another definition: the gate names the view and both digests.
        let other = #expect(throws: Failure.self) { try stores.integrationTests(model, store: stores.other).featureParity() }
        #expect(other?.description.contains("relevance_v1: the artifact's definition") == true)
        // No contract (an older artifact, or one made outside Tandem): refused, saying to retrain.
        var bare = model
        bare.featureContract = nil
        let none = #expect(throws: Failure.self) { try stores.integrationTests(bare, store: stores.trained).featureParity() }
        #expect(none?.description.contains("carries no feature contract") == true)
        // A version registered as trained on another table than its artifact froze.
        let moved = #expect(throws: Failure.self) {
            try stores.integrationTests(model, store: stores.trained, table: "relevance_v1@2").featureParity()
        }
        #expect(
            moved?.description.contains("the artifact froze relevance_v1@1, but the version was trained on relevance_v1@2")
                == true)
        // Statistics other than the table's.
        var statistics = model
        statistics.featureContract?.views[0].statisticsDigest = String(repeating: "0", count: 64)
        let stats = #expect(throws: Failure.self) {
            try stores.integrationTests(statistics, store: stores.trained).featureParity()
        }
        #expect(stats?.description.contains("corpus statistics") == true)
    }
}
