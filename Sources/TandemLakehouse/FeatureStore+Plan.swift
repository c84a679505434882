import Foundation
import GRDB
public import TandemCore
public import TandemFeatures

/// What `tandem features apply` would record for one view of the repository (docs/features.md, "Plan and
/// apply"), as `tandem features plan` shows it.
public struct FeaturePlanEntry: Sendable, Encodable {
    public enum Action: String, Sendable, Encodable {
        /// The store has no version of the view: apply records it as version 1.
        case create
        /// The store holds this definition already (`version`): nothing to record.
        case unchanged
        /// The definition differs from every version the store holds: apply records it as the next version; the
        /// earlier ones stay, unchanged, for the models trained on them.
        case newVersion = "new_version"
        /// The change cannot be a new version of the same view (its entity changed): apply refuses it.
        case refused
    }

    public var view: String
    public var action: Action
    public var file: String
    public var digest: String
    /// The version it is (unchanged) or becomes (create, new_version).
    public var version: Int?
    /// The store's latest version of the view.
    public var latest: Int?
    /// Against the latest version: columns added and removed, and the lines of the normal form that differ
    /// (`- ` the latest's, `+ ` this one's).
    public var addedFeatures: [String]
    public var removedFeatures: [String]
    public var changedLines: [String]
    /// Why apply refuses it, and what to do instead.
    public var refusal: String?
    /// Model versions of the environment (with their aliases) that compute an earlier version of the view; they
    /// keep computing it (their feature contract), whatever apply records. Filled by the caller.
    public var usedBy: [String] = []

    enum CodingKeys: String, CodingKey {
        case view, action, file, digest, version, latest, refusal
        case addedFeatures = "added_features"
        case removedFeatures = "removed_features"
        case changedLines = "changed_lines"
        case usedBy = "used_by"
    }
}

extension FeatureStore {
    /// The plan against a feature store that does not exist yet: every view is created as its version 1.
    public static func planForEmptyStore(_ catalogue: FeatureViewCatalogue) throws -> [FeaturePlanEntry] {
        try catalogue.names.map { name in
            let view = try catalogue.view(name)
            return FeaturePlanEntry(
                view: name, action: .create, file: view.file, digest: view.digest, version: 1, latest: nil, addedFeatures: [],
                removedFeatures: [], changedLines: [], refusal: nil)
        }
    }

    /// Compares the repository's views with the versions this store recorded, each recorded version compiled
    /// again and checked against its digest first.
    ///
    /// - Throws: `Failure` (exit 3, `.tampered`) when a recorded version no longer compiles to its digest.
    public func plan(_ catalogue: FeatureViewCatalogue) throws -> [FeaturePlanEntry] {
        // Every recorded version, of the working tree's views or not, still compiles to its digest.
        var compiled: [String: [Int: FeatureView]] = [:]
        for v in try viewVersions() { compiled[v.view, default: [:]][v.version] = try self.compiled(v) }
        return try catalogue.names.map { name in
            let view = try catalogue.view(name)
            let versions = try viewVersions(name)
            var entry = FeaturePlanEntry(
                view: name, action: .create, file: view.file, digest: view.digest, version: 1, latest: versions.last?.version,
                addedFeatures: [], removedFeatures: [], changedLines: [], refusal: nil)
            guard let latest = versions.last else { return entry }
            if let same = versions.first(where: { $0.digest == view.digest }) {
                entry.action = .unchanged
                entry.version = same.version
                return entry
            }
            guard let previous = compiled[name]?[latest.version] else { return entry }
            let (was, now) = (previous.features.map(\.name), view.features.map(\.name))
            entry.addedFeatures = now.filter { !was.contains($0) }
            entry.removedFeatures = was.filter { !now.contains($0) }
            let (old, new) = (
                previous.normalizedDefinition.split(separator: "\n"), view.normalizedDefinition.split(separator: "\n")
            )
            entry.changedLines =
                old.filter { !new.contains($0) }.map { "- " + $0 } + new.filter { !old.contains($0) }.map { "+ " + $0 }
            if entry.changedLines.isEmpty { entry.changedLines = ["(the same lines, in another order: the columns moved)"] }
            if let refusal = Self.entityChange(view, previous: previous, latest: latest) {
                entry.action = .refused
                entry.version = nil
                entry.refusal = refusal
                return entry
            }
            entry.action = .newVersion
            entry.version = latest.version + 1
            return entry
        }
    }

    /// Records what `plan` shows as create or new_version, all in one transaction, or nothing when any view is
    /// refused; recorded versions are never changed. Returns the plan as applied.
    ///
    /// - Throws: `Failure` (exit 2) naming the refused views; (exit 3) as `plan`.
    public func apply(_ catalogue: FeatureViewCatalogue) throws -> [FeaturePlanEntry] {
        let entries = try plan(catalogue)
        let refused = entries.compactMap(\.refusal)
        guard refused.isEmpty else {
            throw Failure(.invalidInput, "nothing applied: " + refused.joined(separator: "; "))
        }
        try write { db in
            for entry in entries where entry.action == .create || entry.action == .newVersion {
                let recorded = try recordView(try catalogue.view(entry.view), db)
                guard recorded == entry.version else {
                    throw Failure(
                        .conflict,
                        "\(entry.view) was recorded as version \(recorded) by another process while this one planned "
                            + "\(entry.version ?? 0); run `tandem features plan` again")
                }
            }
        }
        return entries
    }
}
