import Foundation
import TandemCore
public import TandemFeatures

extension FeatureStore {
    /// The feature table of `set` as it was at `time` (docs/features.md, "As of a time"): the latest version
    /// registered at or before it, to the second. Versions are immutable, so it is the table a training at
    /// `time` read, byte for byte.
    ///
    /// - Throws: `Failure` (exit 2) for a time that is not RFC 3339, or when no version of `set` had been
    ///   registered by then (naming the first).
    public func featureTable(set: String, asOf text: String, silver: Int64? = nil) throws -> FeatureTableVersion {
        guard let time = DataTimestamp(text) else {
            throw Failure(
                .invalidInput, "--as-of takes an RFC 3339 UTC time such as 2026-11-28T12:00:00Z, not '\(text)'")
        }
        let all = try featureTables(set: set)
        let then = all.filter {
            (DataTimestamp($0.createdAt)?.seconds ?? .max) <= time.seconds
                && (silver == nil || $0.lineage.silverVersion == silver)
        }
        if let silver, then.isEmpty, all.contains(where: { (DataTimestamp($0.createdAt)?.seconds ?? .max) <= time.seconds }) {
            throw Failure(
                .invalidInput,
                "no version of \(set) registered by \(text) was built from silver v\(silver), which the first view's "
                    + "table then was built from: the joined views had no common rows at that time")
        }
        guard let table = then.last else {
            throw Failure(
                .invalidInput,
                "no version of \(set) had been registered by \(text): "
                    + (all.first.map { "the first, \($0.reference), was registered at \($0.createdAt)" }
                        ?? "this feature store has none; run `tandem etl`"))
        }
        return table
    }

    /// Writes a gold table's rows as JSON lines, in the form of `tandem etl --export-gold` (docs/data-contract.md):
    /// `{"query", "video_url", "label", "features": [...]}`, written beside `path` and renamed into place.
    public func exportGold(_ table: FeatureTableVersion, to path: String) throws {
        let gold = try GoldTable.load(folder: goldFolder(of: table), expectedDigest: table.digest)
        let file = try ExportFile(path: path)
        var out = JSONText(capacity: 1 << 20)
        for row in 0..<gold.rowCount {
            out.raw("{\"query\":")
            out.string(gold.queries[row])
            out.raw(",\"video_url\":")
            out.string(gold.videoURLs[row])
            out.raw(",\"label\":")
            out.integer(gold.labels[row])
            out.raw(",\"features\":[")
            for k in 0..<gold.width {
                if k > 0 { out.raw(",") }
                out.number(gold.features[row * gold.width + k])
            }
            out.raw("]}\n")
            if out.bytes.count > 1 << 20 {
                try file.write(out.bytes)
                out.removeAll()
            }
        }
        try file.write(out.bytes)
        try file.commit()
    }
}
