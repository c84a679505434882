import Foundation
public import TandemCore
public import TandemPromotion
public import TandemWebhooks
public import Testing

/// The checks every `PromotionStateStore` passes.
public enum PromotionStateCheck: String, CaseIterable, Sendable, CustomStringConvertible {
    case records, lookup, journal, locks

    public var description: String { rawValue }
}

/// The promotion state conformance suite, written once: `make` gives an empty store, `run` runs a check on it.
public struct PromotionStateConformance: Sendable {
    public let make: @Sendable () throws -> any PromotionStateStore

    public init(make: @escaping @Sendable () throws -> any PromotionStateStore) { self.make = make }

    /// A promotion as `start` records it.
    public static func promotion(_ id: String, requestedAt: String = Timestamp.nowMillis()) -> Promotion {
        Promotion(
            id: id, source: "test", target: "prod", branch: "feature/x", commit: String(repeating: "c", count: 40),
            model: "ranker", version: 1, modelDigest: String(repeating: "d", count: 64), requestedBy: "dana",
            requestedAt: requestedAt, state: .requested, updatedAt: requestedAt, tests: [], approvals: [])
    }

    /// Runs every check.
    public func runAll() throws { for check in PromotionStateCheck.allCases { try run(check) } }

    public func run(_ check: PromotionStateCheck) throws {
        let store = try make()
        switch check {
        case .records:
            var p = Self.promotion("p-aaaa0001", requestedAt: "2026-01-01T00:00:00.000Z")
            try store.insert(p)
            #expect(try store.promotion(p.id) == p)
            p.state = .awaitingApproval
            p.reportDigest = "r1"
            p.approvals = [
                ApprovalRecord(actor: "bob", at: "t", approve: true, reason: nil, evidence: p.evidence)
            ]
            try store.save(p)
            #expect(try store.promotion(p.id) == p, "a saved promotion reads back whole")
            #expect(throws: (any Error).self) { try store.insert(Self.promotion(p.id)) }
            #expect(try store.promotion(p.id) == p, "a refused insert changes nothing")
            try store.save(Self.promotion("p-never"))
            #expect(try store.all().map(\.id) == [p.id], "saving an unknown promotion records nothing")

        case .lookup:
            try store.insert(Self.promotion("p-abc123", requestedAt: "2026-01-01T00:00:00.000Z"))
            try store.insert(Self.promotion("p-abd456", requestedAt: "2026-01-02T00:00:00.000Z"))
            try store.insert(Self.promotion("p-xyz789", requestedAt: "2026-01-03T00:00:00.000Z"))
            #expect(try store.promotion("p-abc").id == "p-abc123")
            #expect(try store.promotion("p-x").id == "p-xyz789")
            expectPromotionError(exit: .badInput) { try store.promotion("p-ab") }
            expectPromotionError(exit: .badInput) { try store.promotion("p-none") }
            #expect(try store.all().map(\.id) == ["p-xyz789", "p-abd456", "p-abc123"], "newest request first")

        case .journal:
            #expect(try store.journalEntries("p-1").isEmpty)
            try store.journal("p-1", step: "merge", status: "started", detail: [:])
            try store.journal("p-1", step: "merge", status: "done", detail: ["commit": "abc", "previous": ""])
            try store.journal("p-1", step: "tag", status: "started", detail: ["tag": "t/v1"])
            try store.journal("p-2", step: "lock", status: "done", detail: [:])
            let entries = try store.journalEntries("p-1")
            #expect(Set(entries.keys) == ["merge", "tag"])
            #expect(entries["merge"]?.status == "done" && entries["merge"]?.detail == ["commit": "abc", "previous": ""])
            #expect(entries["tag"]?.status == "started" && entries["tag"]?.detail == ["tag": "t/v1"])
            #expect(Set(try store.journalEntries("p-2").keys) == ["lock"])

        case .locks:
            #expect(try store.lock(target: "prod", promotion: "p-1") == nil)
            #expect(try store.lock(target: "prod", promotion: "p-1") == nil, "the holder takes it again")
            #expect(try store.lock(target: "prod", promotion: "p-2") == "p-1")
            #expect(try store.lock(target: "staging", promotion: "p-2") == nil, "one lock per target")
            try store.unlock(target: "prod", promotion: "p-2")
            #expect(try store.lock(target: "prod", promotion: "p-3") == "p-1", "only the holder releases it")
            try store.unlock(target: "prod", promotion: "p-1")
            #expect(try store.lock(target: "prod", promotion: "p-3") == nil)
        }
    }
}

/// The outbox conformance suite, written once: `make` gives an empty outbox; `run` checks that batches are stored in
/// order, all or none, and listed by state.
public struct OutboxConformance: Sendable {
    public let make: @Sendable () throws -> any MessageOutbox

    public init(make: @escaping @Sendable () throws -> any MessageOutbox) { self.make = make }

    public static func message(_ id: String, stream: String = "p-1:hook", event: String = "promotion.requested")
        -> OutboxMessage
    {
        OutboxMessage(
            id: id, stream: stream, destination: "hook", kind: "generic", eventType: event, method: "POST",
            url: "http://hooks.test/tandem", urlEnv: nil, tokenEnv: nil, authStyle: nil, secretEnv: nil, headers: [:],
            body: #"{"id": "\#(id)"}"#, createdAt: "2026-01-01T00:00:00.000Z")
    }

    public func run() throws {
        let outbox = try make()
        #expect(try outbox.list(state: nil, limit: 100).isEmpty)
        try outbox.enqueue([Self.message("m1"), Self.message("m2", stream: "p-1:ci", event: "promotion.evaluated")])
        try outbox.enqueue([Self.message("m3")])
        let all = try outbox.list(state: nil, limit: 100)
        #expect(all.map(\.message.id) == ["m1", "m2", "m3"])
        #expect(
            all.map(\.message) == [
                Self.message("m1"), Self.message("m2", stream: "p-1:ci", event: "promotion.evaluated"), Self.message("m3"),
            ])
        #expect(all.allSatisfy { $0.delivery.state == "pending" && $0.delivery.attempts == 0 })
        #expect(zip(all, all.dropFirst()).allSatisfy { $0.sequence < $1.sequence })
        #expect(try outbox.list(state: "pending", limit: 2).map(\.message.id) == ["m1", "m2"])
        #expect(try outbox.list(state: "delivered", limit: 100).isEmpty)
        #expect(throws: (any Error).self) { try outbox.enqueue([Self.message("m4"), Self.message("m1")]) }
        #expect(try outbox.list(state: nil, limit: 100).map(\.message.id) == ["m1", "m2", "m3"], "all or none")
    }
}

/// Expects `body` to fail with a `Failure` of exit status `exit`.
public func expectPromotionError<T>(
    exit: TandemCore.ExitStatus, sourceLocation: Testing.SourceLocation = #_sourceLocation, _ body: () throws -> T
) {
    do {
        _ = try body()
        Issue.record("expected a promotion error (exit \(exit.rawValue))", sourceLocation: sourceLocation)
    } catch let error as Failure {
        #expect(error.exitStatus == exit, "\(error.description)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected a Failure, got \(error)", sourceLocation: sourceLocation)
    }
}
