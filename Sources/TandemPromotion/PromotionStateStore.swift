import Foundation

/// Where the promotions of a source environment persist, with the journal of their promoting steps and the lock that
/// keeps two promotions to one environment apart. `PromotionStore` (`promotions.sqlite` in the state root) and
/// `PostgresPromotionStore` are the real ones; TandemTesting has one in memory. Both pass the promotion state conformance suite
/// (Tests/TandemConformance).
public protocol PromotionStateStore: Sendable {
    /// Records a new promotion.
    func insert(_ p: Promotion) throws
    /// Records a new promotion unless another promotion of the same model into the same target is active (not in a
    /// final state), atomically: of several runners starting one model at once, one records. Returns the active one
    /// (nothing recorded), or nil when `p` was recorded.
    func insertUnlessActive(_ p: Promotion) throws -> Promotion?
    /// Reads the promotion `id`, lets `change` change it, and saves it, atomically: no other update of it comes in
    /// between (a row lock or a write transaction). `change` may throw to change nothing. Returns the saved one.
    @discardableResult
    func update(_ id: String, _ change: (inout Promotion) throws -> Void) throws -> Promotion
    /// Replaces the stored promotion of the same id (an unknown id changes nothing).
    func save(_ p: Promotion) throws
    /// The promotion with this id, or with this unique id prefix; `Failure` (exit 2) when there is none.
    func promotion(_ id: String) throws -> Promotion
    /// Every promotion, newest request first.
    func all() throws -> [Promotion]
    /// Records that a step is about to run (`started`) or has run (`done`), with what undoing it needs; a step
    /// recorded again replaces its entry.
    func journal(_ id: String, step: String, status: String, detail: [String: String]) throws
    /// A promotion's journal, by step.
    func journalEntries(_ id: String) throws -> [String: (status: String, detail: [String: String])]
    /// Takes the target's lock for a promotion; returns the holder when another promotion has it (nil: taken, or
    /// already held by this promotion).
    func lock(target: String, promotion: String) throws -> String?
    /// Releases the target's lock if this promotion holds it.
    func unlock(target: String, promotion: String) throws
}

extension PromotionStore: PromotionStateStore {}
