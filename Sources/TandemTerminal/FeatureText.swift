import Foundation
public import TandemFeatures
public import TandemLakehouse

/// The feature store in words, as `tandem features` prints it.
public enum FeatureText {
    /// `features list`: one line a feature table version under a header.
    public static func tables(_ tables: [FeatureTableVersion]) -> [String] {
        guard !tables.isEmpty else { return ["no feature table versions yet; run `tandem etl`"] }
        return ["VERSION           ROWS       CREATED               DIGEST        INPUT (judgments)"]
            + tables.map { t in
                t.reference.padding(toLength: 17, withPad: " ", startingAt: 0)
                    + String(t.rowCount).padding(toLength: 11, withPad: " ", startingAt: 0)
                    + t.createdAt.padding(toLength: 22, withPad: " ", startingAt: 0)
                    + String(t.digest.prefix(12)) + "  " + String((t.lineage.inputs["judgments.jsonl"] ?? "").prefix(12))
            }
    }

    /// `features show`: a version's digest, folder, lineage, inputs and schema.
    public static func table(_ table: FeatureTableVersion) -> [String] {
        let code =
            table.lineage.codeCommit.map { ", code \($0.prefix(12))\(table.lineage.codeDirty == true ? " (dirty)" : "")" } ?? ""
        return [
            "\(table.reference): \(table.rowCount) rows, created \(table.createdAt)",
            "  digest   \(table.digest)",
            "  path     \(table.path)",
            "  lineage  silver v\(table.lineage.silverVersion), bronze files "
                + table.lineage.bronzeFiles.map(String.init).joined(separator: ", ") + code,
        ]
            + table.lineage.inputs.sorted(by: { $0.key < $1.key }).map { "  input    \($0.key) \($0.value)" }
            + ["  schema   \(table.schema.count) features: " + table.schema.map(\.name).joined(separator: ", ")]
    }

    /// `features diff`.
    public static func difference(_ d: FeatureTableDifference) -> [String] {
        let (a, b) = (d.rows[0], d.rows[1])
        return [
            "\(d.first) → \(d.second): " + (d.sameContent ? "same content" : "content differs"),
            "  rows     \(a) → \(b) (\(b - a >= 0 ? "+" : "")\(b - a))",
            "  features +[\(d.addedFeatures.joined(separator: ", "))] −[\(d.removedFeatures.joined(separator: ", "))]",
            "  inputs   " + (d.changedInputs.isEmpty ? "same" : "changed: " + d.changedInputs.joined(separator: ", ")),
        ]
    }

    /// `features definitions`: a declared view's columns in order, then the versions an environment has used.
    public static func view(_ view: FeatureView, versions: [FeatureViewVersion]) -> [String] {
        [
            "\(view.name) (\(view.file), entity \(view.entity.rawValue), owner \(view.owner)): \(view.features.count) features, "
                + "definition sha256:\(view.digest.prefix(12))…"
        ]
            + view.features.enumerated().map { i, f in
                String(format: "%3d ", i) + f.name.padding(toLength: 22, withPad: " ", startingAt: 0)
                    + "\(f.type.rawValue)  \(f.owner)  \(f.description)"
            }
            + versions.map { v in
                "  \(v.reference)  sha256:\(v.digest.prefix(12))…  recorded \(v.createdAt)"
                    + (v.digest == view.digest ? "  (= the working tree's)" : "")
            }
    }

    /// `features plan` / `apply`: each view's action, its columns and normal-form lines that change, the models
    /// that keep computing an earlier version, and refusals.
    public static func plan(_ entries: [FeaturePlanEntry], environment: String, applied: Bool) -> [String] {
        var lines: [String] = []
        for e in entries {
            let digest = "sha256:\(e.digest.prefix(12))…"
            switch e.action {
            case .unchanged: lines.append("= \(e.view)@\(e.version ?? 0)  unchanged (\(digest))")
            case .create:
                lines.append(
                    "+ \(e.view)  new view: \(applied ? "recorded" : "apply records it") as \(e.view)@1 (\(digest), \(e.file))")
            case .newVersion:
                lines.append(
                    "~ \(e.view)  definition changed: \(applied ? "recorded" : "apply records") \(e.view)@\(e.version ?? 0) "
                        + "(\(digest)); \(e.view)@\(e.latest ?? 0) and earlier stay as they are")
            case .refused: lines.append("! \(e.view)  refused: \(e.refusal ?? "")")
            }
            if !e.addedFeatures.isEmpty { lines.append("    features added   " + e.addedFeatures.joined(separator: ", ")) }
            if !e.removedFeatures.isEmpty { lines.append("    features removed " + e.removedFeatures.joined(separator: ", ")) }
            lines += e.changedLines.prefix(40).map { "    \($0)" }
            if e.changedLines.count > 40 { lines.append("    … \(e.changedLines.count - 40) more lines (--json has them all)") }
            lines += e.usedBy.map {
                "    \($0) and keeps computing it (its feature contract) until a retrained version replaces it"
            }
        }
        let changes = entries.filter { $0.action == .create || $0.action == .newVersion }.count
        let refused = entries.filter { $0.action == .refused }.count
        if refused > 0 {
            lines.append("\(environment): \(refused) view(s) refused; apply records nothing until they are fixed")
            return lines
        }
        lines.append(
            changes == 0
                ? "\(environment): nothing to apply"
                : applied
                    ? "\(environment): \(changes) view version(s) recorded"
                    : "\(environment): \(changes) view version(s) to record; `tandem features apply --env \(environment)` records them"
        )
        return lines
    }

    /// One quarantined line: its reason code (docs/data-contract.md) and, in words, what is wrong with it.
    public struct QuarantineLine: Encodable, Sendable {
        public var file: String
        public var line: Int
        public var reason: String
        public var detail: String
        public var content: String

        public init(_ q: QuarantinedLine) {
            file = q.file
            line = q.lineNumber
            reason = q.reason.rawValue
            detail = q.detail
            content = String(decoding: q.content, as: UTF8.self)
        }
    }

    /// `features quarantine`: each line's place and reason, then its first 120 characters.
    public static func quarantine(_ lines: [QuarantineLine]) -> [String] {
        lines.flatMap { l in
            ["\(l.file):\(l.line): \(l.reason)" + (l.detail.isEmpty ? "" : ": \(l.detail)"), "    \(l.content.prefix(120))"]
        }
    }
}
