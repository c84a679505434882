import Foundation
public import TandemEnvironment
public import TandemRegistry

/// Registered models in words, as `tandem models` prints them.
public enum ModelText {
    /// `models list`: each model, its config and team, then its versions with their aliases.
    public static func listing(_ entries: [ModelListing], environment: String) -> [String] {
        guard !entries.isEmpty else { return ["no model configured under models/ and none registered in \(environment)"] }
        return entries.flatMap { e -> [String] in
            let about =
                e.config.map { config in
                    "\(config): \(e.kind ?? "?") on \(e.featureSet ?? "?")"
                        + ((e.features ?? []).isEmpty ? "" : " (\(e.features?.count ?? 0) features)")
                        + (e.team.map { ", team \($0)" } ?? "")
                } ?? "no config in this checkout"
            let byVersion = Dictionary(grouping: e.aliases, by: { $0.value }).mapValues { $0.map(\.key).sorted() }
            return ["\(e.name) — \(about); \(e.versions.count) version(s) in \(environment)"]
                + e.versions.map { v in
                    "  v\(v.version)  \(v.createdAt)  NDCG@10 "
                        + (v.metrics["ndcg@10"].map { String(format: "%.4f", $0) } ?? "-")
                        + "  \(v.featureTable ?? "-")  "
                        + (v.artifactDigest.isEmpty
                            ? "unverified: registered outside Tandem (no artifact digest)"
                            : "sha256:\(v.artifactDigest.prefix(12))")
                        + (v.copiedFrom.map { "  from \($0)" } ?? "")
                        + (byVersion[v.version].map { "  [" + $0.joined(separator: ", ") + "]" } ?? "")
                }
        }
    }

    /// `models show`: one version's artifact, run, data, code and metrics.
    public static func version(_ v: ModelVersion) -> [String] {
        [
            "\(v.reference)  created \(v.createdAt)",
            v.artifactDigest.isEmpty
                ? "  artifact unverified: registered outside Tandem, with no artifact digest Tandem could check"
                : "  artifact sha256:\(v.artifactDigest) (\(v.artifactSize) bytes)",
            "  run      \(v.runID ?? "-")",
            "  data     \(v.featureTable ?? "-") (\(v.dataDigest.map { String($0.prefix(12)) } ?? "-"))",
            "  code     \(v.gitCommit.map { String($0.prefix(12)) } ?? "-") on \(v.gitBranch ?? "-")"
                + (v.gitRemote.map { " (\($0))" } ?? ""),
        ]
            + (v.copiedFrom.map { ["  copied from \($0)"] } ?? [])
            + v.metrics.sorted(by: { $0.key < $1.key }).map { "  metric   \($0.key) " + String(format: "%.4f", $0.value) }
    }

    /// `models history`: one line an audit entry.
    public static func history(_ entries: [AuditEntry]) -> [String] {
        entries.map { e in
            "\(e.sequence)  \(e.at)  \(e.actor)  \(e.action)  \(e.subject)  "
                + e.detail.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        }
    }

    /// `models history --at`: where each alias of the model pointed then.
    public static func aliases(_ aliases: [String: Int], of model: String, at time: String) -> [String] {
        ["at \(time):"] + aliases.sorted(by: { $0.key < $1.key }).map { "  \(model)@\($0.key) → version \($0.value)" }
            + (aliases.isEmpty ? ["  no aliases of \(model) yet"] : [])
    }
}
