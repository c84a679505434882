import Foundation
import TandemCore
import TandemTestSupport
import Testing

/// Every regular file under `folder` with its SHA-256, and every link with its target: what "unchanged" means.
func snapshot(_ folder: String) -> [String: String] {
    var out: [String: String] = [:]
    let fm = FileManager.default
    guard let walker = fm.enumerator(atPath: folder) else { return out }
    while let relative = walker.nextObject() as? String {
        let path = folder + "/" + relative
        if let target = try? fm.destinationOfSymbolicLink(atPath: path) {
            out[relative] = "link → " + target
        } else if let data = fm.contents(atPath: path) {
            out[relative] = ContentDigest.sha256Hex(data)
        }
    }
    return out
}

/// A scratch repository whose prod registry holds relevance-ranker@1 as champion (trained in test, then moved to
/// prod's root and stamped for prod, as a promotion would leave it), and whose test registry is a fresh,
/// stamped, empty root.
func repositoryWithProdRegistry() async throws -> ScratchRepository {
    let repo = try await trainedRepository()
    let train = try await repo.run("tandem-train", ["--env", "test", "--set", "training.max_epochs=1", "--no-lock"])
    #expect(train.status == 0, "\(train.stderr)")
    let alias = try await repo.run("tandem-models", ["alias", "--env", "test", "relevance-ranker", "champion", "1"])
    #expect(alias.status == 0, "\(alias.stderr)")
    let fm = FileManager.default
    try fm.createDirectory(atPath: repo.root + "/.tandem/prod", withIntermediateDirectories: true)
    try fm.moveItem(atPath: repo.root + "/.tandem/test/registry", toPath: repo.root + "/.tandem/prod/registry")
    try stamp(repo.root + "/.tandem/prod/registry", environment: "prod", role: "registry")
    try fm.createDirectory(atPath: repo.root + "/.tandem/test/registry", withIntermediateDirectories: true)
    try stamp(repo.root + "/.tandem/test/registry", environment: "test", role: "registry")
    return repo
}

/// Writes a root's ownership stamp.
func stamp(_ root: String, environment: String, role: String) throws {
    try """
    {"created_at": "2026-01-01T00:00:00Z", "environment": "\(environment)", "role": "\(role)"}
    """.write(toFile: root + "/.tandem-root.json", atomically: true, encoding: .utf8)
}

@Suite("Isolation: no stage for one environment writes another's root through a link")
struct IsolationBinaryTests {
    @Test("registry.sqlite linked into prod's registry: train and alias --delete in test exit 3 naming the link; prod unchanged")
    func linkedRegistryDatabase() async throws {
        let repo = try await repositoryWithProdRegistry()
        defer { repo.remove() }
        let prod = repo.root + "/.tandem/prod/registry"
        try FileManager.default.createSymbolicLink(
            atPath: repo.root + "/.tandem/test/registry/registry.sqlite",
            withDestinationPath: "../../prod/registry/registry.sqlite")
        let before = snapshot(prod)
        #expect(before["registry.sqlite"] != nil)

        let train = try await repo.run("tandem-train", ["--env", "test", "--set", "training.max_epochs=1", "--no-lock"])
        #expect(train.status == 3, "\(train.stdout)\(train.stderr)")
        #expect(train.stderr.contains("test/registry/registry.sqlite is a symbolic link"), "\(train.stderr)")
        let delete = try await repo.run(
            "tandem-models", ["alias", "--env", "test", "relevance-ranker", "champion", "--delete"])
        #expect(delete.status == 3, "\(delete.stdout)\(delete.stderr)")
        #expect(delete.stderr.contains("registry.sqlite is a symbolic link"), "\(delete.stderr)")
        #expect(snapshot(prod) == before)
    }

    @Test("artifacts linked into prod's artifact store: train in test exits 3 naming the link; prod unchanged")
    func linkedArtifacts() async throws {
        let repo = try await repositoryWithProdRegistry()
        defer { repo.remove() }
        let prod = repo.root + "/.tandem/prod/registry"
        try FileManager.default.createSymbolicLink(
            atPath: repo.root + "/.tandem/test/registry/artifacts", withDestinationPath: "../../prod/registry/artifacts")
        let before = snapshot(prod)
        let train = try await repo.run("tandem-train", ["--env", "test", "--set", "training.max_epochs=1", "--no-lock"])
        #expect(train.status == 3, "\(train.stdout)\(train.stderr)")
        #expect(train.stderr.contains("test/registry/artifacts is a symbolic link"), "\(train.stderr)")
        #expect(snapshot(prod) == before)
    }

    @Test("the feature store: lakehouse.sqlite or gold linked into prod's: etl in test exits 3 naming the link; prod unchanged")
    func linkedFeatureStore() async throws {
        for link in ["lakehouse.sqlite", "gold"] {
            let repo = try ScratchRepository()
            defer { repo.remove() }
            let prodETL = try await repo.run("tandem-etl", ["--env", "prod"])
            #expect(prodETL.status == 0, "\(prodETL.stderr)")
            let test = repo.root + "/.tandem/test/features"
            try FileManager.default.createDirectory(atPath: test, withIntermediateDirectories: true)
            try stamp(test, environment: "test", role: "features")
            try FileManager.default.createSymbolicLink(
                atPath: test + "/" + link, withDestinationPath: "../../prod/features/" + link)
            let prod = repo.root + "/.tandem/prod/features"
            let before = snapshot(prod)
            let etl = try await repo.run("tandem-etl", ["--env", "test"])
            #expect(etl.status == 3, "\(link): \(etl.stdout)\(etl.stderr)")
            #expect(etl.stderr.contains("test/features/\(link) is a symbolic link"), "\(etl.stderr)")
            #expect(snapshot(prod) == before, "\(link)")
            let staging = snapshot(test).keys.filter { $0.contains(".staging-") }
            #expect(staging.isEmpty, "\(staging)")
        }
    }

    @Test("a hard link to prod's registry database is refused like a symbolic one")
    func hardLinkedDatabase() async throws {
        let repo = try await repositoryWithProdRegistry()
        defer { repo.remove() }
        let prod = repo.root + "/.tandem/prod/registry"
        try FileManager.default.linkItem(
            atPath: prod + "/registry.sqlite", toPath: repo.root + "/.tandem/test/registry/registry.sqlite")
        let before = snapshot(prod)
        let delete = try await repo.run(
            "tandem-models", ["alias", "--env", "test", "relevance-ranker", "champion", "--delete"])
        #expect(delete.status == 3, "\(delete.stdout)\(delete.stderr)")
        #expect(delete.stderr.contains("hard links"), "\(delete.stderr)")
        #expect(snapshot(prod) == before)
    }

    @Test("a features root that lost its stamp, or whose stamp is garbled, is damaged (exit 3), never empty nor re-stamped")
    func lostFeatureStamp() async throws {
        let repo = try ScratchRepository()
        defer { repo.remove() }
        #expect(try await repo.run("tandem-etl", ["--env", "test"]).status == 0)
        let root = repo.root + "/.tandem/test/features"
        try FileManager.default.removeItem(atPath: root + "/.tandem-root.json")
        let list = try await repo.run("tandem-features", ["list", "--env", "test"])
        #expect(list.status == 3, "\(list.stdout)\(list.stderr)")
        #expect(list.stderr.contains("no ownership stamp"), "\(list.stderr)")
        #expect(!list.stderr.contains("is empty"))
        let etl = try await repo.run("tandem-etl", ["--env", "test"])
        #expect(etl.status == 3, "\(etl.stdout)\(etl.stderr)")
        #expect(!FileManager.default.fileExists(atPath: root + "/.tandem-root.json"), "the ETL stamped a damaged root afresh")

        try "{ not json".write(toFile: root + "/.tandem-root.json", atomically: true, encoding: .utf8)
        let garbled = try await repo.run("tandem-features", ["list", "--env", "test"])
        #expect(garbled.status == 3, "\(garbled.stdout)\(garbled.stderr)")
        #expect(garbled.stderr.contains("ownership stamp is unreadable"), "\(garbled.stderr)")
    }

    @Test("a registry root that lost its stamp: train refuses it (exit 3) instead of stamping it afresh")
    func lostRegistryStamp() async throws {
        let repo = try await trainedRepository()
        defer { repo.remove() }
        #expect(try await repo.run("tandem-train", ["--env", "test", "--set", "training.max_epochs=1", "--no-lock"]).status == 0)
        let root = repo.root + "/.tandem/test/registry"
        try FileManager.default.removeItem(atPath: root + "/.tandem-root.json")
        let train = try await repo.run("tandem-train", ["--env", "test", "--set", "training.max_epochs=1", "--no-lock"])
        #expect(train.status == 3, "\(train.stdout)\(train.stderr)")
        #expect(!FileManager.default.fileExists(atPath: root + "/.tandem-root.json"))
        let notify = try await repo.run("tandem-notify", ["list", "--env", "test"])
        #expect(notify.status == 3, "\(notify.stdout)\(notify.stderr)")
    }

    @Test("four concurrent ETLs of the same input register one feature table version and one silver version")
    func concurrentETLs() async throws {
        let repo = try ScratchRepository()
        defer { repo.remove() }
        let runs = try await withThrowingTaskGroup(of: Run.self) { group in
            for _ in 0..<4 { group.addTask { try await repo.run("tandem-etl", ["--env", "test", "--json"]) } }
            return try await group.reduce(into: [Run]()) { $0.append($1) }
        }
        for run in runs { #expect(run.status == 0, "\(run.stdout)\(run.stderr)") }
        let list = try await repo.run("tandem-features", ["list", "--env", "test", "--json"])
        let versions = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
        #expect(versions.count == 1, "\(list.stdout)")
        let silver = try FileManager.default.contentsOfDirectory(atPath: repo.root + "/.tandem/test/features/silver")
        #expect(silver == ["v1"], "\(silver)")
        #expect(Set(runs.compactMap { try? json($0.stdout)["feature_table"] as? String }) == ["relevance_v1@1"])
    }

    @Test("an overlap error names the environment whose root moved and suggests its own path, not prod's")
    func overlapNamesTheRightFile() async throws {
        let repo = try ScratchRepository()
        defer { repo.remove() }
        let test = try String(contentsOfFile: repo.root + "/environments/test.yaml", encoding: .utf8)
        try repo.write(
            "environments/test.yaml",
            test.replacingOccurrences(of: "file://.tandem/test/registry", with: "file://.tandem/prod/registry"))
        let check = try await repo.run("tandem-env", ["list"])
        #expect(check.status == 2, "\(check.stdout)\(check.stderr)")
        #expect(check.stderr.contains("error: environments/test.yaml:"), "\(check.stderr)")
        #expect(
            check.stderr.contains("give 'test' its own registry root, such as file://.tandem/test/registry"), "\(check.stderr)")
        #expect(!check.stderr.contains("error: environments/prod.yaml:"), "\(check.stderr)")
    }
}
