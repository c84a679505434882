import Foundation
import TandemCore
import TandemStorage
import Testing

@testable import TandemFeatures
@testable import TandemLakehouse

/// Feature views declared in YAML (docs/features.md): relevance_v1's declaration computes the bytes of the
/// hand-written implementation it replaced, bad definitions are refused at FILE:LINE:COLUMN, results are defined
/// for empty text, zero divisors and out-of-range values, and every definition used is kept as a version.
@Suite("Feature views")
struct FeatureViewTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    /// Runs the ETL of `input` with `view` into a fresh store; returns the store and the registered table.
    static func etl(input: String, view: FeatureView? = nil, root: String) throws -> (FeatureStore, FeatureTableVersion) {
        try RootGuard.claim(path: root, environment: "test", role: .features, writer: .stage("etl"))
        let store = try FeatureStore(root: root)
        let report = try ETLPipeline(
            store: store, options: .init(environment: "test", inputFolder: input, view: view)
        ).run()
        return (store, try store.featureTable(FeatureTableReference(report.featureTable) ?? .init(featureSet: "", version: nil)))
    }

    /// Every gold row of `table` against the oracle (the implementation before views), bit for bit.
    static func expectOracleRows(_ store: FeatureStore, _ table: FeatureTableVersion) throws {
        let gold = try GoldTable.load(folder: store.goldFolder(of: table), expectedDigest: table.digest)
        let oracle = FeatureComputer(videos: try store.silverVideos())
        #expect(gold.width == 56 && gold.rowCount > 0)
        var row = [Float](repeating: 0, count: 56)
        var mismatches = 0
        for i in 0..<gold.rowCount {
            let video = try #require(oracle.videoIndex(of: gold.videoURLs[i]))
            let at = try #require(DataTimestamp(gold.judgedAt[i]))
            row.withUnsafeMutableBufferPointer {
                oracle.computeRow(query: oracle.analyze(normalizedQuery: gold.queries[i]), videoIndex: video, at: at, into: $0)
            }
            let declared = gold.features[(i * 56)..<((i + 1) * 56)]
            if row.map(\.bitPattern) != declared.map(\.bitPattern) { mismatches += 1 }
        }
        #expect(mismatches == 0, "\(mismatches) of \(gold.rowCount) gold rows differ from the oracle's")
    }

    @Test("relevance_v1 declared: the gold of the sample equals the hand-written implementation's, bit for bit")
    func sampleEqualsOracle() throws {
        let root = NSTemporaryDirectory() + "tandem-views-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let (store, table) = try Self.etl(input: Self.repository + "/fixtures/sample", root: root)
        try Self.expectOracleRows(store, table)
        #expect(table.schema == FeatureSet.relevanceV1Oracle.features)
    }

    @Test("relevance_v1 declared: generated data (3 seeds) equals the hand-written implementation, bit for bit")
    func generatedEqualsOracle() throws {
        for seed: UInt64 in [1, 7, 2026] {
            let folder = NSTemporaryDirectory() + "tandem-views-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: folder) }
            _ = try FixtureGenerator(queries: 150, seed: seed).write(to: folder + "/input")
            let (store, table) = try Self.etl(input: folder + "/input", root: folder + "/features")
            try Self.expectOracleRows(store, table)
        }
    }

    @Test("the built-in relevance_v1 is features/relevance_v1.yaml, byte for byte")
    func builtinIsTheRepositoryFile() throws {
        let file = try String(contentsOfFile: Self.repository + "/features/relevance_v1.yaml", encoding: .utf8)
        #expect(file == BuiltinFeatureViews.relevanceV1)
        let catalogue = try FeatureViewCatalogue.inWorkingTree(Self.repository)
        #expect(try catalogue.view("relevance_v1").digest == FeatureViewCatalogue.relevanceV1().digest)
    }

    static func view(_ body: String, file: String = "features/v.yaml") throws -> FeatureView {
        try FeatureViewCatalogue.compile(body, file: file)
    }

    static func refusal(_ body: String) -> String {
        do {
            _ = try view(body)
            return "compiled"
        } catch {
            return "\(error)"
        }
    }

    static let header = "view: v\nentity: query_video\nowner: team\nfeatures:\n"

    @Test("bad definitions are refused at FILE:LINE:COLUMN, with what to do")
    func refusals() {
        let cases: [(String, String)] = [
            (
                "  - name: a\n    expr: log1p(video.veiws)\n",
                "features/v.yaml:6:17: unknown name 'video.veiws' (did you mean 'video.views'?)"
            ),
            (
                "  - name: a\n    expr: log1pp(video.views)\n",
                "features/v.yaml:6:11: unknown function 'log1pp' (did you mean 'log1p'?)"
            ),
            ("  - name: a\n    expr: video.views + tokens(query)\n", "features/v.yaml:6:25: '+' needs a number, not tokens"),
            ("  - name: a\n    expr: b + 1\n  - name: b\n    expr: a * 2\n", "a cycle: a → b → a"),
            (
                "  - name: a\n    expr: 1\n  - name: a\n    expr: 2\n",
                "features/v.yaml:7:11: 'a' is defined twice (first at features/v.yaml:5:11)"
            ),
            ("  - name: a\n    expr: bm25(tokens(query), tokens(query))\n", "bm25()'s document must be tokens of a video column"),
            ("  - name: a\n    expr: video.views == 1 == 1\n", "comparisons do not chain"),
            ("  - name: a\n    expr: video.views = 1\n", "compare with '=='"),
            ("  - name: a\n    expr: tokens(query)\n", "a feature must be a number, a bool or a vector, not tokens"),
            ("  - name: a\n    expr: bucket(video.views, [5, 1])\n", "edges must be a constant list of increasing numbers"),
            ("  - name: a\n    expr: one_hot(video.views, 3)\n", "features/v.yaml:5:11: the expression of 'a' is a vector of 3"),
            (
                "  - name: a\n    expr: bm25(tokens(query), tokens(video.title), k3=1)\n",
                "bm25() has no parameter 'k3' (did you mean 'k1'?)"
            ),
            ("  - name: a\n    expr: (video.views\n", "expected ')'"),
        ]
        for (features, expected) in cases {
            let message = Self.refusal(Self.header + features)
            #expect(message.contains(expected), "\(features) → \(message)")
        }
        #expect(
            Self.refusal("view: v\nentity: query_vidoe\nowner: t\nfeatures:\n  - name: a\n    expr: 1\n").contains(
                "features/v.yaml:2:9: unknown entity 'query_vidoe' (did you mean 'query_video'?)"))
        #expect(
            Self.refusal("view: v\nentity: video\nowner: t\nfeatures:\n  - name: a\n    expr: length(query)\n").contains(
                "features/v.yaml:6:18: a video view cannot read the query"))
        #expect(
            Self.refusal("view: v\nentity: query_video\nowner: t\nfeatures:\n  - name: a\n    exp: 1\n").contains(
                "features/v.yaml:6:5: unknown key 'exp' in 'features[0]' (did you mean 'expr'?)"))
        // A file must declare the view it is named after.
        #expect(throws: FeatureViewError.self) {
            try FeatureViewCatalogue.load(texts: ["features/other.yaml": Self.header + "  - name: a\n    expr: 1\n"])
        }
    }

    @Test("defined results: zero divisors, logs of nothing, empty text, out-of-range one_hot, missing query tokens")
    func definedResults() throws {
        let view = try Self.view(
            Self.header + """
                  - name: ratio
                    expr: video.views / video.duration_s
                  - name: ln0
                    expr: ln(video.duration_s)
                  - name: log1p_neg
                    expr: log1p(-1 - video.views)
                  - name: root
                    expr: sqrt(-1)
                  - name: chars
                    expr: length(query)
                  - name: title_tokens
                    expr: count(tokens(video.title))
                  - name: phrase
                    expr: phrase_in(tokens(query), tokens(video.title))
                  - name: bm
                    expr: bm25(tokens(query), tokens(video.title))
                  - name: oh{i}
                    expr: one_hot(video.duration_s + 7, 3)
                  - name: big
                    expr: video.views * 1e308 * 10
                  - name: pick
                    expr: if(video.views > 5, 2.5, -1)

                """)
        let video = VideoRecord(
            url: "u", title: "", description: "", channel: "", durationS: 0, views: 9, published: DataTimestamp(seconds: 0))
        let plan = ViewPlan(view: view, videos: [video])
        var row = [Float](repeating: .nan, count: plan.width)
        row.withUnsafeMutableBufferPointer {
            plan.computeRow(query: plan.analyze(normalizedQuery: ""), videoIndex: 0, at: DataTimestamp(seconds: 0), into: $0)
        }
        #expect(
            view.features.map(\.name) == [
                "ratio", "ln0", "log1p_neg", "root", "chars", "title_tokens", "phrase", "bm", "oh0", "oh1", "oh2", "big", "pick",
            ])
        // ratio 9/0 = 0; ln(0) = 0; log1p(-10) = 0; sqrt(-1) = 0; empty query 0 chars; empty title 0 tokens; an empty
        // phrase is in an empty title; BM25 of nothing 0; index 7 of 3 → zeros; an overflow is written 0; if → 2.5.
        #expect(row == [0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 2.5])
    }

    @Test("a version is the normal form: spacing and descriptions do not change it; an expression does")
    func normalForm() throws {
        let a = try Self.view(
            Self.header + "  - name: a\n    expr: bm25(tokens(query),tokens(video.title),k1 = 1.2)\n    description: x\n")
        let b = try Self.view(
            Self.header + "  - name: a\n    expr: 'bm25(tokens(query), tokens(video.title), k1=1.20)'\n    description: y\n")
        let c = try Self.view(Self.header + "  - name: a\n    expr: bm25(tokens(query), tokens(video.title), k1=1.3)\n")
        #expect(a.digest == b.digest)
        #expect(a.digest != c.digest)
        #expect(a.normalizedDefinition.contains("feature a = bm25(tokens(query), tokens(video.title), k1=1.2)"))
        let p = try Self.view(Self.header + "  - name: a\n    expr: (video.views - 1) - (2 - video.duration_s) * 3 / (1 + 1)\n")
        #expect(p.normalizedDefinition.contains("feature a = video.views - 1 - (2 - video.duration_s) * 3 / (1 + 1)"))
    }

    @Test("a second team's view in YAML alone: built, registered with its definition, kept when the file changes")
    func secondViewVersions() throws {
        let folder = NSTemporaryDirectory() + "tandem-views-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let freshness = """
            view: freshness_v1
            entity: video
            owner: discovery
            description: How fresh and how popular a video is when it is judged.
            features:
              - name: age_days
                expr: days_between(video.published, event_time)
              - name: views_per_day
                expr: video.views / max(age_days, 1)
              - name: is_new
                expr: age_days < 7
              - name: channel_bucket
                expr: hash(video.channel, 16)

            """
        let v1 = try Self.view(freshness, file: "features/freshness_v1.yaml")
        let (store, table) = try Self.etl(input: Self.repository + "/fixtures/sample", view: v1, root: folder + "/f")
        #expect(
            table.featureSet == "freshness_v1"
                && table.schema.map(\.name) == ["age_days", "views_per_day", "is_new", "channel_bucket"])
        let gold = try GoldTable.load(folder: store.goldFolder(of: table), expectedDigest: table.digest)
        #expect(gold.width == 4)
        for i in 0..<gold.rowCount {
            #expect(
                gold.features[i * 4 + 3] >= 0 && gold.features[i * 4 + 3] < 16
                    && gold.features[i * 4 + 3].rounded() == gold.features[i * 4 + 3])
        }
        // A changed definition: the next ETL registers a new table with view version 2; version 1 stays, and the
        // first table still compiles to the definition it was computed with.
        let v2 = try Self.view(
            freshness.replacingOccurrences(of: "age_days < 7", with: "age_days < 30"), file: "features/freshness_v1.yaml")
        let (_, table2) = try Self.etl(input: Self.repository + "/fixtures/sample", view: v2, root: folder + "/f")
        let versions = try store.viewVersions("freshness_v1")
        #expect(versions.map(\.version) == [1, 2])
        #expect(versions.map(\.digest) == [v1.digest, v2.digest])
        #expect(versions[0].normalized.contains("feature is_new = age_days < 7"))
        #expect(try store.view(of: table).digest == v1.digest)
        #expect(try store.view(of: table2).digest == v2.digest)
        #expect(table2.version == table.version + 1)
        // The same definition again registers nothing new.
        let (_, table3) = try Self.etl(input: Self.repository + "/fixtures/sample", view: v2, root: folder + "/f")
        #expect(table3.version == table2.version)
        #expect(try store.viewVersions("freshness_v1").count == 2)
    }
}
