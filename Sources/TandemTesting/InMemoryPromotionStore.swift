import Foundation
import TandemCore
public import TandemPromotion

/// A `PromotionStateStore` held in memory, with the semantics of `PromotionStore` (the promotion state conformance
/// suite runs against both): promotions found by id or unique prefix, newest request first; a journal of steps in
/// which a step recorded again replaces its entry; one lock per target. With an `Outage` down, every operation fails
/// (exit 3) and nothing changes.
public final class InMemoryPromotionStore: PromotionStateStore, @unchecked Sendable {
    private let lock = NSLock()
    private let outage: Outage?
    private var promotions: [Promotion] = []
    private var steps: [String: [String: (status: String, detail: [String: String])]] = [:]
    private var locks: [String: String] = [:]

    public init(outage: Outage? = nil) { self.outage = outage }

    private func locked<T>(_ body: () throws -> T) throws -> T {
        lock.lock()
        defer { lock.unlock() }
        if outage?.isDown == true {
            throw Failure(
                .failed, "the in-memory promotion store is unreachable (an outage was started)")
        }
        return try body()
    }

    public func insert(_ p: Promotion) throws {
        try locked {
            guard !promotions.contains(where: { $0.id == p.id }) else {
                throw Failure(.failed, "a promotion '\(p.id)' exists already")
            }
            promotions.append(p)
        }
    }

    public func insertUnlessActive(_ p: Promotion) throws -> Promotion? {
        try locked {
            if let active = promotions.reversed().first(where: {
                $0.target == p.target && $0.model == p.model && !$0.state.isFinal
            }) {
                return active
            }
            guard !promotions.contains(where: { $0.id == p.id }) else {
                throw Failure(.conflict, "a promotion '\(p.id)' exists already")
            }
            promotions.append(p)
            return nil
        }
    }

    public func update(_ id: String, _ change: (inout Promotion) throws -> Void) throws -> Promotion {
        try locked {
            guard let i = promotions.firstIndex(where: { $0.id == id }) else {
                throw Failure(.notFound, "no promotion '\(id)'; see `tandem promote list`")
            }
            var p = promotions[i]
            try change(&p)
            promotions[i] = p
            return p
        }
    }

    public func save(_ p: Promotion) throws {
        try locked {
            if let i = promotions.firstIndex(where: { $0.id == p.id }) { promotions[i] = p }
        }
    }

    public func promotion(_ id: String) throws -> Promotion {
        try locked {
            if let exact = promotions.first(where: { $0.id == id }) { return exact }
            let matches = promotions.filter { $0.id.hasPrefix(id) }
            guard matches.count == 1 else { throw Failure(.notFound, "no promotion '\(id)'; see `tandem promote list`") }
            return matches[0]
        }
    }

    public func all() throws -> [Promotion] {
        try locked {
            promotions.enumerated().sorted { ($0.element.requestedAt, $1.offset) > ($1.element.requestedAt, $0.offset) }
                .map(\.element)
        }
    }

    public func journal(_ id: String, step: String, status: String, detail: [String: String]) throws {
        try locked { steps[id, default: [:]][step] = (status, detail) }
    }

    public func journalEntries(_ id: String) throws -> [String: (status: String, detail: [String: String])] {
        try locked { steps[id] ?? [:] }
    }

    public func lock(target: String, promotion: String) throws -> String? {
        try locked {
            if let holder = locks[target] { return holder == promotion ? nil : holder }
            locks[target] = promotion
            return nil
        }
    }

    public func unlock(target: String, promotion: String) throws {
        try locked {
            if locks[target] == promotion { locks[target] = nil }
        }
    }
}
