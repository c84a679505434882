import Foundation
import TandemTestSupport
import Testing

/// Runs one statement with the sqlite3 shell on an environment's registry, as someone with write access to the
/// root would (the triggers can be dropped first).
func sqlite(_ repo: ScratchRepository, _ environment: String, _ statement: String) throws {
    let run = try Binaries.run(
        "/usr/bin/env", ["sqlite3", repo.root + "/.tandem/\(environment)/registry/registry.sqlite", statement])
    #expect(run.status == 0, "sqlite3: \(run.stderr)")
}

/// A repository with relevance-ranker@1 trained and registered in test, its lock file committed on main.
func registeredRepository() async throws -> (ScratchRepository, [String: Any]) {
    let repo = try await trainedRepository()
    let train = try await repo.run("tandem-train", ["--env", "test", "--set", "training.max_epochs=1", "--json"])
    #expect(train.status == 0, "\(train.stderr)")
    return (repo, try json(train.stdout))
}

@Suite("Tampering with a registry is detected by models verify and models history, end to end", .serialized)
struct TamperingBinaryTests {
    @Test("a flipped byte in the stored artifact: models verify exits 3 naming the artifact")
    func flippedArtifactByte() async throws {
        let (repo, train) = try await registeredRepository()
        defer { repo.remove() }
        let verify = try await repo.run("tandem-models", ["verify", "--env", "test"])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        #expect(verify.stdout.contains("the artifact's bytes match"), "\(verify.stdout)")
        let path = try #require(train["artifact"] as? String)
        chmod(path, 0o644)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[bytes.count / 2] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: path))
        let flipped = try await repo.run("tandem-models", ["verify", "--env", "test"])
        #expect(flipped.status == 3, "\(flipped.stdout)\(flipped.stderr)")
        #expect(flipped.stdout.contains("TAMPERED: \(path): the artifact does not match its digest"), "\(flipped.stdout)")
        #expect(flipped.stderr.contains("the test registry was tampered with"), "\(flipped.stderr)")
    }

    @Test("an alias row and a version row edited with the SQLite CLI (trigger dropped): history and verify exit 3 naming them")
    func editedRows() async throws {
        let (repo, first) = try await registeredRepository()
        defer { repo.remove() }
        #expect(
            try await repo.run("tandem-models", ["alias", "--env", "test", "relevance-ranker", "challenger", "1"]).status == 0)
        let second = try json(
            try await repo.run("tandem-train", ["--env", "test", "--set", "training.max_epochs=2", "--json"]).stdout)
        let digest1 = try #require(first["digest"] as? String)
        let digest2 = try #require(second["digest"] as? String)
        let clean = try await repo.run("tandem-models", ["history", "--env", "test"])
        #expect(clean.status == 0, "\(clean.stdout)\(clean.stderr)")
        #expect(clean.stdout.contains("audit chain intact"), "\(clean.stdout)")

        try sqlite(repo, "test", "UPDATE aliases SET version = 2 WHERE alias = 'challenger'")
        let alias = try await repo.run("tandem-models", ["history", "--env", "test"])
        #expect(alias.status == 3, "\(alias.stdout)\(alias.stderr)")
        #expect(!alias.stdout.contains("audit chain intact"))
        #expect(
            alias.stdout.contains("TAMPERED: relevance-ranker@challenger points at version 2 in the registry, but entry"),
            "\(alias.stdout)")
        let verify = try await repo.run("tandem-models", ["verify", "--env", "test"])
        #expect(verify.status == 3, "\(verify.stdout)\(verify.stderr)")
        #expect(verify.stdout.contains("relevance-ranker@challenger points at version 2"))
        try sqlite(repo, "test", "UPDATE aliases SET version = 1 WHERE alias = 'challenger'")
        #expect(try await repo.run("tandem-models", ["history", "--env", "test"]).status == 0)

        // Version 1's row made to name version 2's artifact (whose bytes are intact): only the audit chain says so.
        try sqlite(
            repo, "test",
            "DROP TRIGGER model_versions_immutable; "
                + "UPDATE model_versions SET body = json_set(body, '$.artifact_digest', '\(digest2)') WHERE version = 1")
        let digest = try await repo.run("tandem-models", ["history", "--env", "test"])
        #expect(digest.status == 3, "\(digest.stdout)\(digest.stderr)")
        #expect(
            digest.stdout.contains(
                "TAMPERED: relevance-ranker@1: the registry's artifact digest is \(digest2.prefix(12))…, entry 1 registered \(digest1.prefix(12))…"
            ), "\(digest.stdout)")
        // Only a metric changed: the version's record no longer has the digest its entry registered.
        try sqlite(
            repo, "test",
            "UPDATE model_versions SET body = json_set(json_set(body, '$.artifact_digest', '\(digest1)'), "
                + "'$.metrics.\"ndcg@10\"', 0.999) WHERE version = 1")
        let metric = try await repo.run("tandem-models", ["history", "--env", "test", "--json"])
        #expect(metric.status == 3)
        let problems = (try json(metric.stdout)["integrity"] as? [String: Any])?["problems"] as? [String] ?? []
        #expect(
            problems.count == 1 && problems.first?.hasPrefix("relevance-ranker@1: the version's record") == true, "\(problems)")
    }

    @Test("the last audit entry deleted, with the version row it registered: the lock file's anchor says the log was cut short")
    func deletedTail() async throws {
        let (repo, _) = try await registeredRepository()
        defer { repo.remove() }
        let second = try await repo.run("tandem-train", ["--env", "test", "--set", "training.max_epochs=1"])
        #expect(second.status == 0, "\(second.stderr)")
        let lock = try json(try String(contentsOfFile: repo.root + "/models/relevance-ranker.lock.json", encoding: .utf8))
        let head = try #require(lock["audit_head"] as? [String: Any])
        let sequence = try #require(head["sequence"] as? Int)
        let clean = try await repo.run("tandem-models", ["history", "--env", "test"])
        #expect(clean.stdout.contains("anchored at entry \(sequence) by 2 lock file revision(s)"), "\(clean.stdout)")
        // The registry then looks as it did before version 2: only the anchor outside it says otherwise.
        try sqlite(
            repo, "test",
            "DELETE FROM audit_log WHERE sequence = (SELECT MAX(sequence) FROM audit_log); "
                + "DELETE FROM model_versions WHERE version = 2")
        let history = try await repo.run("tandem-models", ["history", "--env", "test", "--json"])
        #expect(history.status == 3, "\(history.stdout)\(history.stderr)")
        let problems = (try json(history.stdout)["integrity"] as? [String: Any])?["problems"] as? [String] ?? []
        #expect(problems.count == 1, "\(problems)")
        #expect(
            problems.first?.contains("anchors audit entry \(sequence)") == true
                && problems.first?.contains("entries were deleted from its end") == true, "\(problems)")
        let text = try await repo.run("tandem-models", ["history", "--env", "test"])
        #expect(text.status == 3 && !text.stdout.contains("audit chain intact"))
        #expect(try await repo.run("tandem-models", ["verify", "--env", "test"]).status == 3)
    }

    @Test("lock files written against another registry (another machine's test registry) are not taken for tampering")
    func otherRegistry() async throws {
        let (repo, _) = try await registeredRepository()
        defer { repo.remove() }
        // A fresh test registry (another machine, say) under the same history.
        try FileManager.default.removeItem(atPath: repo.root + "/.tandem/test/registry")
        let train = try await repo.run("tandem-train", ["--env", "test", "--set", "training.max_epochs=1"])
        #expect(train.status == 0, "\(train.stderr)")
        let history = try await repo.run("tandem-models", ["history", "--env", "test"])
        #expect(history.status == 0, "\(history.stdout)\(history.stderr)")
        #expect(history.stdout.contains("anchored at entry 1 by 1 lock file revision(s) (1 other anchor(s)"), "\(history.stdout)")
        #expect(try await repo.run("tandem-models", ["verify", "--env", "test"]).status == 0)
    }

    @Test("prod after a promotion: its promoted entry deleted, then the whole tail and the alias rows: still detected")
    func deletedProdTail() async throws {
        let r = try await PromotionRepository.make()
        defer { r.remove() }
        let (_, id) = try await r.start()
        #expect(try await r.promote(["approve", "--env", "test", id], as: "alice").status == 0)
        let clean = try await r.repo.run("tandem-models", ["history", "--env", "prod"])
        #expect(clean.status == 0 && clean.stdout.contains("anchored at entry 1"), "\(clean.stdout)\(clean.stderr)")

        // The promotion.promoted entry (the last) removes nothing from the tables: the production lock's anchor
        // expects it.
        try sqlite(r.repo, "prod", "DELETE FROM audit_log WHERE action = 'promotion.promoted'")
        let promoted = try await r.repo.run("tandem-models", ["history", "--env", "prod"])
        #expect(promoted.status == 3, "\(promoted.stdout)")
        #expect(promoted.stdout.contains("was written by promotion \(id), but the log has no promotion.promoted entry"))
        // The alias entries too, with the alias rows: the tables agree with what is left, the anchor still does not.
        try sqlite(r.repo, "prod", "DELETE FROM audit_log WHERE sequence > 1; DELETE FROM aliases")
        let aliases = try await r.repo.run("tandem-models", ["history", "--env", "prod", "--json"])
        #expect(aliases.status == 3)
        let problems = (try json(aliases.stdout)["integrity"] as? [String: Any])?["problems"] as? [String] ?? []
        #expect(problems.count == 1 && problems.first?.contains("promotion \(id)") == true, "\(problems)")
        // Into the anchored entry: the log ends before the anchor.
        try sqlite(r.repo, "prod", "DELETE FROM audit_log; DELETE FROM model_versions; DELETE FROM registered_models")
        try await PromotionRepository.git(["checkout", "-q", "production"], in: r.root)
        let verify = try await r.repo.run("tandem-models", ["verify", "--env", "prod"])
        #expect(verify.status == 3, "\(verify.stdout)\(verify.stderr)")
        #expect(verify.stdout.contains("anchors a log whose first entry is sha256:"), "\(verify.stdout)")
        #expect(verify.stdout.contains("but this registry's is missing (the log is empty)"), "\(verify.stdout)")
    }
}
