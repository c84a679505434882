import TandemCore
public import TandemRegistry

/// A registry's integrity in words, as `tandem models verify` and `history` print it.
public enum IntegrityText {
    /// What both `verify` and `history` print about the registry's integrity, on lines of their own.
    public static func lines(_ integrity: IntegrityReport) -> [String] {
        let external = integrity.external.map { "EXTERNAL: \($0)" }
        guard integrity.intact else {
            return (integrity.chainIntact ? [] : ["AUDIT CHAIN BROKEN"]) + integrity.problems.map { "TAMPERED: \($0)" }
                + external
        }
        let anchored =
            integrity.newestAnchor.map { "; anchored at entry \($0) by \(integrity.anchors) lock file revision(s)" }
            ?? "; no lock file anchors it yet"
        let others =
            integrity.otherRegistries > 0
            ? " (\(integrity.otherRegistries) other anchor(s) were taken on another registry, such as another machine's)"
            : ""
        let agree =
            integrity.external.isEmpty
            ? "versions and aliases agree with it"
            : "versions and aliases agree with it but for \(integrity.external.count) change(s) made outside Tandem"
        return external + ["audit chain intact (\(integrity.entries) entries); \(agree)" + anchored + others]
    }
}
