import Foundation
import TandemConformance
import TandemCore
import TandemPromotion
import TandemRegistry
import TandemStorage
import TandemTesting
import TandemWebhooks
import Testing

/// The promotion state stores and outboxes every check runs against: the SQLite ones of a registry root, and the
/// in-memory ones of TandemTesting.
enum StateBackend: String, CaseIterable, Sendable {
    case sqlite, memory

    /// A new, empty registry root under `folder` for the SQLite stores.
    static func root(in folder: String) throws -> String {
        let root = folder + "/" + UUID().uuidString
        try RootGuard.claim(path: root, environment: "test", role: .registry, writer: .stage("test"))
        return root
    }

    func state(in folder: String) -> PromotionStateConformance {
        switch self {
        case .sqlite: PromotionStateConformance { try PromotionStore(root: try Self.root(in: folder)) }
        case .memory: PromotionStateConformance { InMemoryPromotionStore() }
        }
    }

    func outbox(in folder: String) -> OutboxConformance {
        switch self {
        case .sqlite: OutboxConformance { try Outbox(root: try Self.root(in: folder)) }
        case .memory: OutboxConformance { InMemoryOutbox() }
        }
    }
}

@Suite("Promotion state and outbox conformance")
struct PromotionStateConformanceTests {
    let folder = NSTemporaryDirectory() + "tandem-state-\(UUID().uuidString)"
    @Test("every promotion store passes the conformance checks", arguments: StateBackend.allCases, PromotionStateCheck.allCases)
    func store(_ backend: StateBackend, _ check: PromotionStateCheck) throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try backend.state(in: folder).run(check)
    }

    @Test("every outbox stores batches in order, all or none, listed by state", arguments: StateBackend.allCases)
    func outbox(_ backend: StateBackend) throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try backend.outbox(in: folder).run()
    }

    @Test("an outage fails every in-memory backend that shares it, and changes nothing; ending it restores them")
    func outage() throws {
        let outage = Outage()
        let store = InMemoryPromotionStore(outage: outage)
        let registry = InMemoryModelRegistry(outage: outage)
        try store.insert(PromotionStateConformance.promotion("p-1"))
        outage.begin()
        #expect(throws: Failure.self) { try store.insert(PromotionStateConformance.promotion("p-2")) }
        expectRegistryError(.unreachable, says: "unreachable") { try registry.models() }
        outage.end()
        #expect(try store.all().map(\.id) == ["p-1"])
        #expect(try registry.models().isEmpty)
    }
}
