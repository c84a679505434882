public import Foundation
public import TandemCore
public import TandemRegistry
public import Testing

/// A registry for one check of the conformance suite, and how to alter what it stores behind its back.
public struct RegistryUnderTest: Sendable {
    public var registry: any ModelRegistry
    /// Replaces the stored bytes of the artifact with this digest, as a disk or a person editing the store would.
    public var overwriteArtifact: @Sendable (_ digest: String, _ bytes: Data) throws -> Void

    public init(registry: any ModelRegistry, overwriteArtifact: @escaping @Sendable (String, Data) throws -> Void) {
        self.registry = registry
        self.overwriteArtifact = overwriteArtifact
    }
}

/// The checks every `ModelRegistry` passes, one by one (a test runs each against each backend).
public enum RegistryCheck: String, CaseIterable, Sendable, CustomStringConvertible {
    case numbering, aliases, artifacts, artifactRequired, copies, runs, audit, appendAudit, replay

    public var description: String { rawValue }
}

/// The registry conformance suite, written once: `make` gives a fresh registry (an empty one, or one that other
/// checks share, such as an MLflow server: every check names its models with a tag of its own and looks only at
/// them), and `run` runs a check against it. A new backend runs it from a `@Test` with its own factory.
public struct RegistryConformance: Sendable {
    public let make: @Sendable () throws -> RegistryUnderTest

    public init(make: @escaping @Sendable () throws -> RegistryUnderTest) { self.make = make }

    /// Runs every check.
    public func runAll() throws { for check in RegistryCheck.allCases { try run(check) } }

    /// Runs one check against a registry of its own.
    public func run(_ check: RegistryCheck) throws {
        let subject = try make()
        let fixture = Fixture(registry: subject.registry)
        switch check {
        case .numbering: try fixture.numbering()
        case .aliases: try fixture.aliases()
        case .artifacts: try fixture.artifacts(overwrite: subject.overwriteArtifact)
        case .artifactRequired: try fixture.artifactRequired()
        case .copies: try fixture.copies()
        case .runs: try fixture.runs()
        case .audit: try fixture.audit()
        case .appendAudit: try fixture.appendAudit()
        case .replay: try fixture.replay()
        }
    }
}

/// One check's registry and the names only it uses.
struct Fixture {
    let registry: any ModelRegistry
    let tag = String(UUID().uuidString.prefix(8)).lowercased()
    var ranker: String { "ranker-" + tag }

    func version(name: String = "ranker", content: String = "weights") throws -> ModelVersion {
        let digest = try registry.storeArtifact(Data((content + tag).utf8))
        return ModelVersion(
            name: name + "-" + tag, runID: nil, artifactDigest: digest, artifactSize: content.utf8.count, signature: "{}",
            metrics: ["ndcg@10": 0.8], featureTable: "relevance_v1@1", dataDigest: "abc", gitCommit: "c0ffee",
            gitBranch: "feature", gitRemote: nil)
    }

    /// This check's entries of the log (a shared server holds other checks' too).
    func mine(_ log: [AuditEntry]) -> [AuditEntry] { log.filter { $0.subject.hasPrefix(ranker + "@") } }

    func numbering() throws {
        let r = registry
        let v1 = try r.createVersion(try version(), actor: "alice")
        let v2 = try r.createVersion(try version(content: "other"), actor: "alice")
        let w1 = try r.createVersion(try version(name: "other"), actor: "alice")
        #expect([v1.version, v2.version, w1.version] == [Int]([1, 2, 1]))
        #expect(!v1.createdAt.isEmpty)
        #expect(try r.version(.version(ranker, 2)).artifactDigest == ContentDigest.sha256Hex("other" + tag))
        #expect(try r.versions(name: ranker).map(\.version) == [1, 2])
        #expect(try r.versions(name: "never-" + tag) == [])
        #expect(try r.models().contains(ranker) && r.models().contains("other-" + tag))
        let got = try r.version(.version(ranker, 1))
        #expect(got.featureTable == "relevance_v1@1" && got.gitCommit == "c0ffee" && got.gitBranch == "feature")
        #expect(got.metrics == ["ndcg@10": 0.8] && got.dataDigest == "abc" && got.copiedFrom == nil)
        expectRegistryError(.notFound, says: "no model version ") { try r.version(.version(ranker, 3)) }
        expectRegistryError(.notFound, says: "no model version ") { try r.version(.version("never-" + tag, 1)) }
    }

    func aliases() throws {
        let r = registry
        _ = try r.createVersion(try version(), actor: "a")
        _ = try r.createVersion(try version(content: "2"), actor: "a")
        try r.setAlias(name: ranker, alias: "champion", version: 1, actor: "a")
        #expect(try r.version(.alias(ranker, "champion")).version == 1)
        try r.setAlias(name: ranker, alias: "champion", version: 2, actor: "a")
        #expect(try r.version(.alias(ranker, "champion")).version == 2)
        #expect(try r.aliases(name: ranker) == ["champion": 2])
        expectRegistryError(.notFound, says: "an alias must point at an existing version") {
            try r.setAlias(name: ranker, alias: "champion", version: 9, actor: "a")
        }
        expectRegistryError(.invalidInput, says: "cannot be an alias") {
            try r.setAlias(name: ranker, alias: "3", version: 1, actor: "a")
        }
        #expect(try r.aliases(name: ranker) == ["champion": 2], "a refused alias changes nothing")
        expectRegistryError(.notFound, says: "no model version ") { try r.version(.alias(ranker, "previous")) }
        try r.deleteAlias(name: ranker, alias: "champion", actor: "a")
        expectRegistryError(.notFound, says: "no model version ") { try r.version(.alias(ranker, "champion")) }
        expectRegistryError(.notFound, says: "no alias") { try r.deleteAlias(name: ranker, alias: "champion", actor: "a") }
        #expect(try r.aliases(name: ranker) == [:])
    }

    func artifacts(overwrite: @Sendable (String, Data) throws -> Void) throws {
        let r = registry
        let bytes = Data("model bytes \(tag)".utf8)
        let digest = try r.storeArtifact(bytes)
        #expect(digest == ContentDigest.sha256Hex(bytes))
        #expect(try r.storeArtifact(bytes) == digest)
        #expect(try r.artifact(digest: digest) == bytes)
        expectRegistryError(.tampered, says: "is missing") { try r.artifact(digest: ContentDigest.sha256Hex("never " + tag)) }
        try overwrite(digest, Data("tampered".utf8))
        expectRegistryError(.tampered, says: "does not match its digest") { try r.artifact(digest: digest) }
    }

    func artifactRequired() throws {
        var v = try version()
        v.artifactDigest = String(repeating: "a", count: 64)
        expectRegistryError(.invalidInput, says: "store it first") { try registry.createVersion(v, actor: "a") }
        #expect(try registry.versions(name: ranker) == [])
    }

    func copies() throws {
        let r = registry
        var copy = try version()
        copy.copiedFrom = "test:\(ranker)@7"
        let created = try r.createVersion(copy, actor: "engine")
        #expect(created.version == 1 && created.copiedFrom == "test:\(ranker)@7")
        #expect(try r.version(.version(ranker, 1)).copiedFrom == "test:\(ranker)@7")
        let entry = try #require(mine(try r.auditLog()).last)
        #expect(entry.action == "version.copy" && entry.actor == "engine" && entry.subject == "\(ranker)@1")
        #expect(entry.detail["copied_from"] == "test:\(ranker)@7" && entry.detail["digest"] == copy.artifactDigest)
    }

    func runs() throws {
        let r = registry
        var run = RunRecord(
            id: "r-" + tag, experiment: ranker, name: "train", startedAt: "2026-01-01T00:00:00.000Z", parameters: ["lr": "0.001"],
            tags: ["tandem.actor": "dana"], gitCommit: "abc123", gitBranch: "feature/x", gitDirty: false,
            featureTable: "relevance_v1@2", dataDigest: "d1")
        let id = try r.createRun(run)
        run.id = id
        try r.logMetrics(
            runID: id,
            [
                MetricPoint(key: "ndcg@10", value: 0.5, step: 1, timestamp: "2026-01-01T00:00:01.000Z"),
                MetricPoint(key: "ndcg@10", value: 0.6, step: 2, timestamp: "2026-01-01T00:00:02.000Z"),
            ])
        run.status = "FINISHED"
        run.endedAt = "2026-01-01T00:01:00.000Z"
        run.artifactDigest = "feed"
        try r.updateRun(run)
        let got = try r.run(id: id)
        #expect(got.status == "FINISHED" && got.parameters == ["lr": "0.001"])
        #expect(got.gitCommit == "abc123" && got.gitBranch == "feature/x")
        #expect(got.featureTable == "relevance_v1@2" && got.dataDigest == "d1" && got.artifactDigest == "feed")
        #expect(got.experiment == ranker)
        #expect(got.startedAt == "2026-01-01T00:00:00.000Z" && got.endedAt == "2026-01-01T00:01:00.000Z")
        #expect(got.tags["tandem.actor"] == "dana")
        let history = try r.metricHistory(runID: id)
        #expect(history.map(\.key) == ["ndcg@10", "ndcg@10"] && history.map(\.value) == [0.5, 0.6])
        #expect(history.map(\.step) == [1, 2])
        #expect(try r.runs(experiment: ranker, limit: 10).map(\.id) == [id])
        expectRegistryError(.notFound, says: "no run") { try r.run(id: "0123456789abcdef0123456789abcdef") }
    }

    func audit() throws {
        let r = registry
        _ = try r.createVersion(try version(), actor: "alice")
        _ = try r.createVersion(try version(content: "2"), actor: "alice")
        try r.setAlias(name: ranker, alias: "champion", version: 1, actor: "bob")
        Thread.sleep(forTimeInterval: 0.01)
        let between = Timestamp.nowMillis()
        Thread.sleep(forTimeInterval: 0.01)
        try r.setAlias(name: ranker, alias: "champion", version: 2, actor: "bob")
        try r.deleteAlias(name: ranker, alias: "champion", actor: "carol")
        let log = try r.auditLog()
        let entries = mine(log)
        #expect(entries.map(\.action) == ["version.create", "version.create", "alias.set", "alias.set", "alias.delete"])
        #expect(entries.map(\.actor) == ["alice", "alice", "bob", "bob", "carol"])
        #expect(entries[3].detail["version"] == "2" && entries[3].detail["previous"] == "1")
        #expect(entries[4].detail["previous"] == "2")
        #expect(AuditChain.firstBrokenEntry(log) == nil)
        #expect(log.map(\.sequence) == Array(1...log.count))
        #expect(AuditChain.alias("champion", of: ranker, at: between, in: log) == 1)
        #expect(AuditChain.alias("champion", of: ranker, at: Timestamp.nowMillis(), in: log) == nil)
        #expect(AuditChain.alias("champion", of: ranker, at: "2000-01-01T00:00:00Z", in: log) == nil)
        var removed = log
        removed.remove(at: removed.count - 2)
        #expect(AuditChain.firstBrokenEntry(removed) != nil)
    }

    func appendAudit() throws {
        let r = registry
        let before = try r.auditLog()
        try r.appendAudit(actor: "engine", action: "promotion.promoted", subject: "\(ranker)@1", detail: ["promotion": "p-1"])
        try r.appendAudit(actor: "engine", action: "promotion.undone", subject: "\(ranker)@1", detail: [:])
        let log = try r.auditLog()
        #expect(AuditChain.firstBrokenEntry(log) == nil)
        let added = mine(log)
        #expect(added.map(\.action) == ["promotion.promoted", "promotion.undone"])
        #expect(added.first?.detail == ["promotion": "p-1"] && added.first?.actor == "engine")
        #expect(log.count >= before.count + 2)
        #expect(AuditAnchor.head(of: log)?.sequence == log.last?.sequence)
    }

    func replay() throws {
        let r = registry
        _ = try r.createVersion(try version(), actor: "a")
        var copy = try version(content: "copied")
        copy.copiedFrom = "dev:\(ranker)@7"
        _ = try r.createVersion(copy, actor: "a")
        try r.setAlias(name: ranker, alias: "champion", version: 1, actor: "a")
        try r.setAlias(name: ranker, alias: "champion", version: 2, actor: "a")
        try r.setAlias(name: ranker, alias: "previous", version: 1, actor: "a")
        try r.deleteAlias(name: ranker, alias: "previous", actor: "a")
        #expect(try AuditReplay.differences(r, entries: try r.auditLog()).filter { $0.contains(tag) } == [])
        let versions = mine(try r.auditLog()).filter { $0.action.hasPrefix("version.") }
        #expect(versions.count == 2 && versions.allSatisfy { $0.detail["record"]?.count == 64 }, "\(versions.map(\.detail))")
        #expect(try r.versions(name: ranker).map(\.recordDigest) == versions.compactMap { $0.detail["record"] })
    }
}

/// Expects `body` to fail with a `Failure` of `code` (decided on the code; `says` checks the message names
/// the problem in the words every backend uses).
public func expectRegistryError<T>(
    _ code: Failure.Code, says: String, sourceLocation: Testing.SourceLocation = #_sourceLocation, _ body: () throws -> T
) {
    do {
        _ = try body()
        Issue.record("expected a registry error .\(code.rawValue) (\(says))", sourceLocation: sourceLocation)
    } catch let error as Failure {
        #expect(
            error.code == code, "expected .\(code.rawValue), got .\(error.code.rawValue): \(error)",
            sourceLocation: sourceLocation)
        #expect(error.description.contains(says), "expected '\(says)' in: \(error.description)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected a registry error .\(code.rawValue), got \(error)", sourceLocation: sourceLocation)
    }
}
