import Foundation

/// Runs blocking work (waiting for a job, a child process, a cluster) on its own thread, so that it does not hold
/// one of the few threads of Swift's cooperative pool (two on a 2-core machine) while other suites' async tests
/// wait for one. Expectations stay in the caller's task: `body` returns what they check.
public func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread {
            do { continuation.resume(returning: try body()) } catch { continuation.resume(throwing: error) }
        }
    }
}
