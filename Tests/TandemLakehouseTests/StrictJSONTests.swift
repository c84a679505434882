import Testing

@testable import TandemFeatures
@testable import TandemLakehouse

@Suite("Strict JSON")
struct StrictJSONTests {
    func parse(_ text: String, keys: [String] = ["a"]) -> [JSONField?]? {
        var parser = StrictJSONObjectParser(keys: keys)
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBufferPointer { parser.parse($0) }
    }

    static let invalid: [String] = [
        "", " ", "{", "}", "[]", "1", "\"x\"", "null", "{\"a\":1,}", "{\"a\":1} x", "{'a':1}", "{\"a\":NaN}",
        "{\"a\":Infinity}", "{\"a\":-Infinity}", "{\"a\":01}", "{\"a\":1.}", "{\"a\":.5}", "{\"a\":+1}", "{\"a\":1e}",
        "{\"a\":\"\u{1}\"}", "{\"a\":\"\\x\"}", "{\"a\":\"\\ud800\"}", "{\"a\":\"\\udc00\"}", "{a:1}", "{\"a\" 1}",
        "{\"a\":tru}", "{\"a\":[1,]}", "{\"a\":{\"b\":1,}}", "{\"a\":1}{}", "\u{FEFF}{\"a\":1}", "{\"a\":\"unterminated}",
        "{\"a\":1,,\"b\":2}", "{\"a\":1 \"b\":2}", "{\"a\":-}", "{\"a\":\"\\u12\"}", "/*c*/{\"a\":1}",
    ]

    @Test("rejects what RFC 8259 rejects", arguments: invalid)
    func rejects(_ text: String) {
        #expect(parse(text) == nil, "accepted \(text.debugDescription)")
    }

    @Test("accepts white space around the object, CR included, and unknown nested keys")
    func accepts() {
        #expect(parse(" \t{\"a\": 1, \"z\": {\"y\": [1, 2.5e-3, true, null, \"s\"]}}\r")?[0] == .integer(1))
        #expect(parse("{}")?[0] == .some(nil))
    }

    @Test("numbers: integers, huge integers, fractions and exponents")
    func numbers() {
        #expect(parse("{\"a\":-0}")?[0] == .integer(0))
        #expect(parse("{\"a\":3}")?[0] == .integer(3))
        #expect(parse("{\"a\":2.0}")?[0] == .fractional)
        #expect(parse("{\"a\":2e0}")?[0] == .fractional)
        #expect(parse("{\"a\":123456789012345678901234567890}")?[0] == .hugeInteger(negative: false))
        #expect(parse("{\"a\":-9223372036854775808}")?[0] == .integer(Int64.min))
    }

    @Test("strings: escapes, surrogate pairs, the last duplicate key wins")
    func strings() {
        #expect(parse("{\"a\":\"x\\n\\u00e9\\ud83d\\ude00\\/\"}")?[0] == .string("x\né😀/"))
        #expect(parse("{\"\\u0061\":\"escaped key\"}")?[0] == .string("escaped key"))
        #expect(parse("{\"a\":1,\"a\":\"two\"}")?[0] == .string("two"))
        #expect(parse("{\"a\":true}")?[0] == .bool(true))
    }

    @Test("invalid UTF-8 inside a string is not JSON")
    func invalidUTF8() {
        var parser = StrictJSONObjectParser(keys: ["a"])
        for bad: [UInt8] in [[0xC3], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF5, 0x80, 0x80, 0x80], [0x80]] {
            let bytes = Array("{\"a\":\"".utf8) + bad + Array("\"}".utf8)
            #expect(bytes.withUnsafeBufferPointer { parser.parse($0) } == nil)
        }
    }
}
