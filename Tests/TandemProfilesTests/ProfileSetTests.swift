import Foundation
import TandemCore
import TandemStorage
import Testing

@testable import TandemProfiles

@Suite("Profile sets")
struct ProfileSetTests {
    @Test("the repository's own profiles load, and no two share a storage root")
    func repositoryProfiles() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
        let set = try ProfileSet.load(repositoryRoot: root)
        #expect(set.names == ["dev", "test", "prod"])
        var storage = Set<String>()
        for p in set.profiles.values {
            for r in [p.roots.features, p.roots.registry] {
                #expect(storage.insert(set.absolutePath(of: r) ?? r.description).inserted)
            }
        }
        let prod = try set.profile(named: "prod")
        #expect(prod.protected)
        #expect(prod.approvals.required >= 1)
    }

    @Test("two environments sharing a storage root are refused, pointing at the one whose root moved, with its own path")
    func sharedRoot() throws {
        // test is checked before prod; the error must still blame test.yaml and never suggest prod's own path.
        let repo = try TemporaryRepository([
            "prod": validProfile(name: "prod"),
            "test": validProfile(name: "test", registry: "file://.tandem/prod/registry"),
        ])
        defer { repo.remove() }
        do {
            _ = try ProfileSet.load(repositoryRoot: repo.root)
            Issue.record("accepted a shared root")
        } catch {
            #expect(error.location.file == "environments/test.yaml", "\(error)")
            #expect(error.description.contains("is the same as roots.registry of 'prod'"), "\(error)")
            #expect(error.description.contains("give 'test' its own registry root, such as file://.tandem/test/registry"))
        }
    }

    @Test("when neither shared root is conventional, the unprotected environment is blamed, and the suggestion is free")
    func sharedRootBlamesUnprotected() throws {
        let repo = try TemporaryRepository([
            "prod": validProfile(name: "prod", registry: "file://shared/registry", extra: "protected: true\n"),
            "dev": validProfile(name: "dev", registry: "file://shared/registry"),
            "qa": validProfile(name: "qa", registry: "file://.tandem/dev/registry"),
        ])
        defer { repo.remove() }
        do {
            _ = try ProfileSet.load(repositoryRoot: repo.root)
            Issue.record("accepted a shared root")
        } catch {
            #expect(error.location.file == "environments/dev.yaml", "\(error)")
            // .tandem/dev/registry is qa's: the suggestion moves past it.
            #expect(error.description.contains("such as file://.tandem/dev-2/registry"), "\(error)")
        }
    }

    @Test("a root nested inside another environment's root is refused")
    func nestedRoot() throws {
        let repo = try TemporaryRepository([
            "prod": validProfile(name: "prod"),
            "test": validProfile(name: "test", features: "file://.tandem/prod/features/inner"),
        ])
        defer { repo.remove() }
        #expect(throws: ProfileError.self) { try ProfileSet.load(repositoryRoot: repo.root) }
    }

    @Test("relative and absolute spellings of the same folder are the same root")
    func sameFolderDifferentSpelling() throws {
        let repo = try TemporaryRepository([
            "a": validProfile(name: "a", features: "file://.tandem/x/../shared"),
            "b": validProfile(name: "b", features: "file://.tandem/shared"),
        ])
        defer { repo.remove() }
        #expect(throws: ProfileError.self) { try ProfileSet.load(repositoryRoot: repo.root) }
    }

    @Test("a profile extends another, keeping its own roots, and errors point at the file that has them")
    func extends() throws {
        let repo = try TemporaryRepository([
            "test": validProfile(name: "test"),
            "prod": """
            extends: test
            roots:
              features: file://.tandem/prod/features
              registry: file://.tandem/prod/registry
              compute: local://
            approvals:
              required: 2
            """,
        ])
        defer { repo.remove() }
        let set = try ProfileSet.load(repositoryRoot: repo.root)
        let prod = try set.profile(named: "prod")
        #expect(prod.extends == "test")
        #expect(prod.approvals == ApprovalSettings(required: 2, approvers: ["alice", "bob"]))
        #expect(prod.policy.primaryMetric == "ndcg@10")
        #expect(prod.roots.features == .file(path: ".tandem/prod/features"))
    }

    @Test("extends refusals: unknown parent, cycle")
    func extendsRefusals() throws {
        let unknown = try TemporaryRepository(["prod": "extends: tset\n" + validProfile(name: "prod")])
        defer { unknown.remove() }
        do {
            _ = try ProfileSet.load(repositoryRoot: unknown.root)
            Issue.record("accepted")
        } catch {
            #expect(error.description.hasPrefix("environments/prod.yaml:1:10: 'extends' names 'tset'"), "\(error)")
        }
        let cycle = try TemporaryRepository([
            "a": "extends: b\n" + validProfile(name: "a"), "b": "extends: a\n" + validProfile(name: "b"),
        ])
        defer { cycle.remove() }
        #expect(throws: ProfileError.self) { try ProfileSet.load(repositoryRoot: cycle.root) }
    }

    @Test("an unknown environment name suggests the closest")
    func unknownEnvironment() throws {
        let repo = try TemporaryRepository(["test": validProfile(name: "test"), "prod": validProfile(name: "prod")])
        defer { repo.remove() }
        let set = try ProfileSet.load(repositoryRoot: repo.root)
        #expect(throws: ProfileError.self) { try set.profile(named: "tset") }
        do { _ = try set.profile(named: "tset") } catch { #expect(error.description.contains("did you mean 'test'?")) }
    }
}

@Suite("roots.state: where promotions and the outbox live")
struct StateRootTests {
    func load(_ files: [String: String]) throws(ProfileError) -> ProfileSet {
        try ProfileSet.load(repositoryRoot: "/srv/repo", files: files.mapValues { Data($0.utf8) }, directory: "environments")
    }

    @Test("absent: inside a file registry's root; for an MLflow registry, .tandem/NAME/state; written: its own root")
    func defaults() throws {
        let set = try load([
            "test": validProfile(name: "test"),
            "mlf": validProfile(name: "mlf", registry: "mlflow+http://127.0.0.1:5000"),
            "dev": validProfile(name: "dev").replacingOccurrences(
                of: "  compute: local://", with: "  compute: local://\n  state: file://.tandem/dev/promotions"),
        ])
        #expect(try set.profile(named: "test").roots.state == nil)
        #expect(try set.profile(named: "mlf").roots.state == .file(path: ".tandem/mlf/state"))
        #expect(try set.profile(named: "dev").roots.state == .file(path: ".tandem/dev/promotions"))
    }

    @Test("a state root that overlaps another environment's root, or is not file:// or postgres://, is refused, located")
    func refused() {
        for (text, fragment) in [
            (
                "file://.tandem/test/registry",
                "roots.state of 'dev' (file://.tandem/test/registry) is the same as roots.registry of 'test'"
            ),
            ("local://", "roots.state"),
        ] {
            do {
                _ = try load([
                    "test": validProfile(name: "test"),
                    "dev": validProfile(name: "dev").replacingOccurrences(
                        of: "  compute: local://", with: "  compute: local://\n  state: \(text)"),
                ])
                Issue.record("accepted state \(text)")
            } catch {
                #expect(error.description.contains(fragment), "\(error)")
                #expect(error.location.file == "environments/dev.yaml", "\(error)")
            }
        }
    }
}
