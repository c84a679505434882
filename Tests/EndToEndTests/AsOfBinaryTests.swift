import Foundation
import Testing

@Suite("As of a time: a feature table and a training reproduced as they were")
struct AsOfBinaryTests {
    @Test("features get --as-of gives the version current then, same digest and rows; train --as-of trains on it")
    func asOf() async throws {
        let repo = try await trainedRepository()
        defer { repo.remove() }
        // relevance_v1@1 is the fixtures'; @2 comes from other data, registered a few seconds later.
        let first = try json(try await repo.run("tandem-features", ["show", "--env", "test", "relevance_v1", "--json"]).stdout)
        let firstAt = try #require(first["created_at"] as? String)
        try await Task.sleep(for: .seconds(2.2))
        let between = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-1))
        let gen = try await repo.run("tandem-fixtures", ["generate", "--queries", "60", "--seed", "7", "--out", "other"])
        #expect(gen.status == 0, "\(gen.stderr)")
        let etl = try await repo.run("tandem-etl", ["--env", "test", "--input", "other", "--json"])
        #expect(etl.status == 0, "\(etl.stderr)")
        #expect(try json(etl.stdout)["feature_table"] as? String == "relevance_v1@2")

        let got = try await repo.run(
            "tandem-features", ["get", "--env", "test", "relevance_v1", "--as-of", between, "--output", "then.jsonl", "--json"])
        #expect(got.status == 0, "\(got.stderr)")
        let then = try json(got.stdout)
        #expect(then["version"] as? Int == 1 && then["digest"] as? String == first["digest"] as? String, "\(between)")
        let lines = try String(contentsOfFile: repo.root + "/then.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(lines.count == first["row_count"] as? Int)
        let row = try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any]
        #expect(Set(row?.keys.map { $0 } ?? []) == ["query", "video_url", "label", "features"])
        // Now is @2; before the first version there was none.
        let now = try json(try await repo.run("tandem-features", ["get", "--env", "test", "--json"]).stdout)
        #expect(now["version"] as? Int == 2)
        let before = try await repo.run("tandem-features", ["get", "--env", "test", "--as-of", "2001-01-01T00:00:00Z"])
        #expect(before.status == 2 && before.stderr.contains("the first, relevance_v1@1, was registered at \(firstAt)"))
        let bad = try await repo.run("tandem-features", ["get", "--env", "test", "--as-of", "yesterday"])
        #expect(bad.status == 2 && bad.stderr.contains("--as-of takes an RFC 3339 UTC time"), "\(bad.stderr)")

        let train = try await repo.run(
            "tandem-train", ["--env", "test", "--as-of", between, "--set", "training.max_epochs=1", "--no-lock", "--json"])
        #expect(train.status == 0, "\(train.stderr)")
        let trained = try json(train.stdout)
        #expect(trained["feature_table"] as? String == "relevance_v1@1")
        #expect(trained["data_digest"] as? String == first["digest"] as? String)
        let pinned = try await repo.run(
            "tandem-train", ["--env", "test", "--as-of", between, "--set", "features.table=2", "--no-lock"])
        #expect(pinned.status == 2 && pinned.stderr.contains("give one or the other"), "\(pinned.stderr)")
    }
}
