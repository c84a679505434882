import Dispatch
import Foundation

/// Turns Ctrl-C (SIGINT) and SIGTERM into a flag that long work polls, so it can stop cleanly and keep
/// what it has (the trainer keeps the best model so far). A second Ctrl-C ends the process at once.
public final class StopSignal: @unchecked Sendable {
    private let lock = NSLock()
    private var stopped = false
    private var sources: [any DispatchSourceSignal] = []

    public init() {
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { [weak self] in
                guard let self else { return }
                self.lock.lock()
                let again = self.stopped
                self.stopped = true
                self.lock.unlock()
                if again { exit(130) }
                // On a line of its own, on stderr (a progress bar may be drawn there).
                FileHandle.standardError.write(Data("\nstopping after this step (press Ctrl-C again to quit at once)…\n".utf8))
            }
            source.resume()
            sources.append(source)
        }
    }

    public var isStopped: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopped
    }

    deinit {
        for s in sources { s.cancel() }
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}
