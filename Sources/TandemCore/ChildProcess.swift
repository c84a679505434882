public import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A child process started with `posix_spawn`: its own process group (so a job's whole tree can be stopped),
/// an empty signal mask and default signal handlers (a child started from a dispatch thread would otherwise
/// inherit blocked signals and ignore SIGTERM), and a wait status read with `waitpid` — no run loop needed.
public final class ChildProcess: @unchecked Sendable {
    /// How a child ended.
    public enum Termination: Sendable, Equatable {
        case exited(Int32)
        case signaled(Int32)

        public var succeeded: Bool { self == .exited(0) }
    }

    /// Where a standard stream goes.
    public enum Output: Sendable {
        case inherit
        case null
        /// A file, created or truncated (or appended to).
        case file(String, append: Bool)
        /// An open descriptor (the write end of a pipe).
        case descriptor(Int32)
        /// Standard error only: wherever standard output goes (one log, in order).
        case standardOutput
    }

    public let pid: pid_t
    private let lock = NSLock()
    private var ended: Termination?

    private init(pid: pid_t) { self.pid = pid }

    /// Starts `executable` (an absolute path, or a name looked up on PATH) with `arguments`.
    public static func spawn(
        executable: String, arguments: [String], environment: [String: String]? = nil, directory: String? = nil,
        stdout: Output = .inherit, stderr: Output = .inherit, stdinNull: Bool = true, newProcessGroup: Bool = true
    ) throws -> ChildProcess {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }

        if stdinNull { posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0) }
        for (fd, output) in [(Int32(1), stdout), (Int32(2), stderr)] {
            switch output {
            case .inherit: break
            case .null: posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", O_WRONLY, 0)
            case .file(let path, let append):
                posix_spawn_file_actions_addopen(&actions, fd, path, O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC), 0o644)
            case .descriptor(let source): posix_spawn_file_actions_adddup2(&actions, source, fd)
            case .standardOutput: posix_spawn_file_actions_adddup2(&actions, 1, fd)

            }
        }
        // Nothing else of this process leaks into the child (listening sockets, pipes, database files): a
        // long-lived job or daemon holding them would keep ports bound and pipes open after we close ours.
        if let closefrom = GNU.addclosefrom { _ = closefrom(&actions, 3) }
        if let directory {
            guard let addchdir = GNU.addchdir else {
                throw ChildProcessError(
                    description: "this C library has no posix_spawn_file_actions_addchdir_np (glibc ≥ 2.29 has)")
            }
            _ = addchdir(&actions, directory)
        }

        var flags = Int32(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)
        if newProcessGroup {
            flags |= Int32(POSIX_SPAWN_SETPGROUP)
            posix_spawnattr_setpgroup(&attributes, 0)
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGPIPE, SIGCHLD, SIGUSR1, SIGUSR2] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let env = (environment ?? ProcessInfo.processInfo.environment).map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { env.forEach { free($0) } }

        var pid: pid_t = 0
        let rc =
            executable.contains("/")
            ? posix_spawn(&pid, executable, &actions, &attributes, argv, env)
            : posix_spawnp(&pid, executable, &actions, &attributes, argv, env)
        guard rc == 0 else {
            throw ChildProcessError(
                description: "cannot start \(executable): \(String(cString: strerror(rc)))"
                    + (directory.map { " (working directory \($0))" } ?? ""))
        }
        return ChildProcess(pid: pid)
    }

    /// The termination once the child has ended, without blocking.
    public func poll() -> Termination? {
        lock.lock()
        defer { lock.unlock() }
        if let ended { return ended }
        var status: Int32 = 0
        let rc = waitpid(pid, &status, WNOHANG)
        guard rc == pid else { return nil }
        ended = Self.decode(status)
        return ended
    }

    /// Blocks until the child ends.
    @discardableResult
    public func wait() -> Termination {
        while true {
            if let t = poll() { return t }
            lock.lock()
            var status: Int32 = 0
            let rc = waitpid(pid, &status, 0)
            if rc == pid { ended = Self.decode(status) }
            let result = ended
            lock.unlock()
            if let result { return result }
            if rc == -1 && errno != EINTR { return .exited(-1) }
        }
    }

    /// Sends `signal` to the child's whole process group (the child itself when it shares ours).
    public func signalGroup(_ signal: Int32) {
        guard poll() == nil else { return }
        if kill(-pid, signal) != 0 { kill(pid, signal) }
    }

    private static func decode(_ status: Int32) -> Termination {
        let low = status & 0x7f
        return low == 0 ? .exited((status >> 8) & 0xff) : .signaled(low)
    }

    /// Runs a command to its end and returns its exit status, standard output and standard error. The command
    /// runs in its own process group, so a Ctrl-C at the terminal (SIGINT to the whole foreground group) does not
    /// kill it half-way: Tandem decides what an interruption means (for a Slurm job, `scancel` it, then wait).
    public static func run(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil, directory: String? = nil
    ) throws -> (termination: Termination, stdout: String, stderr: String) {
        var outPipe: [Int32] = [0, 0]
        var errPipe: [Int32] = [0, 0]
        // Close-on-exec on every end, so that no other child started meanwhile holds a write end open (dup2
        // clears the flag on the child's 1 and 2).
        guard let pipe2 = GNU.pipe2, pipe2(&outPipe, O_CLOEXEC) == 0, pipe2(&errPipe, O_CLOEXEC) == 0 else {
            throw ChildProcessError(description: "cannot create a pipe: \(String(cString: strerror(errno)))")
        }

        let child: ChildProcess
        do {
            child = try spawn(
                executable: executable, arguments: arguments, environment: environment, directory: directory,
                stdout: .descriptor(outPipe[1]), stderr: .descriptor(errPipe[1]), newProcessGroup: true)
        } catch {
            for fd in outPipe + errPipe { close(fd) }
            throw error
        }
        close(outPipe[1])
        close(errPipe[1])
        var out = [UInt8]()
        var err = [UInt8]()
        var fds = [
            pollfd(fd: outPipe[0], events: Int16(POLLIN), revents: 0), pollfd(fd: errPipe[0], events: Int16(POLLIN), revents: 0),
        ]
        var open = 2
        var buffer = [UInt8](repeating: 0, count: 65536)
        while open > 0 {
            let ready = Glibc.poll(&fds, nfds_t(fds.count), -1)
            if ready < 0 {
                if errno == EINTR { continue }
                break
            }
            for i in fds.indices where fds[i].fd >= 0 && fds[i].revents != 0 {
                let n = read(fds[i].fd, &buffer, buffer.count)
                if n > 0 {
                    if i == 0 { out.append(contentsOf: buffer[0..<n]) } else { err.append(contentsOf: buffer[0..<n]) }
                } else if n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN) {
                    close(fds[i].fd)
                    fds[i].fd = -1
                    open -= 1
                }
            }
        }
        for f in fds where f.fd >= 0 { close(f.fd) }
        let termination = child.wait()
        return (termination, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
    }
}

/// glibc functions Swift's Glibc module hides (they need _GNU_SOURCE), looked up once by name.
private enum GNU {
    typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32
    typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32

    static let addchdir: AddChdir? = symbol("posix_spawn_file_actions_addchdir_np")
    static let pipe2: Pipe2? = symbol("pipe2")
    typealias AddClosefrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    static let addclosefrom: AddClosefrom? = symbol("posix_spawn_file_actions_addclosefrom_np")

    private static func symbol<T>(_ name: String) -> T? {
        guard let handle = dlopen(nil, RTLD_NOW), let pointer = dlsym(handle, name) else { return nil }
        return unsafeBitCast(pointer, to: T.self)
    }
}

/// A child process that could not start.

public struct ChildProcessError: Error, CustomStringConvertible, Sendable {
    public var description: String

    public init(description: String) { self.description = description }
}
