public import Foundation

/// Output to the terminal: human text on stdout, errors on stderr, JSON documents on stdout.
public enum Terminal {
    /// True when stderr is a terminal (progress bars are drawn only then).
    public static var stderrIsTerminal: Bool { isatty(STDERR_FILENO) != 0 }
    /// True when stdout is a terminal.
    public static var stdoutIsTerminal: Bool { isatty(STDOUT_FILENO) != 0 }

    /// `error: MESSAGE` on stderr.
    public static func error(_ message: String) {
        errorRaw("error: " + message)
    }

    /// A line on stderr, on a line of its own.
    public static func errorRaw(_ message: String) {
        writeLine(message)
    }

    /// A note on stderr (kept off stdout so that `--json` output stays one document).
    public static func note(_ message: String) {
        writeLine(message)
    }

    /// Whether a progress bar's line is on stderr without its newline.
    nonisolated(unsafe) private static var partialLine = false
    private static let lock = NSLock()

    /// Writes a line on stderr, first ending a progress bar's line if one is drawn (else the message would
    /// continue it: `silver+gold ████ 100%error: …`).
    static func writeLine(_ message: String) {
        lock.lock()
        defer { lock.unlock() }
        FileHandle.standardError.write(Data(((partialLine ? "\n" : "") + message + "\n").utf8))
        partialLine = false
    }

    /// Writes text that leaves the cursor on an unfinished line (`partial`) or not.
    static func writePartial(_ text: String, partial: Bool) {
        lock.lock()
        defer { lock.unlock() }
        FileHandle.standardError.write(Data(text.utf8))
        partialLine = partial
    }

    /// Rows laid out in columns as wide as their widest value (never cut), separated by two spaces; the last
    /// column is not padded.
    public static func table(_ rows: [[String]]) -> [String] {
        let columns = rows.map(\.count).max() ?? 0
        let widths = (0..<columns).map { c in rows.map { c < $0.count ? $0[c].count : 0 }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { c, value in
                c == row.count - 1 ? value : value + String(repeating: " ", count: widths[c] - value.count + 2)
            }.joined()
        }
    }

    /// Prints one JSON document (sorted keys, indented).
    public static func printJSON<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }
}

/// A progress bar on stderr, drawn only when stderr is a terminal and at most ten times a second.
public final class ProgressBar: @unchecked Sendable {
    private let enabled: Bool
    private var last = ContinuousClock.now
    private var lastStage = ""
    private let lock = NSLock()

    public init(enabled: Bool = Terminal.stderrIsTerminal) { self.enabled = enabled }

    public func update(_ stage: String, _ fraction: Double) {
        guard enabled else { return }
        lock.lock()
        defer { lock.unlock() }
        let now = ContinuousClock.now
        guard stage != lastStage || now - last > .milliseconds(100) || fraction >= 1 else { return }
        last = now
        lastStage = stage
        let width = 30
        let filled = Int((min(1, max(0, fraction)) * Double(width)).rounded())
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        let text = "\r\(stage.padding(toLength: 14, withPad: " ", startingAt: 0)) \(bar) \(Int(fraction * 100))%"
        Terminal.writePartial(text, partial: true)
    }

    public func finish() {
        guard enabled else { return }
        Terminal.writePartial("\r\u{1B}[K", partial: false)
    }
}
