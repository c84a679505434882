import Foundation

/// How much this process's resident memory rose at its peak while `body` ran, in bytes (Linux: the peak is
/// reset through /proc/self/clear_refs and read back as VmHWM). Other tests running at the same time count too,
/// so bounds should be generous; where the peak cannot be reset, the growth of VmRSS is returned instead.
public func peakMemoryGrowth<T>(_ body: () throws -> T) rethrows -> (result: T, bytes: Int) {
    let reset = (try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)) != nil
    let before = statusBytes("VmRSS:")
    let result = try body()
    let after = reset ? statusBytes("VmHWM:") : statusBytes("VmRSS:")
    return (result, max(0, after - before))
}

/// A `/proc/self/status` size field in bytes (0 where there is none).
func statusBytes(_ field: String) -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
        let line = status.split(separator: "\n").first(where: { $0.hasPrefix(field) }),
        let kib = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
    else { return 0 }
    return kib * 1024
}
