import Foundation
import TandemFeatures
import TandemLakehouse
import TandemStorage
import Testing

@testable import TandemLearning

@Suite("Inference pipeline")
struct InferenceParityTests {
    @Test("the inference pipeline's scores equal the offline scores of the same gold rows, bit for bit")
    func parity() throws {
        let folder = NSTemporaryDirectory() + "tandem-parity-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        _ = try FixtureGenerator(queries: 40, seed: 3).write(to: folder + "/input")
        try RootGuard.claim(path: folder + "/features", environment: "test", role: .features, writer: .stage("test"))
        let store = try FeatureStore(root: folder + "/features")
        _ = try ETLPipeline(store: store, options: .init(environment: "test", inputFolder: folder + "/input")).run()
        let table = try store.featureTable(FeatureTableReference(featureSet: "relevance_v1", version: nil))
        let gold = try GoldTable.load(folder: store.goldFolder(of: table), expectedDigest: table.digest)
        let split = GoldSplit(gold)
        var settings = TrainingSettings()
        settings.hidden = [32]
        settings.maxEpochs = 2
        // .ci/run runs this suite with 1 and 2 threads under every OpenBLAS core type.
        let threads = Int(ProcessInfo.processInfo.environment["TANDEM_TEST_THREADS"] ?? "") ?? 1
        settings.threads = threads
        let sig = ModelSignature(
            featureSet: "relevance_v1", featureSetVersion: 1, featureTable: table.reference,
            features: try FeatureViewCatalogue.relevanceV1().featureSet.names.map { .init(name: $0, type: "float32") })
        let model = Trainer(settings: settings, train: split.train, validation: split.validation, signature: sig).run().model
        let offline = Scorer(model: model, threads: threads).score(gold.features, rows: gold.rowCount)
        let pipeline = InferencePipeline(
            features: InferenceFeatures(view: try store.view(of: table), videos: try store.silverVideos()),
            scorer: Scorer(model: model), columns: Array(0..<56))
        let groups = QueryGroups(queries: gold.queries)
        for g in 0..<groups.count {
            let range = groups.range(g)
            let response = try pipeline.rank(
                .init(
                    query: gold.queries[range.lowerBound], candidates: range.map { gold.videoURLs[$0] },
                    at: try #require(DataTimestamp(gold.judgedAt[range.lowerBound]))))
            // Rows of one query may have different judgment times; compare those judged at the request's time.
            for (url, score) in response.ranked {
                guard
                    let row = range.first(where: {
                        gold.videoURLs[$0] == url && gold.judgedAt[$0] == gold.judgedAt[range.lowerBound]
                    })
                else { continue }
                #expect(score.bitPattern == offline[row].bitPattern, "\(gold.queries[row]) \(url)")
            }
            #expect(response.ranked.map(\.score) == response.ranked.map(\.score).sorted(by: >))
            #expect(response.ranked.allSatisfy { $0.score.isFinite })
        }
    }
}
