/// Writes JSON text fast for the exports (millions of lines), with RFC 8259 string escaping.
public struct JSONText {
    public private(set) var bytes: [UInt8] = []

    public init(capacity: Int = 1 << 16) { bytes.reserveCapacity(capacity) }

    public mutating func raw(_ text: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    public mutating func string(_ value: String) {
        bytes.append(0x22)
        for byte in value.utf8 {
            switch byte {
            case 0x22: bytes.append(0x5C); bytes.append(0x22)
            case 0x5C: bytes.append(0x5C); bytes.append(0x5C)
            case 0x0A: bytes.append(0x5C); bytes.append(UInt8(ascii: "n"))
            case 0x0D: bytes.append(0x5C); bytes.append(UInt8(ascii: "r"))
            case 0x09: bytes.append(0x5C); bytes.append(UInt8(ascii: "t"))
            case 0x00..<0x20:
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
            default: bytes.append(byte)
            }
        }
        bytes.append(0x22)
    }

    public mutating func integer<I: BinaryInteger>(_ value: I) { bytes.append(contentsOf: String(value).utf8) }

    /// A float32 in its shortest round-tripping decimal form.
    public mutating func number(_ value: Float) {
        if value == value.rounded(), abs(value) < 1e15 {
            bytes.append(contentsOf: String(Int64(value)).utf8)
        } else {
            bytes.append(contentsOf: value.description.utf8)
        }
    }

    public mutating func newline() { bytes.append(0x0A) }

    /// A data timestamp as a JSON string in its silver form.
    public mutating func timestamp(_ t: DataTimestamp) {
        bytes.append(0x22)
        t.appendSilverText(to: &bytes)
        bytes.append(0x22)
    }

    /// Appends text as it is (already valid JSON).
    public mutating func verbatim(_ text: String) { bytes.append(contentsOf: text.utf8) }

    public mutating func removeAll() { bytes.removeAll(keepingCapacity: true) }
}
