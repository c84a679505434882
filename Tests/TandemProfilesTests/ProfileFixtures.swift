import Foundation

/// A valid profile text, to be broken one key at a time by the tests.
func validProfile(name: String = "test", features: String? = nil, registry: String? = nil, extra: String = "") -> String {
    """
    description: A test environment.
    roots:
      features: \(features ?? "file://.tandem/\(name)/features")
      registry: \(registry ?? "file://.tandem/\(name)/registry")
      compute: local://
    git:
      production_branch: main
    reporter:
      kind: github
      repository: acme/ranker
      token_env: GITHUB_TOKEN
    notifiers:
      - name: team
        kind: slack
        url_env: SLACK_URL
        events: [promotion.promoted]
    approvals:
      required: 1
      approvers: [alice, bob]
    policy:
      primary_metric: ndcg@10
      min_improvement: 0.005
      confidence: 0.95
      guardrails:
        - metric: mrr
          max_regression: 0.01
    \(extra)
    """
}

/// A temporary repository with an environments/ folder holding the given profiles.
struct TemporaryRepository {
    let root: String

    init(_ profiles: [String: String]) throws {
        root = NSTemporaryDirectory() + "tandem-profiles-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root + "/environments", withIntermediateDirectories: true)
        for (name, text) in profiles {
            try text.write(toFile: root + "/environments/\(name).yaml", atomically: true, encoding: .utf8)
        }
    }

    func remove() { try? FileManager.default.removeItem(atPath: root) }
}
