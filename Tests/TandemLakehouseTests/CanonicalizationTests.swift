import Testing

@testable import TandemFeatures
@testable import TandemLakehouse

@Suite("Canonicalisation")
struct CanonicalizationTests {
    static let id = "dQw4w9WgXcQ"
    static let canonical = "https://www.vid.example/watch?v=dQw4w9WgXcQ"

    static let variants: [String] = [
        "https://www.vid.example/watch?v=dQw4w9WgXcQ",
        "http://www.vid.example/watch?v=dQw4w9WgXcQ",
        "HTTPS://WWW.VID.EXAMPLE/watch?v=dQw4w9WgXcQ",
        "https://vid.example/watch?v=dQw4w9WgXcQ",
        "https://m.vid.example/watch?v=dQw4w9WgXcQ",
        "https://vid.example/dQw4w9WgXcQ",
        "https://vid.example/dQw4w9WgXcQ/",
        "https://m.vid.example/dQw4w9WgXcQ//",
        "https://www.vid.example/watch/?v=dQw4w9WgXcQ",
        "https://www.vid.example/watch?utm_source=x&v=dQw4w9WgXcQ",
        "https://www.vid.example/watch?v=dQw4w9WgXcQ&t=42&si=abc&feature=share&list=PL1",
        "https://www.vid.example/watch?v=dQw4w9WgXcQ#t=30s",
        "  https://www.vid.example/watch?v=dQw4w9WgXcQ\t\n",
        "https://vid.example/dQw4w9WgXcQ?utm_campaign=x",
        "https://www.vid.example/watch?v=dQw4w9WgXcQ&v=otherIDxxxx",
    ]

    @Test("every URL variant maps to one canonical URL", arguments: variants)
    func canonicalizes(_ url: String) {
        #expect(VideoURL.canonicalize(url) == Self.canonical)
    }

    static let refused: [String] = [
        "ftp://www.vid.example/watch?v=dQw4w9WgXcQ",
        "https://www.vid.example:443/watch?v=dQw4w9WgXcQ",
        "https://user@www.vid.example/watch?v=dQw4w9WgXcQ",
        "https://other.example/watch?v=dQw4w9WgXcQ",
        "https://vid.example.com/watch?v=dQw4w9WgXcQ",
        "https://www.vid.example/Watch?v=dQw4w9WgXcQ",
        "https://www.vid.example/watch?V=dQw4w9WgXcQ",
        "https://www.vid.example/watch?v=dQw4w9WgXc",
        "https://www.vid.example/watch?v=dQw4w9WgXcQQ",
        "https://www.vid.example/watch?v=dQw4w9WgX%51",
        "https://www.vid.example/watch?vv=dQw4w9WgXcQ",
        "https://www.vid.example/watch?v&v=dQw4w9WgXcQ",
        "https://www.vid.example/watch",
        "https://vid.example/a/dQw4w9WgXcQ",
        "https://vid.example/",
        "https://vid.example",
        "www.vid.example/watch?v=dQw4w9WgXcQ",
        "//www.vid.example/watch?v=dQw4w9WgXcQ",
        "https://www.vid.example/watch#?v=dQw4w9WgXcQ",
        "",
    ]

    @Test("anything else does not canonicalise", arguments: refused)
    func refuses(_ url: String) {
        #expect(VideoURL.canonicalize(url) == nil, "\(url)")
    }

    @Test("ids are case-sensitive")
    func caseSensitiveID() {
        #expect(VideoURL.canonicalize("https://vid.example/DQW4W9WGXCQ") == "https://www.vid.example/watch?v=DQW4W9WGXCQ")
    }

    static let queries: [(String, String)] = [
        ("\u{00a0}ＰＹＴＨＯＮ\u{3000}Cafe\u{0301}  tips\t", "python café tips"),
        ("Python   Tutorial", "python tutorial"),
        ("\tpython\n", "python"),
        (
            "a\u{0085}b\u{1680}c\u{2000}d\u{200A}e\u{2028}f\u{2029}g\u{202F}h\u{205F}i\u{3000}j\u{000B}k\u{000C}l",
            "a b c d e f g h i j k l"
        ),
        ("caf\u{0065}\u{0301}", "café"),
        ("ﬁle", "file"),
        ("ΟΔΟΣ", "οδος"),
        ("ΟΔΟΣ ΚΑΙ", "οδος και"),
        ("Σ", "σ"),
        ("İstanbul", "i̇stanbul"),
        ("Straße", "straße"),
        ("a\u{200B}b", "a\u{200B}b"),
        ("   ", ""),
    ]

    @Test("queries: NFKC, full lower-casing, Unicode spaces collapsed, trimmed", arguments: queries)
    func normalizes(_ raw: String, _ expected: String) {
        #expect(TextNormalization.normalizeQuery(raw) == expected)
    }

    @Test("tokens are runs of letters and digits of lowercase(NFKC(text))")
    func tokens() {
        #expect(
            TextNormalization.tokens("How to: Python-3 & NumPy's arrays!") == [
                "how", "to", "python", "3", "numpy", "s", "arrays",
            ])
        #expect(TextNormalization.tokens("Crème Brûlée ½ ²") == ["crème", "brûlée", "1", "2", "2"])
        #expect(TextNormalization.tokens("e\u{0301}") == ["é"])
        #expect(TextNormalization.tokens("日本語 テスト") == ["日本語", "テスト"])
        #expect(TextNormalization.tokens("  ") == [])
    }

    @Test("FNV-1a reference values of docs/data-contract.md")
    func fnv() {
        #expect(FNV1a.hash32("") == 2_166_136_261)
        #expect(FNV1a.hash32("a") == 3_826_002_220)
        #expect(FNV1a.hash32("python tutorial") % 32 == 31)
    }

    static let timestamps: [(String, Bool)] = [
        ("2024-02-29T23:59:59Z", true), ("2023-02-29T00:00:00Z", false), ("2024-13-01T00:00:00Z", false),
        ("2024-01-01T24:00:00Z", false), ("2024-01-01T00:60:00Z", false), ("2024-01-01T00:00:60Z", false),
        ("2024-01-01T00:00:00.123456Z", true), ("2024-01-01T00:00:00.Z", false), ("2024-01-01T00:00:00", false),
        ("2024-01-01 00:00:00Z", false), ("2024-01-01t00:00:00z", false), ("2024-1-01T00:00:00Z", false),
        ("0000-01-01T00:00:00Z", false), ("2024-01-01T00:00:00+00:00", false), ("1900-02-29T00:00:00Z", false),
        ("2000-02-29T00:00:00Z", true), ("２024-01-01T00:00:00Z", false),
    ]

    @Test("timestamps must be valid UTC calendar times", arguments: timestamps)
    func timestamp(_ text: String, _ valid: Bool) {
        #expect((DataTimestamp(text) != nil) == valid, "\(text)")
    }

    @Test("timestamps order by instant, fractions included, and print without the fraction")
    func timestampOrder() throws {
        let a = try #require(DataTimestamp("2024-01-01T00:00:00.5Z"))
        let b = try #require(DataTimestamp("2024-01-01T00:00:00.25Z"))
        let c = try #require(DataTimestamp("2024-01-01T00:00:01Z"))
        #expect(b < a && a < c)
        #expect(a.silverText == "2024-01-01T00:00:00Z")
        #expect(try #require(DataTimestamp("1999-12-31T23:59:59Z")).silverText == "1999-12-31T23:59:59Z")
    }
}
