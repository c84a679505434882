import Foundation
import TandemCore
import TandemProfiles
import Testing

@Suite("Models of a repository: the catalogue, owners and the model a command means")
struct ModelCatalogueTests {
    static let relevance = "model: relevance-ranker\nkind: mlp\n"
    static let popularity = """
        model: popularity-ranker
        kind: linear
        features:
          names: [bm25_title, log1p_views]
        owners:
          team: discovery
          approvers: [erin, frank]
          approvals: 2
          policy:
            min_improvement: 0.02
            first_release: pass
          notify: [team]
        """

    func profile() throws -> Profile {
        let set = try ProfileSet.load(
            repositoryRoot: "/nonexistent", files: ["prod": Data(validProfile(name: "prod").utf8)], directory: "environments")
        return try set.profile(named: "prod")
    }

    @Test("every models/*.yaml with a model: key is a model; a sweep file is not; a name configured twice is refused")
    func catalogue() throws {
        let c = try ModelCatalogue.load(texts: [
            "models/relevance.yaml": Self.relevance, "models/popularity.yaml": Self.popularity,
            "models/sweep.yaml": "method: grid\nparameters:\n  training.learning_rate: [0.001]\n",
        ])
        #expect(c.names == ["popularity-ranker", "relevance-ranker"])
        #expect(c.paths["popularity-ranker"] == "models/popularity.yaml")
        #expect(c["popularity-ranker"]?.features == ["bm25_title", "log1p_views"])
        #expect(c["popularity-ranker"]?.owners?.team == "discovery")
        #expect(c["relevance-ranker"]?.owners == nil)
        do {
            _ = try ModelCatalogue.load(texts: ["models/a.yaml": Self.relevance, "models/b.yaml": Self.relevance], label: "x@1:")
            Issue.record("a model configured twice was accepted")
        } catch {
            #expect(
                error.description.hasPrefix("x@1:models/b.yaml:1:1: model 'relevance-ranker' is configured twice"), "\(error)")
        }
    }

    @Test("owners are checked where they are written: more approvals than approvers, an unknown key")
    func ownersErrors() {
        for (text, fragment) in [
            ("model: m\nowners:\n  approvers: [erin]\n  approvals: 2\n", "models/m.yaml:4:14: owners.approvals is 2 but only 1"),
            ("model: m\nowners:\n  aprovers: [erin]\n", "unknown key 'aprovers' in 'owners' (did you mean 'approvers'?)"),
            ("model: m\nowners:\n  policy:\n    min_improvment: 1\n", "unknown key 'min_improvment' in 'owners.policy'"),
        ] {
            do {
                _ = try TrainingConfig.parse(text, displayName: "models/m.yaml")
                Issue.record("accepted: \(text)")
            } catch {
                #expect(error.description.contains(fragment), "\(error)")
            }
        }
    }

    @Test("a model's rules: its owners' approvers, approvals, policy keys and notifiers over the environment's")
    func rules() throws {
        let prod = try profile()
        let owners = try #require(try ModelCatalogue.load(texts: ["models/p.yaml": Self.popularity])["popularity-ranker"]?.owners)
        let rules = try prod.applying(owners, model: "popularity-ranker", label: "production@abc:models/p.yaml")
        #expect(rules.approvals.approvers == ["erin", "frank"] && rules.approvals.required == 2)
        #expect(rules.policy.minImprovement == 0.02 && rules.policy.firstRelease == .pass)
        #expect(rules.policy.confidence == prod.policy.confidence && rules.policy.guardrails == prod.policy.guardrails)
        #expect(rules.notifiers.map(\.name) == ["team"])
        #expect(try prod.applying(nil, model: "x", label: "") == prod)
        var unknown = owners
        unknown.notify = ["nobody"]
        #expect(throws: ProfileError.self) { try prod.applying(unknown, model: "popularity-ranker", label: "l") }
        var tooFew = ModelOwners(approvers: ["erin"])
        #expect(try prod.applying(tooFew, model: "m", label: "l").approvals.required == 1)
        tooFew.approvers = []
        do {
            _ = try prod.applying(tooFew, model: "m", label: "production@abc:models/m.yaml")
            Issue.record("a model nobody may approve was accepted")
        } catch {
            #expect(error.description.contains("m needs 1 approvals into prod"), "\(error)")
        }
    }

    @Test("the model a command means: the one named, else the one whose lock changed, else the only one, else a list")
    func resolve() throws {
        let one = try ModelCatalogue.load(texts: ["models/r.yaml": Self.relevance])
        let two = try ModelCatalogue.load(texts: ["models/r.yaml": Self.relevance, "models/p.yaml": Self.popularity])
        #expect(try one.resolve(nil) == "relevance-ranker")
        #expect(try two.resolve("popularity-ranker") == "popularity-ranker")
        #expect(try two.resolve(nil, changed: ["popularity-ranker"]) == "popularity-ranker")
        for (changed, fragment) in [
            ([String](), "this repository has 2 models (popularity-ranker, relevance-ranker)"),
            (["relevance-ranker", "popularity-ranker"], "the branch changed the lock files of 2 models"),
        ] {
            do {
                _ = try two.resolve(nil, changed: changed, what: "the rollback")
                Issue.record("resolved without a choice")
            } catch let error as Failure {
                #expect(error.code == .invalidInput && error.description.contains(fragment), "\(error)")
                #expect(error.description.contains("name the one the rollback is for with --model NAME"))
            }
        }
        #expect(throws: Failure.self) { try ModelCatalogue().resolve(nil) }
    }
}
