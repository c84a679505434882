public import Foundation

/// RFC 3339 UTC timestamps, the one time format Tandem writes (`2026-11-28T20:13:49Z`, or with
/// milliseconds where order within a second matters).
public enum Timestamp {
    /// Now, to the second.
    public static func now() -> String { format(Date()) }

    /// Now, to the millisecond.
    public static func nowMillis() -> String { format(Date(), millis: true) }

    /// A date as RFC 3339 UTC.
    public static func format(_ date: Date, millis: Bool = false) -> String {
        let seconds = date.timeIntervalSince1970
        var whole = time_t(seconds.rounded(.down))
        var parts = tm()
        gmtime_r(&whole, &parts)
        let base = String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
            Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
        if !millis { return base + "Z" }
        let ms = min(999, Int(((seconds - seconds.rounded(.down)) * 1000).rounded(.down)))
        return base + String(format: ".%03dZ", ms)
    }
}
