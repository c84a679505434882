import Foundation

/// A switch the in-memory backends of one test share: while it is down, every operation of every backend built
/// with it fails the way that backend fails when its infrastructure is gone (a registry `.unreachable`, a store or
/// a repository that cannot be read or written), and nothing changes. What a killed process leaves is modelled by
/// taking the switch down at the moment of the kill: no effect after that point lands, and a new engine on the same
/// backends (the switch up again) finds the state as the kill left it.
public final class Outage: @unchecked Sendable {
    private let lock = NSLock()
    private var down = false

    public init() {}

    /// Whether the backends are down now.
    public var isDown: Bool {
        lock.lock()
        defer { lock.unlock() }
        return down
    }

    /// Takes every backend that shares this switch down.
    public func begin() { set(true) }

    /// Brings them back, with what they held when they went down.
    public func end() { set(false) }

    private func set(_ value: Bool) {
        lock.lock()
        down = value
        lock.unlock()
    }
}
