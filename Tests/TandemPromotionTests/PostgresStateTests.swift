import Foundation
import TandemConformance
import TandemCore
import TandemHTTP
import TandemPostgres
import TandemPromotion
import TandemStorage
import TandemTestSupport
import TandemTesting
import TandemWebhooks
import Testing

/// The PostgreSQL state backend against a real server the tests start (scripts/postgres-up): the same conformance
/// suites as the SQLite stores, the claims suite on both, and what only a shared server has (migrations, owners,
/// connections cut by a restart).
@Suite("PostgreSQL state", .enabled(if: PostgresServer.enabled), .serialized)
struct PostgresStateTests {
    /// A new, empty database of the shared server, opened as environment `test`.
    static func open(_ environment: String = "test", url: String? = nil) throws -> PostgresState {
        let server = try PostgresServer.require()
        let location = try PostgresLocation.parse(try url ?? server.database())
        return try PostgresState(location, environment: environment, variables: server.environment)
    }

    @Test("the PostgreSQL promotion store passes the promotion state conformance checks", arguments: PromotionStateCheck.allCases)
    func store(_ check: PromotionStateCheck) throws {
        try PromotionStateConformance { PostgresPromotionStore(try Self.open()) }.run(check)
    }

    @Test("the PostgreSQL outbox stores batches in order, all or none, listed by state")
    func outbox() throws {
        try OutboxConformance { PostgresOutbox(try Self.open()) }.run()
    }

    @Test("claims: order, leases, outcomes, and concurrent flushers each with its own connection, on PostgreSQL and SQLite")
    func claims() throws {
        try DeliveryQueueConformance(
            make: { PostgresOutbox(try Self.open()) },
            reopen: { q in
                let url = (q as! PostgresOutbox).location
                return PostgresOutbox(try Self.open(url: url))
            }
        ).runAll()
        let folder = NSTemporaryDirectory() + "tandem-claims-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try DeliveryQueueConformance(
            make: {
                let root = folder + "/" + UUID().uuidString
                try RootGuard.claim(path: root, environment: "test", role: .registry, writer: .stage("test"))
                return try Outbox(root: root)
            },
            reopen: { q in try Outbox(root: ((q as! Outbox).path as NSString).deletingLastPathComponent) }
        ).runAll()
    }

    @Test("outcomes with quotes, braces, commas, backslashes and the word NULL read back as written")
    func outcomeText() throws {
        let outbox = PostgresOutbox(try Self.open())
        try outbox.enqueue([OutboxConformance.message("m1"), OutboxConformance.message("m2", stream: "other")])
        let now = Date().timeIntervalSince1970 + 1
        let batch = try outbox.claimBatch(owner: "f", lease: 60, now: now, limit: 10) { _ in true }
        #expect(batch.claimed.map(\.message.id) == ["m1", "m2"])
        let nasty = #"a "quoted", {braced} \ back\\slash NULL ' ; -- é 🚀"#
        let recorded = try outbox.record([
            Outbox.Outcome(
                id: "m1", owner: "f", state: "pending", attempts: 1, nextAttemptAt: now + 5, status: 503, error: nasty,
                response: "NULL"),
            Outbox.Outcome(
                id: "m2", owner: "f", state: "dead", attempts: 1, nextAttemptAt: 0, status: nil, error: nil, response: nil),
        ])
        #expect(recorded == [true, true])
        let entries = try outbox.list(state: nil, limit: 10)
        #expect(entries[0].delivery.lastError == nasty && entries[0].delivery.lastResponse == "NULL")
        #expect(entries[0].delivery.lastStatus == 503 && entries[0].delivery.nextAttemptAt == now + 5)
        #expect(
            entries[1].delivery.state == "dead" && entries[1].delivery.lastError == nil && entries[1].delivery.lastStatus == nil)
    }

    @Test("runners racing: of four starting one model at once one records, and four approvals at once all count")
    func racingRunners() throws {
        let server = try PostgresServer.require()
        let url = try server.database()
        let stores = try (0..<4).map { _ in PostgresPromotionStore(try Self.open(url: url)) }
        let inserted = OpenResults()
        DispatchQueue.concurrentPerform(iterations: 4) { i in
            do {
                if try stores[i].insertUnlessActive(PromotionStateConformance.promotion("p-race-\(i)")) == nil {
                    inserted.fail("p-race-\(i)")
                }
            } catch { inserted.fail("error: \(error)") }
        }
        #expect(inserted.errors.count == 1 && inserted.errors[0].hasPrefix("p-race-"), "\(inserted.errors)")
        let id = inserted.errors[0]
        DispatchQueue.concurrentPerform(iterations: 4) { i in
            _ = try? stores[i].update(id) { p in
                p.approvals.append(ApprovalRecord(actor: "r\(i)", at: "t", approve: true, reason: nil, evidence: p.evidence))
            }
        }
        #expect(Set(try stores[0].promotion(id).approvals.map(\.actor)) == ["r0", "r1", "r2", "r3"], "no approval lost")
    }

    @Test("PostgreSQL restarted twice in the middle of a flush: every message delivered, none twice")
    func restartDuringFlush() async throws {
        let server = try PostgresServer()
        let location = try PostgresLocation.parse(try server.database())
        let outbox = PostgresOutbox(try PostgresState(location, environment: "test", variables: server.environment))
        let transport = InMemoryTransport()
        // 5 ms an answer, so 300 messages take more than a second and the restarts land mid-flush.
        transport.route("http://hooks.test/") { _ in
            Thread.sleep(forTimeInterval: 0.005)
            return .success(HTTPResponse(status: 200, body: Array("ok".utf8)))
        }
        try outbox.enqueue((0..<300).map { OutboxConformance.message("m\($0)", stream: "s\($0 % 5)") })
        let deliverer = Deliverer(
            outbox: outbox, transport: transport, environment: ["TANDEM_OUTBOX_LEASE_SECONDS": "2"])
        let flush = Task { try await deliverer.flush(deadline: 60) }
        try await Task.sleep(nanoseconds: 300_000_000)
        try server.restart()
        try await Task.sleep(nanoseconds: 300_000_000)
        try server.restart()
        var summary = try await flush.value
        if summary.pending > 0 { summary = try await deliverer.flush(deadline: 30) }
        let sent = transport.requests.map { String(decoding: $0.body, as: UTF8.self) }
        #expect(summary.pending == 0, "\(summary)")
        #expect(try outbox.counts() == ["delivered": 300])
        #expect(sent.count == 300 && Set(sent).count == 300, "\(sent.count) requests for 300 messages")
    }

    @Test("migrations are versioned and applied once, by one of several runners opening a new database at once")
    func migrations() throws {
        let server = try PostgresServer.require()
        let url = try server.database()
        let opened = OpenResults()
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            do { opened.add(try Self.open(url: url)) } catch { opened.fail("\(error)") }
        }
        #expect(opened.errors.isEmpty, "\(opened.errors)")
        let state = try #require(opened.states.first)
        #expect(try state.appliedMigrations() == PostgresState.migrations.map(\.version))
        let name = try PostgresLocation.parse(url).database
        #expect(
            try server.psql("SELECT count(*) FROM tandem_migrations", database: name).trimmingCharacters(
                in: .whitespacesAndNewlines) == "1")
        // A database a newer Tandem migrated is not written by this one.
        try server.psql("INSERT INTO tandem_migrations VALUES ('9-future', 9, 'now')", database: name)
        do {
            _ = try Self.open(url: url)
            Issue.record("a database with an unknown migration opened")
        } catch let error as Failure {
            #expect(error.code == .conflict && error.description.contains("9-future"), "\(error)")
        }
    }

    @Test("a database holds one environment's state: another environment is refused, naming both")
    func owner() throws {
        let server = try PostgresServer.require()
        let url = try server.database()
        _ = try Self.open("test", url: url)
        do {
            _ = try Self.open("prod", url: url)
            Issue.record("prod opened test's state database")
        } catch let error as Failure {
            #expect(error.exitStatus == .badInput)
            #expect(error.description.contains("'test'") && error.description.contains("environments/prod.yaml"), "\(error)")
        }
    }

    @Test("a wrong password or an unset password variable is refused with what to fix, and the password is never shown")
    func credentials() throws {
        let server = try PostgresServer.require()
        let location = try PostgresLocation.parse(try server.database())
        var wrong = server.environment
        wrong[PostgresServer.passwordVariable] = "not-the-password-x9"
        do {
            _ = try PostgresState(location, environment: "test", variables: wrong)
            Issue.record("a wrong password connected")
        } catch let error as Failure {
            #expect(error.exitStatus == .infrastructure)
            #expect(error.description.contains("password authentication failed"), "\(error)")
            #expect(!error.description.contains("not-the-password-x9") && !error.description.contains(server.password))
        }
        var unset = server.environment
        unset[PostgresServer.passwordVariable] = nil
        do {
            _ = try PostgresState(location, environment: "test", variables: unset)
            Issue.record("an unset password variable connected")
        } catch let error as Failure {
            #expect(error.exitStatus == .badInput && error.description.contains("$TANDEM_STATE_PASSWORD is not set"), "\(error)")
        }
    }

    @Test("a server restart between statements and inside a transaction: the next call reconnects, nothing is lost")
    func restart() throws {
        let server = try PostgresServer()
        let location = try PostgresLocation.parse(try server.database())
        let state = try PostgresState(location, environment: "test", variables: server.environment)
        let store = PostgresPromotionStore(state)
        let outbox = PostgresOutbox(state)
        try store.insert(PromotionStateConformance.promotion("p-before"))
        try outbox.enqueue([OutboxConformance.message("m1")])
        try server.restart()
        #expect(try store.promotion("p-before").id == "p-before", "a statement after the restart reconnects")
        try server.restart()
        try outbox.enqueue([OutboxConformance.message("m2")])
        #expect(
            try outbox.list(state: nil, limit: 10).map(\.message.id) == ["m1", "m2"], "a transaction after the restart reconnects"
        )
        #expect(try store.lock(target: "prod", promotion: "p-before") == nil)
        try server.restart()
        #expect(try store.lock(target: "prod", promotion: "p-other") == "p-before", "the lock outlives the restart")
    }
}

final class OpenResults: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var states: [PostgresState] = []
    private(set) var errors: [String] = []
    func add(_ s: PostgresState) {
        lock.lock()
        states.append(s)
        lock.unlock()
    }
    func fail(_ e: String) {
        lock.lock()
        errors.append(e)
        lock.unlock()
    }
}
