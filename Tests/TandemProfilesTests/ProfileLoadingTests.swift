import Foundation
import TandemCore
import Testing

@testable import TandemProfiles

@Suite("Profile loading")
struct ProfileLoadingTests {
    @Test("a valid profile loads with every key")
    func validProfileLoads() throws {
        let p = try ProfileSet.decodeSingle(validProfile(), name: "test", file: "environments/test.yaml")
        #expect(p.roots.features == .file(path: ".tandem/test/features"))
        #expect(p.roots.compute == .local(options: [:]))
        #expect(p.git.productionBranch == "main")
        #expect(p.reporter.kind == .github)
        #expect(p.reporter.tokenEnv == "GITHUB_TOKEN")
        #expect(p.notifiers.map(\.name) == ["team"])
        #expect(p.approvals == ApprovalSettings(required: 1, approvers: ["alice", "bob"]))
        #expect(p.policy.primaryMetric == "ndcg@10")
        #expect(p.policy.guardrails == [Guardrail(metric: "mrr", maxRegression: 0.01)])
        #expect(p.policy.firstRelease == .requireApproval)
        #expect(p.secretVariables.map(\.variable) == ["GITHUB_TOKEN", "SLACK_URL"])
    }

    struct Refusal: Sendable, CustomStringConvertible {
        var name: String
        var text: String
        var line: Int
        var column: Int
        var fragment: String
        var description: String { name }
    }

    static let refusals: [Refusal] = [
        Refusal(
            name: "unknown key with did-you-mean",
            text: validProfile().replacingOccurrences(of: "  registry:", with: "  registy:"),
            line: 4, column: 3, fragment: "unknown key 'registy' in 'roots' (did you mean 'registry'?)"),
        Refusal(
            name: "unknown top-level key",
            text: validProfile().replacingOccurrences(of: "description:", with: "descripton:"),
            line: 1, column: 1, fragment: "unknown key 'descripton' in the profile (did you mean 'description'?)"),
        Refusal(
            name: "wrong type",
            text: validProfile().replacingOccurrences(of: "  required: 1", with: "  required: [1]"),
            line: 18, column: 13, fragment: "approvals.required must be a whole number from 0 to 100, not a list"),
        Refusal(
            name: "a fraction for a whole number",
            text: validProfile().replacingOccurrences(of: "  required: 1", with: "  required: 1.5"),
            line: 18, column: 13, fragment: "approvals.required must be a whole number from 0 to 100, not 1.5"),
        Refusal(
            name: "a quoted number",
            text: validProfile().replacingOccurrences(of: "  required: 1", with: "  required: \"3\""),
            line: 18, column: 13,
            fragment: "approvals.required must be a whole number from 0 to 100, not \"3\" (a quoted string)"),
        Refusal(
            name: "a whole number out of range",
            text: validProfile().replacingOccurrences(
                of: "  confidence: 0.95", with: "  confidence: 0.95\n  bootstrap_resamples: 10"),
            line: 24, column: 24,
            fragment: "policy.bootstrap_resamples must be a whole number from 100 to 1000000, not 10"),
        Refusal(
            name: "a seed with no practical top",
            text: validProfile().replacingOccurrences(of: "  confidence: 0.95", with: "  confidence: 0.95\n  seed: -4"),
            line: 24, column: 9, fragment: "policy.seed must be a whole number of 0 or more, not -4"),
        Refusal(
            name: "not a boolean",
            text: validProfile(extra: "protected: yes"),
            line: 27, column: 12, fragment: "protected must be true or false, not yes"),
        Refusal(
            name: "missing required key",
            text: validProfile().replacingOccurrences(of: "  production_branch: main", with: "  remote: origin"),
            line: 7, column: 3, fragment: "missing required key 'git.production_branch'"),
        Refusal(
            name: "missing required section",
            text: validProfile().replacingOccurrences(of: "approvals:\n  required: 1\n  approvers: [alice, bob]\n", with: ""),
            line: 1, column: 1, fragment: "missing required key 'approvals'"),
        Refusal(
            name: "bad root URL scheme",
            text: validProfile(features: "ftp://host/x"),
            line: 3, column: 13, fragment: "unknown root scheme 'ftp://'"),
        Refusal(
            name: "root of the wrong kind",
            text: validProfile(registry: "slurm://cluster"),
            line: 4, column: 13, fragment: "'roots.registry' cannot be a slurm:// root"),
        Refusal(
            name: "credentials in a root URL",
            text: validProfile(features: "postgres://user:hunter2@db.internal/features"),
            line: 3, column: 13, fragment: "carries credentials"),
        Refusal(
            name: "bad port",
            text: validProfile(registry: "mlflow+http://127.0.0.1:99999"),
            line: 4, column: 13, fragment: "port '99999' is not a number from 1 to 65535"),
        Refusal(
            name: "inline token",
            text: validProfile().replacingOccurrences(of: "  token_env: GITHUB_TOKEN", with: "  token: ghp_abc123"),
            line: 11, column: 3, fragment: "secret written inline in 'reporter.token'"),
        Refusal(
            name: "value instead of a variable name",
            text: validProfile().replacingOccurrences(of: "token_env: GITHUB_TOKEN", with: "token_env: ghp-abc/123"),
            line: 11, column: 14, fragment: "must name an environment variable"),
        Refusal(
            name: "inline Slack webhook URL",
            text: validProfile().replacingOccurrences(
                of: "    url_env: SLACK_URL", with: "    url: https://hooks.slack.com/services/T/B/x"),
            line: 15, column: 10, fragment: "a Slack incoming-webhook URL carries its token"),
        Refusal(
            name: "unknown event",
            text: validProfile().replacingOccurrences(of: "[promotion.promoted]", with: "[promotion.promotd]"),
            line: 16, column: 14, fragment: "unknown event 'promotion.promotd' (did you mean 'promotion.promoted'?)"),
        Refusal(
            name: "unknown metric",
            text: validProfile().replacingOccurrences(of: "primary_metric: ndcg@10", with: "primary_metric: ndcg10"),
            line: 21, column: 19, fragment: "unknown metric 'ndcg10' (did you mean 'ndcg@10'?)"),
        Refusal(
            name: "too few approvers",
            text: validProfile().replacingOccurrences(of: "  required: 1", with: "  required: 3"),
            line: 18, column: 13, fragment: "approvals.required is 3 but only 2 approvers are listed"),
        Refusal(
            name: "bad enum value",
            text: validProfile().replacingOccurrences(of: "kind: github", with: "kind: githb"),
            line: 9, column: 9, fragment: "'reporter.kind' is 'githb' (did you mean 'github'?)"),
        Refusal(
            name: "invalid YAML",
            text: "roots:\n  features: [unclosed\n",
            line: 3, column: 1, fragment: "invalid YAML"),
        Refusal(
            name: "duplicate key",
            text: validProfile() + "\ndescription: again\n",
            line: 28, column: 1, fragment: "key 'description' appears twice (first at environments/test.yaml:1:1)"),
        Refusal(
            name: "bad branch name",
            text: validProfile().replacingOccurrences(of: "production_branch: main", with: "production_branch: \"main..x\""),
            line: 7, column: 22, fragment: "not a valid git branch name"),
        Refusal(
            name: "confidence out of range",
            text: validProfile().replacingOccurrences(of: "confidence: 0.95", with: "confidence: 95"),
            line: 23, column: 15, fragment: "policy.confidence must be a number from 0.5 to 0.9999, not 95"),
        Refusal(
            name: "not a number",
            text: validProfile().replacingOccurrences(of: "min_improvement: 0.005", with: "min_improvement: .nan"),
            line: 22, column: 20, fragment: "policy.min_improvement must be a number from -1 to 1, not .nan"),
        Refusal(
            name: "empty profile",
            text: "",
            line: 1, column: 1, fragment: "the profile is empty"),
    ]

    @Test("every refusal names the file, line, column and what to do", arguments: refusals)
    func refusal(_ case_: Refusal) throws {
        do {
            _ = try ProfileSet.decodeSingle(case_.text, name: "test", file: "environments/test.yaml")
            Issue.record("\(case_.name): was accepted")
        } catch {
            #expect(
                error.location == SourceLocation(file: "environments/test.yaml", line: case_.line, column: case_.column),
                "\(case_.name): \(error)")
            #expect(error.description.contains(case_.fragment), "\(case_.name): \(error)")
            #expect(error.description.hasPrefix("environments/test.yaml:\(case_.line):\(case_.column): "))
            #expect(error.description.contains("; "), "a refusal says what to do: \(error)")
            #expect(error.exitStatus == .badInput)
        }
    }

    @Test("secrets never appear in a refusal")
    func refusalsDoNotEchoSecrets() {
        let text = validProfile().replacingOccurrences(of: "  token_env: GITHUB_TOKEN", with: "  token: ghp_SECRETVALUE")
        do {
            _ = try ProfileSet.decodeSingle(text, name: "test", file: "environments/test.yaml")
            Issue.record("accepted an inline token")
        } catch {
            #expect(!error.description.contains("ghp_SECRETVALUE"))
        }
    }
}

@Suite("Slurm settings in a profile")
struct SlurmSettingsTests {
    func slurmProfile(_ compute: String, _ section: String) -> String {
        validProfile().replacingOccurrences(of: "  compute: local://", with: "  compute: \(compute)") + "\n" + section
    }

    @Test("a slurm section adds its options to the slurm:// compute root; sbatch is a list of arguments")
    func merged() throws {
        let text = slurmProfile(
            "slurm://hpc?partition=debug",
            """
            slurm:
              account: ranking
              time: 90
              cpus: 2
              mem: 4G
              conf: cluster/slurm.conf
              sbatch: [--nice=10, --exclusive]
            """)
        let p = try ProfileSet.decodeSingle(text, name: "test", file: "environments/test.yaml")
        #expect(
            p.roots.compute
                == .slurm(
                    cluster: "hpc",
                    options: [
                        "partition": "debug", "account": "ranking", "time": "90", "cpus": "2", "mem": "4G",
                        "conf": "cluster/slurm.conf", "sbatch": "--nice=10 --exclusive",
                    ]))
    }

    @Test(
        "a slurm section is refused where it cannot apply, at the key",
        arguments: [
            ("local://", "slurm:\n  partition: debug\n", 29, 3, "apply to a slurm:// compute root"),
            ("slurm://hpc?partition=debug", "slurm:\n  partition: long\n", 29, 14, "also set in roots.compute"),
            ("slurm://hpc", "slurm:\n  sbatch: [--comment=a b]\n", 29, 11, "contains spaces"),
            ("slurm://hpc", "slurm:\n  cpus: many\n", 29, 9, "cpus"),
            ("slurm://hpc", "slurm:\n  nodes: 4\n", 29, 3, "nodes"),
        ])
    func refused(_ compute: String, _ section: String, _ line: Int, _ column: Int, _ fragment: String) {
        do {
            _ = try ProfileSet.decodeSingle(slurmProfile(compute, section), name: "test", file: "environments/test.yaml")
            Issue.record("accepted \(section)")
        } catch {
            #expect(error.description.contains(fragment), "\(error)")
            #expect(error.location.line == line && error.location.column == column, "\(error)")
        }
    }
}

@Suite("Training configuration")
struct TrainingConfigTests {
    @Test("lr_schedule is constant by default, cosine when asked, and anything else is refused at its line")
    func schedule() throws {
        let path = NSTemporaryDirectory() + "tandem-config-\(UUID().uuidString).yaml"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "model: ranker\ntraining:\n  learning_rate: 0.003\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try TrainingConfig.load(path: path, displayName: "models/x.yaml").lrSchedule == "constant")
        let cosine = try TrainingConfig.load(path: path, displayName: "models/x.yaml", overrides: ["training.lr_schedule=cosine"])
        #expect(cosine.lrSchedule == "cosine")
        #expect(cosine.parameters["lr_schedule"] == "cosine")
        do {
            _ = try TrainingConfig.load(path: path, displayName: "models/x.yaml", overrides: ["training.lr_schedule=linear"])
            Issue.record("accepted lr_schedule linear")
        } catch {
            #expect(error.description.contains("training.lr_schedule is 'linear'") && error.description.contains("cosine"))
        }
    }
}
