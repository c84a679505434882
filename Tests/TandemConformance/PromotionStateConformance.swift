import Foundation
public import TandemCore
public import TandemPromotion
public import TandemWebhooks
public import Testing

/// The checks every `PromotionStateStore` passes.
public enum PromotionStateCheck: String, CaseIterable, Sendable, CustomStringConvertible {
    case records, lookup, journal, locks, active, update

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

        case .active:
            var first = Self.promotion("p-first", requestedAt: "2026-01-01T00:00:00.000Z")
            #expect(try store.insertUnlessActive(first) == nil)
            let second = Self.promotion("p-second", requestedAt: "2026-01-02T00:00:00.000Z")
            #expect(try store.insertUnlessActive(second)?.id == "p-first", "one active promotion per model and target")
            #expect(try store.all().map(\.id) == ["p-first"], "the refused one is not recorded")
            var other = Self.promotion("p-other")
            other.model = "another-model"
            #expect(try store.insertUnlessActive(other) == nil, "another model's lane is free")
            var elsewhere = Self.promotion("p-elsewhere")
            elsewhere.target = "staging"
            #expect(try store.insertUnlessActive(elsewhere) == nil, "another target is free")
            first.state = .rejected
            try store.save(first)
            #expect(try store.insertUnlessActive(second) == nil, "a final promotion frees the lane")

        case .update:
            try store.insert(Self.promotion("p-u"))
            let updated = try store.update("p-u") { $0.state = .awaitingApproval }
            #expect(updated.state == .awaitingApproval)
            #expect(try store.promotion("p-u") == updated)
            #expect(throws: (any Error).self) {
                try store.update("p-u") { p in
                    p.state = .promoted
                    throw Failure(.conflict, "changed my mind")
                }
            }
            #expect(try store.promotion("p-u").state == .awaitingApproval, "a change that throws saves nothing")
            expectPromotionError(exit: .badInput) { try store.update("p-none") { _ in } }
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

/// The claims conformance suite of a `DeliveryQueue` (the outbox flushers share), written once: `make` gives an empty
/// queue. It checks that claims keep each stream in order, that a lease keeps a message to one flusher until it ends
/// or expires, what `record`, `retry` and `counts` do, and that flushers claiming at the same time (threads, each
/// with its own connection where the queue has connections) deliver every message exactly once.
public struct DeliveryQueueConformance: Sendable {
    public let make: @Sendable () throws -> any DeliveryQueue
    /// A second handle on the same queue (another process's connection); `make`'s queue itself when nil.
    public let reopen: (@Sendable (any DeliveryQueue) throws -> any DeliveryQueue)?

    public init(
        make: @escaping @Sendable () throws -> any DeliveryQueue,
        reopen: (@Sendable (any DeliveryQueue) throws -> any DeliveryQueue)? = nil
    ) {
        self.make = make
        self.reopen = reopen
    }

    func claimed(_ c: Outbox.Claim) -> Outbox.Entry? {
        if case .claimed(let e) = c { return e }
        return nil
    }

    public func runAll() throws {
        try claims()
        try concurrentFlushers()
    }

    /// Order, leases, outcomes.
    public func claims() throws {
        let q = try make()
        typealias M = OutboxConformance
        try q.enqueue([M.message("a1", stream: "A"), M.message("a2", stream: "A"), M.message("b1", stream: "B")])
        // Messages enqueue due at the wall clock's now: claim as of a later time.
        let t = Date().timeIntervalSince1970 + 1
        let first = try #require(claimed(try q.claim(owner: "f1", lease: 60, now: t) { _ in true }))
        #expect(first.message.id == "a1", "the oldest head first")
        #expect(first.delivery.claimedBy == "f1")
        let second = try #require(claimed(try q.claim(owner: "f2", lease: 60, now: t) { _ in true }))
        #expect(second.message.id == "b1", "a2 waits behind a1 (its stream stays in order); b1 is free")
        guard case .wait(let next, let inFlight) = try q.claim(owner: "f3", lease: 60, now: t, eligible: { _ in true }) else {
            Issue.record("nothing should be claimable while both heads are held")
            return
        }
        #expect(inFlight && next != nil, "both heads are held: wait for their leases")
        #expect(
            try q.record(
                id: "a1", owner: "f2", state: "pending", attempts: 1, nextAttemptAt: t, status: 500, error: "x", response: nil)
                == false,
            "only the claim's holder records a failure")
        #expect(
            try q.record(
                id: "a1", owner: "f1", state: "delivered", attempts: 1, nextAttemptAt: t, status: 200, error: nil, response: "ok")
        )
        let third = try #require(claimed(try q.claim(owner: "f3", lease: 60, now: t) { _ in true }))
        #expect(third.message.id == "a2", "a1 delivered: a2 is the head of A now")
        // A lease that expired: the message is claimable again (a killed flusher's), by anyone.
        let later = t + 61
        let again = try #require(claimed(try q.claim(owner: "f4", lease: 60, now: later) { _ in true }))
        #expect(again.message.id == "a2", "both leases expired: the oldest head first")
        #expect(
            try q.record(
                id: "b1", owner: "f2", state: "delivered", attempts: 1, nextAttemptAt: t, status: 200, error: nil, response: nil),
            "a delivery is recorded by whoever made it, even after its lease expired")
        #expect(
            try q.record(
                id: "b1", owner: "f4", state: "pending", attempts: 2, nextAttemptAt: t, status: 500, error: "late", response: nil)
                == false,
            "a delivered message stays delivered")
        // A failure puts the message back with its retry time; eligible filters what a flusher may take.
        #expect(
            try q.record(
                id: "a2", owner: "f3", state: "pending", attempts: 1, nextAttemptAt: later, status: 503, error: "x", response: nil
            ) == false,
            "f3's lease expired and f4 holds a2: f3's failure is not recorded")
        _ = try q.record(
            id: "a2", owner: "f4", state: "pending", attempts: 1, nextAttemptAt: later + 100, status: 503, error: "busy",
            response: nil)
        guard case .wait(let retryAt, _) = try q.claim(owner: "f5", lease: 60, now: later + 1, eligible: { _ in true }) else {
            Issue.record("a2 is not due until its retry time")
            return
        }
        #expect(retryAt == later + 100)
        #expect(
            claimed(try q.claim(owner: "f5", lease: 60, now: later + 101) { $0.message.stream != "A" }) == nil, "eligible filters"
        )
        _ = try q.record(
            id: "a2", owner: "nobody", state: "dead", attempts: 9, nextAttemptAt: 0, status: 400, error: "no", response: nil)
        let dead = try #require(claimed(try q.claim(owner: "f6", lease: 60, now: later + 101) { _ in true }))
        _ = try q.record(
            id: dead.message.id, owner: "f6", state: "dead", attempts: 2, nextAttemptAt: 0, status: 400, error: "refused",
            response: "bad")
        #expect(try q.counts() == ["delivered": 2, "dead": 1])
        let deadEntry = try #require(try q.list(state: "dead", limit: 10).first)
        #expect(
            deadEntry.delivery.lastStatus == 400 && deadEntry.delivery.lastError == "refused"
                && deadEntry.delivery.lastResponse == "bad")
        #expect(deadEntry.delivery.claimedBy == nil && deadEntry.delivery.claimedUntil == nil, "an outcome ends the claim")
        try q.retry(id: "a2")
        #expect(try q.counts() == ["delivered": 2, "pending": 1])
        expectExit(.badInput) { try q.retry(id: "a1") }
        expectExit(.badInput) { try q.retry(id: "none") }
        #expect(try q.list(state: "delivered", limit: 10).allSatisfy { $0.delivery.deliveredAt != nil })
    }

    /// Four flushers on threads, each with its own handle, claim and deliver 400 messages of 8 streams: each once,
    /// each stream in order.
    public func concurrentFlushers() throws {
        let q = try make()
        let streams = 8
        let perStream = 50
        var batch: [OutboxMessage] = []
        for i in 0..<perStream {
            for s in 0..<streams { batch.append(OutboxConformance.message("m-\(s)-\(i)", stream: "s\(s)")) }
        }
        try q.enqueue(batch)
        let handles = try (0..<4).map { _ in try reopen?(q) ?? q }
        let log = DeliveryLog()
        let group = DispatchGroup()
        let start = Date().timeIntervalSince1970 + 1
        for (n, h) in handles.enumerated() {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                do {
                    var idle = 0
                    while idle < 200 {
                        let now = max(start, Date().timeIntervalSince1970)
                        switch try h.claim(owner: "f\(n)", lease: 600, now: now, eligible: { _ in true }) {
                        case .claimed(let e):
                            idle = 0
                            log.sent(e.message.id, stream: e.message.stream)
                            try h.record(
                                id: e.message.id, owner: "f\(n)", state: "delivered", attempts: 1, nextAttemptAt: now,
                                status: 200,
                                error: nil, response: nil)
                        case .wait(let next, _):
                            if next == nil { return }
                            idle += 1
                            Thread.sleep(forTimeInterval: 0.002)
                        }
                    }
                } catch { log.failed("\(error)") }
            }
        }
        group.wait()
        #expect(log.errors.isEmpty, "\(log.errors.prefix(3))")
        #expect(log.ids.count == streams * perStream && Set(log.ids).count == streams * perStream, "every message sent once")
        for s in 0..<streams {
            #expect(log.order["s\(s)"] == (0..<perStream).map { "m-\(s)-\($0)" }, "stream s\(s) in order")
        }
        #expect(try q.counts() == ["delivered": streams * perStream])
    }
}

/// What concurrent flushers sent, in the order they sent it.
final class DeliveryLog: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var ids: [String] = []
    private(set) var order: [String: [String]] = [:]
    private(set) var errors: [String] = []

    func sent(_ id: String, stream: String) {
        lock.lock()
        defer { lock.unlock() }
        ids.append(id)
        order[stream, default: []].append(id)
    }

    func failed(_ e: String) {
        lock.lock()
        defer { lock.unlock() }
        errors.append(e)
    }
}

/// Expects `body` to fail with a Tandem error (any type) of exit status `exit`.
public func expectExit<T>(
    _ exit: TandemCore.ExitStatus, sourceLocation: Testing.SourceLocation = #_sourceLocation, _ body: () throws -> T
) {
    do {
        _ = try body()
        Issue.record("expected an error (exit \(exit.rawValue))", sourceLocation: sourceLocation)
    } catch let error as any TandemError {
        #expect(error.exitStatus == exit, "\(error.description)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected a Tandem error, got \(error)", sourceLocation: sourceLocation)
    }
}
