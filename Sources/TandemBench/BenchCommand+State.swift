import ArgumentParser
import Foundation
import TandemCommands
import TandemCore
import TandemPostgres
import TandemPromotion
import TandemStorage

extension BenchCommand {
    /// `tandem-bench state`: the promotion state a promotion writes, promotion after promotion, on SQLite or PostgreSQL.
    struct State: StageCommand {
        static let configuration = CommandConfiguration(
            abstract: "Promotions/s the state backend records: start, 5 transitions, an approval, 8 journal steps, the lock.",
            discussion: """
                Each promotion does what the engine asks of its state root from start to promoted: insertUnlessActive, \
                the transitions (testing, evaluating, awaiting approval, promoting, promoted) as compare-and-set updates, an \
                approval appended under the row lock, every promoting step journalled started and done, the target's lock \
                taken and released. The model, its training and its tests are not part of it: this is the state backend's \
                share of a promotion.
                """)

        @Option(help: "Promotions.") var promotions: Int = 200
        @Option(
            help: ArgumentHelp(
                "A postgres:// state root (password from its password_env; an empty database). Absent: SQLite in a "
                    + "temporary folder.", valueName: "url")) var state: String?
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            guard (1...100_000).contains(promotions) else { throw Failure(.invalidInput, "--promotions is from 1 to 100000") }
            let folder = NSTemporaryDirectory() + "tandem-bench-state-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: folder) }
            let store: any PromotionStateStore
            if let state {
                let location: PostgresLocation
                do { location = try PostgresLocation.parse(state) } catch {
                    throw Failure(.invalidInput, "--state: \(error.description)")
                }
                store = PostgresPromotionStore(try PostgresState(location, environment: "bench"))
            } else {
                try RootGuard.claim(path: folder, environment: "bench", role: .state, writer: .stage("bench"))
                store = try PromotionStore(root: folder)
            }
            let run = UUID().uuidString.prefix(8).lowercased()
            let steps = ["lock", "copy_version", "merge", "tag", "publish", "branch", "aliases", "finish"]
            let start = ContinuousClock.now
            for i in 0..<promotions {
                let now = Timestamp.nowMillis()
                let p = Promotion(
                    id: "p-\(run)-\(i)", source: "test", target: "prod", branch: "feature/\(i)",
                    commit: String(repeating: "c", count: 40), model: "model-\(i % 10)", version: i + 1,
                    modelDigest: String(repeating: "d", count: 64), requestedBy: "dana", requestedAt: now, state: .requested,
                    updatedAt: now, tests: [], approvals: [])
                if let active = try store.insertUnlessActive(p) {
                    throw Failure(.failed, "\(active.id) is still active: the benchmark needs an empty state root")
                }
                for next in [PromotionState.testing, .evaluating, .awaitingApproval] {
                    try store.update(p.id) { $0.state = next }
                }
                try store.update(p.id) { stored in
                    stored.approvals.append(
                        ApprovalRecord(actor: "bob", at: now, approve: true, reason: nil, evidence: stored.evidence))
                }
                try store.update(p.id) { $0.state = .promoting }
                guard try store.lock(target: "prod", promotion: p.id) == nil else {
                    throw Failure(.failed, "prod's lock is held: the benchmark needs an empty state root")
                }
                for step in steps {
                    try store.journal(p.id, step: step, status: "started", detail: ["at": now])
                    try store.journal(p.id, step: step, status: "done", detail: ["at": now])
                }
                try store.unlock(target: "prod", promotion: p.id)
                try store.update(p.id) { $0.state = .promoted }
            }
            let seconds = (ContinuousClock.now - start).seconds
            struct Result: Encodable {
                var backend: String
                var promotions: Int
                var seconds: Double
                var perSecond: Double
                var writesPerSecond: Double
            }
            // insert + 6 updates + lock + 16 journal writes + unlock
            let writes = 25.0
            let result = Result(
                backend: state == nil ? "sqlite" : "postgres", promotions: promotions, seconds: seconds,
                perSecond: Double(promotions) / seconds, writesPerSecond: Double(promotions) * writes / seconds)
            if json { try Terminal.printJSON(result); return }
            print(
                String(
                    format:
                        "state (%@): %d promotions in %.2f s = %.1f promotions/s (%.0f state writes/s, each its own transaction)",
                    result.backend, promotions, seconds, result.perSecond, result.writesPerSecond))
        }
    }
}
