/// A timestamp of the raw data: `YYYY-MM-DDTHH:MM:SSZ`, optionally with `.fraction` before the `Z`,
/// that must be a valid UTC calendar date and time (docs/data-contract.md, "Lines and JSON").
public struct DataTimestamp: Sendable, Hashable, Comparable {
    /// Seconds since 1970-01-01T00:00:00Z.
    public var seconds: Int64
    /// The fraction of a second, as its first 18 decimal digits (zero-padded), for ordering.
    public var fraction: UInt64

    /// Parses the raw form; nil when it is not of the form or not a valid date and time.
    public init?(_ text: String) {
        let b = Array(text.utf8)
        guard b.count >= 20, b[4] == 0x2D, b[7] == 0x2D, b[10] == 0x54, b[13] == 0x3A, b[16] == 0x3A,
            b[b.count - 1] == 0x5A
        else { return nil }
        func digits(_ range: Range<Int>) -> Int? {
            var v = 0
            for i in range {
                let d = b[i]
                guard d >= 0x30 && d <= 0x39 else { return nil }
                v = v * 10 + Int(d - 0x30)
            }
            return v
        }
        guard let year = digits(0..<4), let month = digits(5..<7), let day = digits(8..<10),
            let hour = digits(11..<13), let minute = digits(14..<16), let second = digits(17..<19)
        else { return nil }
        var fraction: UInt64 = 0
        if b.count == 20 {
            // no fraction
        } else {
            guard b[19] == 0x2E, b.count > 21 else { return nil }
            var n = 0
            for i in 20..<(b.count - 1) {
                let d = b[i]
                guard d >= 0x30 && d <= 0x39 else { return nil }
                if n < 18 { fraction = fraction * 10 + UInt64(d - 0x30); n += 1 }
            }
            while n < 18 { fraction *= 10; n += 1 }
        }
        guard year >= 1, (1...12).contains(month), day >= 1, day <= Self.daysIn(month: month, year: year),
            hour <= 23, minute <= 59, second <= 59
        else { return nil }
        self.seconds =
            Self.daysFromCivil(year: year, month: month, day: day) * 86_400
            + Int64(hour * 3600 + minute * 60 + second)
        self.fraction = fraction
    }

    /// What keeps `text` from being a timestamp, in words (`is not a valid date (February 2026 has 28 days)`);
    /// nil when it is one.
    public static func problem(_ text: String) -> String? {
        if DataTimestamp(text) != nil { return nil }
        let form = "is not a timestamp of the form YYYY-MM-DDTHH:MM:SSZ (with an optional .fraction before the Z)"
        let b = Array(text.utf8)
        let digitsAt = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18]
        guard b.count >= 20, b[4] == 0x2D, b[7] == 0x2D, b[10] == 0x54, b[13] == 0x3A, b[16] == 0x3A,
            b[b.count - 1] == 0x5A, digitsAt.allSatisfy({ b[$0] >= 0x30 && b[$0] <= 0x39 }),
            b.count == 20 || (b[19] == 0x2E && b.count > 21 && b[20..<(b.count - 1)].allSatisfy { $0 >= 0x30 && $0 <= 0x39 })
        else { return form }
        func number(_ range: Range<Int>) -> Int { b[range].reduce(0) { $0 * 10 + Int($1 - 0x30) } }
        let (year, month, day) = (number(0..<4), number(5..<7), number(8..<10))
        let (hour, minute, second) = (number(11..<13), number(14..<16), number(17..<19))
        let months = [
            "January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November",
            "December",
        ]
        if year < 1 { return "is not a valid date (years start at 0001)" }
        if !(1...12).contains(month) { return "is not a valid date (there is no month \(month))" }
        if day < 1 || day > daysIn(month: month, year: year) {
            return "is not a valid date (\(months[month - 1]) \(year) has \(daysIn(month: month, year: year)) days)"
        }
        if hour > 23 { return "is not a valid time (the hour is 00–23)" }
        if minute > 59 { return "is not a valid time (the minute is 00–59)" }
        if second > 59 { return "is not a valid time (the second is 00–59; there are no leap seconds)" }
        return form
    }

    /// A timestamp from seconds since the epoch.
    public init(seconds: Int64) {
        self.seconds = seconds
        self.fraction = 0
    }

    public static func < (a: DataTimestamp, b: DataTimestamp) -> Bool {
        (a.seconds, a.fraction) < (b.seconds, b.fraction)
    }

    /// Appends the silver form's 20 bytes, without building a string.
    public func appendSilverText(to out: inout [UInt8]) {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let rest = Int(seconds - days * 86_400)
        let (y, m, d) = Self.civil(fromDays: days)
        @inline(__always) func two(_ v: Int) {
            out.append(UInt8(48 + v / 10))
            out.append(UInt8(48 + v % 10))
        }
        two(y / 100 % 100)
        two(y % 100)
        out.append(0x2D)
        two(m)
        out.append(0x2D)
        two(d)
        out.append(0x54)
        two(rest / 3600)
        out.append(0x3A)
        two(rest / 60 % 60)
        out.append(0x3A)
        two(rest % 60)
        out.append(0x5A)
    }

    /// The silver form, `YYYY-MM-DDTHH:MM:SSZ` (the fraction dropped).
    public var silverText: String {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let rest = Int(seconds - days * 86_400)
        let (y, m, d) = Self.civil(fromDays: days)
        func pad(_ v: Int, _ n: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, n - s.count)) + s
        }
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(rest / 3600, 2)):\(pad(rest / 60 % 60, 2)):\(pad(rest % 60, 2))Z"
    }

    static func isLeap(_ y: Int) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return Int64(era * 146_097 + doe - 719_468)
    }

    static func civil(fromDays z0: Int64) -> (Int, Int, Int) {
        let z = Int(z0) + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}
