import Foundation
import TandemCore

/// A TCP port on 127.0.0.1 that nothing listens on now: the kernel's pick for a socket bound to port 0, closed
/// again. For a server a test is about to start there, or for "the receiver is down".
public func unusedLocalPort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    _ = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    close(fd)
    return Int(UInt16(bigEndian: address.sin_port))
}

/// Starts a watchdog in a session of its own that runs `cleanup` (shell) once this test process has ended, however it
/// ends: the servers and clusters the tests start are stopped and their folders removed even after a crash.
public func cleanUpWhenThisProcessEnds(_ cleanup: String) throws {
    try ChildProcess.spawn(
        executable: "/usr/bin/setsid",
        arguments: [
            "-f", "/bin/sh", "-c",
            """
            while kill -0 \(getpid()) 2>/dev/null; do sleep 1; done
            \(cleanup)
            """,
        ], stdout: .null, stderr: .null
    ).wait()
}
