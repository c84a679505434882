/// A strict RFC 8259 JSON parser for one line that must be one object (docs/data-contract.md, "Lines and JSON").
///
/// Strict: no trailing commas, no NaN or Infinity, no single quotes, no comments, no control characters
/// inside strings, nothing but white space after the value. It validates the whole line and decodes only
/// the top-level fields named in `keys`; when a key appears twice, the last one wins (as most parsers do).
public struct StrictJSONObjectParser {
    private let keys: [[UInt8]]
    private var scratch: [UInt8] = []
    /// When set, `spans` records where each requested key's value is in the line (to quote it in a message).
    public var recordsSpans = false
    /// The byte range of each requested key's value in the last line parsed (with `recordsSpans`).
    public private(set) var spans: [Range<Int>?] = []
    /// Where the last line that was not one JSON object went wrong: the byte offset, and whether a whole
    /// object had been read there (so what follows is extra text).
    public private(set) var failure: (offset: Int, afterObject: Bool) = (0, false)

    /// A parser that extracts the given top-level keys.
    public init(keys: [String]) {
        self.keys = keys.map { Array($0.utf8) }
        scratch.reserveCapacity(256)
    }

    /// Parses a line. Returns nil when the line is not exactly one JSON object; otherwise the value of each
    /// requested key (nil where absent), in the order the keys were given.
    public mutating func parse(_ line: UnsafeBufferPointer<UInt8>) -> [JSONField?]? {
        var fields = [JSONField?](repeating: nil, count: keys.count)
        if recordsSpans { spans = [Range<Int>?](repeating: nil, count: keys.count) }
        var cursor = Cursor(base: line, index: 0)
        cursor.skipWhitespace()
        guard cursor.peek() == UInt8(ascii: "{"), parseTopObject(&cursor, into: &fields) else {
            failure = (cursor.index, false)
            return nil
        }
        cursor.skipWhitespace()
        guard cursor.atEnd else {
            failure = (cursor.index, true)
            return nil
        }
        return fields
    }

    struct Cursor {
        let base: UnsafeBufferPointer<UInt8>
        var index: Int
        var atEnd: Bool { index >= base.count }
        func peek() -> UInt8? { index < base.count ? base[index] : nil }
        mutating func skipWhitespace() {
            while index < base.count {
                let c = base[index]
                if c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D { index += 1 } else { break }
            }
        }
        mutating func consume(_ byte: UInt8) -> Bool {
            if index < base.count && base[index] == byte { index += 1; return true }
            return false
        }
        mutating func consumeLiteral(_ text: StaticString) -> Bool {
            let n = text.utf8CodeUnitCount
            guard index + n <= base.count else { return false }
            let p = text.utf8Start
            for i in 0..<n where base[index + i] != p[i] { return false }
            index += n
            return true
        }
    }

    private mutating func parseTopObject(_ c: inout Cursor, into fields: inout [JSONField?]) -> Bool {
        guard c.consume(UInt8(ascii: "{")) else { return false }
        c.skipWhitespace()
        if c.consume(UInt8(ascii: "}")) { return true }
        while true {
            c.skipWhitespace()
            guard c.peek() == UInt8(ascii: "\"") else { return false }
            guard decodeString(&c) else { return false }
            let slot = keys.firstIndex(where: { $0 == scratch })
            c.skipWhitespace()
            guard c.consume(UInt8(ascii: ":")) else { return false }
            c.skipWhitespace()
            if let slot {
                let start = c.index
                guard let value = parseValue(&c, depth: 1, materialize: true) else { return false }
                fields[slot] = value
                if recordsSpans { spans[slot] = start..<c.index }
            } else {
                guard parseValue(&c, depth: 1, materialize: false) != nil else { return false }
            }
            c.skipWhitespace()
            if c.consume(UInt8(ascii: ",")) { continue }
            if c.consume(UInt8(ascii: "}")) { return true }
            return false
        }
    }

    /// Parses any value; returns nil when invalid. Strings are materialised only when asked.
    private mutating func parseValue(_ c: inout Cursor, depth: Int, materialize: Bool) -> JSONField? {
        guard depth < 512, let first = c.peek() else { return nil }
        switch first {
        case UInt8(ascii: "\""):
            guard decodeString(&c) else { return nil }
            return materialize ? .string(String(decoding: scratch, as: UTF8.self)) : .null
        case UInt8(ascii: "{"):
            c.index += 1
            c.skipWhitespace()
            if c.consume(UInt8(ascii: "}")) { return .object }
            while true {
                c.skipWhitespace()
                guard c.peek() == UInt8(ascii: "\""), decodeString(&c) else { return nil }
                c.skipWhitespace()
                guard c.consume(UInt8(ascii: ":")) else { return nil }
                c.skipWhitespace()
                guard parseValue(&c, depth: depth + 1, materialize: false) != nil else { return nil }
                c.skipWhitespace()
                if c.consume(UInt8(ascii: ",")) { continue }
                if c.consume(UInt8(ascii: "}")) { return .object }
                return nil
            }
        case UInt8(ascii: "["):
            c.index += 1
            c.skipWhitespace()
            if c.consume(UInt8(ascii: "]")) { return .array }
            while true {
                c.skipWhitespace()
                guard parseValue(&c, depth: depth + 1, materialize: false) != nil else { return nil }
                c.skipWhitespace()
                if c.consume(UInt8(ascii: ",")) { continue }
                if c.consume(UInt8(ascii: "]")) { return .array }
                return nil
            }
        case UInt8(ascii: "t"):
            return c.consumeLiteral("true") ? .bool(true) : nil
        case UInt8(ascii: "f"):
            return c.consumeLiteral("false") ? .bool(false) : nil
        case UInt8(ascii: "n"):
            return c.consumeLiteral("null") ? .null : nil
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return parseNumber(&c)
        default:
            return nil
        }
    }

    private func parseNumber(_ c: inout Cursor) -> JSONField? {
        let b = c.base
        var negative = false
        if c.consume(UInt8(ascii: "-")) { negative = true }
        guard let first = c.peek(), first >= 0x30 && first <= 0x39 else { return nil }
        var magnitude: UInt64 = 0
        var overflow = false
        if first == 0x30 {
            c.index += 1
        } else {
            while c.index < b.count, b[c.index] >= 0x30 && b[c.index] <= 0x39 {
                let (m1, o1) = magnitude.multipliedReportingOverflow(by: 10)
                let (m2, o2) = m1.addingReportingOverflow(UInt64(b[c.index] - 0x30))
                if o1 || o2 { overflow = true }
                magnitude = m2
                c.index += 1
            }
        }
        var integral = true
        if c.consume(UInt8(ascii: ".")) {
            integral = false
            guard let d = c.peek(), d >= 0x30 && d <= 0x39 else { return nil }
            while let d = c.peek(), d >= 0x30 && d <= 0x39 { c.index += 1 }
        }
        if let e = c.peek(), e == UInt8(ascii: "e") || e == UInt8(ascii: "E") {
            integral = false
            c.index += 1
            if let s = c.peek(), s == UInt8(ascii: "+") || s == UInt8(ascii: "-") { c.index += 1 }
            guard let d = c.peek(), d >= 0x30 && d <= 0x39 else { return nil }
            while let d = c.peek(), d >= 0x30 && d <= 0x39 { c.index += 1 }
        }
        if !integral { return .fractional }
        if overflow { return .hugeInteger(negative: negative) }
        if negative {
            if magnitude <= UInt64(Int64.max) { return .integer(-Int64(magnitude)) }
            if magnitude == UInt64(Int64.max) + 1 { return .integer(Int64.min) }
            return .hugeInteger(negative: true)
        }
        if magnitude > UInt64(Int64.max) { return .hugeInteger(negative: false) }
        return .integer(Int64(magnitude))
    }

    /// Decodes a string at the cursor into `scratch` as UTF-8; false when it is not a valid JSON string
    /// (bad escape, raw control character, invalid UTF-8, lone surrogate, no closing quote).
    private mutating func decodeString(_ c: inout Cursor) -> Bool {
        scratch.removeAll(keepingCapacity: true)
        let b = c.base
        guard c.consume(UInt8(ascii: "\"")) else { return false }
        while c.index < b.count {
            let byte = b[c.index]
            if byte == UInt8(ascii: "\"") {
                c.index += 1
                return true
            }
            if byte == UInt8(ascii: "\\") {
                c.index += 1
                guard c.index < b.count else { return false }
                let e = b[c.index]
                c.index += 1
                switch e {
                case UInt8(ascii: "\""): scratch.append(0x22)
                case UInt8(ascii: "\\"): scratch.append(0x5C)
                case UInt8(ascii: "/"): scratch.append(0x2F)
                case UInt8(ascii: "b"): scratch.append(0x08)
                case UInt8(ascii: "f"): scratch.append(0x0C)
                case UInt8(ascii: "n"): scratch.append(0x0A)
                case UInt8(ascii: "r"): scratch.append(0x0D)
                case UInt8(ascii: "t"): scratch.append(0x09)
                case UInt8(ascii: "u"):
                    guard var unit = hex4(b, &c.index) else { return false }
                    if unit >= 0xD800 && unit <= 0xDBFF {
                        guard c.index + 1 < b.count, b[c.index] == UInt8(ascii: "\\"), b[c.index + 1] == UInt8(ascii: "u")
                        else { return false }
                        c.index += 2
                        guard let low = hex4(b, &c.index), low >= 0xDC00 && low <= 0xDFFF else { return false }
                        unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                    } else if unit >= 0xDC00 && unit <= 0xDFFF {
                        return false
                    }
                    appendUTF8(unit)
                default:
                    return false
                }
                continue
            }
            if byte < 0x20 { return false }
            if byte < 0x80 {
                scratch.append(byte)
                c.index += 1
                continue
            }
            // Multi-byte UTF-8: validate (no overlongs, no surrogates, ≤ U+10FFFF).
            let length: Int
            var scalar: UInt32
            if byte & 0xE0 == 0xC0 {
                length = 2; scalar = UInt32(byte & 0x1F)
            } else if byte & 0xF0 == 0xE0 {
                length = 3; scalar = UInt32(byte & 0x0F)
            } else if byte & 0xF8 == 0xF0 {
                length = 4; scalar = UInt32(byte & 0x07)
            } else {
                return false
            }
            guard c.index + length <= b.count else { return false }
            for k in 1..<length {
                let cont = b[c.index + k]
                guard cont & 0xC0 == 0x80 else { return false }
                scalar = (scalar << 6) | UInt32(cont & 0x3F)
            }
            let minimum: UInt32 = length == 2 ? 0x80 : (length == 3 ? 0x800 : 0x10000)
            guard scalar >= minimum, scalar <= 0x10FFFF, !(scalar >= 0xD800 && scalar <= 0xDFFF) else { return false }
            for k in 0..<length { scratch.append(b[c.index + k]) }
            c.index += length
        }
        return false
    }

    private func hex4(_ b: UnsafeBufferPointer<UInt8>, _ index: inout Int) -> UInt32? {
        guard index + 4 <= b.count else { return nil }
        var value: UInt32 = 0
        for k in 0..<4 {
            let h = b[index + k]
            let digit: UInt32
            switch h {
            case 0x30...0x39: digit = UInt32(h - 0x30)
            case 0x41...0x46: digit = UInt32(h - 0x41 + 10)
            case 0x61...0x66: digit = UInt32(h - 0x61 + 10)
            default: return nil
            }
            value = value << 4 | digit
        }
        index += 4
        return value
    }

    private mutating func appendUTF8(_ scalar: UInt32) {
        switch scalar {
        case 0..<0x80:
            scratch.append(UInt8(scalar))
        case 0x80..<0x800:
            scratch.append(UInt8(0xC0 | (scalar >> 6)))
            scratch.append(UInt8(0x80 | (scalar & 0x3F)))
        case 0x800..<0x10000:
            scratch.append(UInt8(0xE0 | (scalar >> 12)))
            scratch.append(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
            scratch.append(UInt8(0x80 | (scalar & 0x3F)))
        default:
            scratch.append(UInt8(0xF0 | (scalar >> 18)))
            scratch.append(UInt8(0x80 | ((scalar >> 12) & 0x3F)))
            scratch.append(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
            scratch.append(UInt8(0x80 | (scalar & 0x3F)))
        }
    }
}
