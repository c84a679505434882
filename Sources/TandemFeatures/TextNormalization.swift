import Foundation

/// The text rules of docs/data-contract.md ("Query normalisation", "Tokens"): query normalisation and
/// tokenisation. Both the gold build and the inference path use these functions, so a query is never normalised
/// two ways.
public enum TextNormalization {
    /// Normalises a query: NFKC, full Unicode lower-casing (as Python's `str.lower`, final sigma included),
    /// every run of Unicode `White_Space` to one space, trimmed. `"\u{a0}ＰＹＴＨＯＮ\u{3000}Cafe\u{301}  tips\t"`
    /// becomes `"python café tips"`.
    public static func normalizeQuery(_ raw: String) -> String {
        let folded = lowercase(nfkc(raw))
        var out = String.UnicodeScalarView()
        var pendingSpace = false
        for scalar in folded.unicodeScalars {
            if isWhiteSpace(scalar) {
                pendingSpace = true
                continue
            }
            if pendingSpace && !out.isEmpty { out.append(" ") }
            pendingSpace = false
            out.append(scalar)
        }
        return String(out)
    }

    /// Unicode NFKC, with a fast path for ASCII (which NFKC leaves unchanged).
    public static func nfkc(_ text: String) -> String {
        if text.utf8.allSatisfy({ $0 < 0x80 }) { return text }
        return text.precomposedStringWithCompatibilityMapping
    }

    /// Full Unicode lower-case mapping, as Python's `str.lower` (Final_Sigma included).
    public static func lowercase(_ text: String) -> String {
        if text.utf8.allSatisfy({ $0 < 0x80 }) {
            return String(decoding: text.utf8.map { ($0 >= 0x41 && $0 <= 0x5A) ? $0 + 32 : $0 }, as: UTF8.self)
        }
        let scalars = Array(text.unicodeScalars)
        var out = String.UnicodeScalarView()
        for (i, scalar) in scalars.enumerated() {
            if scalar.value == 0x03A3 {
                out.append(finalSigma(scalars, at: i) ? "\u{03C2}" : "\u{03C3}")
            } else {
                out.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars)
            }
        }
        return String(out)
    }

    /// Python's Final_Sigma context: a cased letter (skipping case-ignorables) before, none after.
    private static func finalSigma(_ s: [Unicode.Scalar], at i: Int) -> Bool {
        var j = i - 1
        while j >= 0 && s[j].properties.isCaseIgnorable { j -= 1 }
        guard j >= 0 && s[j].properties.isCased else { return false }
        var k = i + 1
        while k < s.count && s[k].properties.isCaseIgnorable { k += 1 }
        return k == s.count || !s[k].properties.isCased
    }

    /// The Unicode `White_Space` characters of docs/data-contract.md, "Query normalisation".
    @inline(__always)
    public static func isWhiteSpace(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x09...0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000: true
        default: false
        }
    }

    /// `tokens(text)`: the maximal runs of Unicode letters or digits (`[\p{L}\p{N}]+`) of
    /// `lowercase(NFKC(text))`, in order, repeats kept.
    public static func tokens(_ text: String) -> [String] {
        if text.utf8.allSatisfy({ $0 < 0x80 }) { return asciiTokens(text) }
        let folded = lowercase(nfkc(text))
        var out: [String] = []
        var current = String.UnicodeScalarView()
        for scalar in folded.unicodeScalars {
            if isLetterOrNumber(scalar) {
                current.append(scalar)
            } else if !current.isEmpty {
                out.append(String(current))
                current = String.UnicodeScalarView()
            }
        }
        if !current.isEmpty { out.append(String(current)) }
        return out
    }

    private static func asciiTokens(_ text: String) -> [String] {
        var out: [String] = []
        var current: [UInt8] = []
        current.reserveCapacity(32)
        for var byte in text.utf8 {
            if byte >= 0x41 && byte <= 0x5A { byte += 32 }
            if (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39) {
                current.append(byte)
            } else if !current.isEmpty {
                out.append(String(decoding: current, as: UTF8.self))
                current.removeAll(keepingCapacity: true)
            }
        }
        if !current.isEmpty { out.append(String(decoding: current, as: UTF8.self)) }
        return out
    }

    @inline(__always)
    static func isLetterOrNumber(_ s: Unicode.Scalar) -> Bool {
        switch s.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
            .decimalNumber, .letterNumber, .otherNumber:
            true
        default:
            false
        }
    }
}

/// FNV-1a, 32 bits: offset basis 2166136261, prime 16777619, over UTF-8 bytes.
public enum FNV1a {
    /// The hash of some bytes.
    @inline(__always)
    public static func hash32<S: Sequence>(_ bytes: S) -> UInt32 where S.Element == UInt8 {
        var h: UInt32 = 2_166_136_261
        for byte in bytes {
            h ^= UInt32(byte)
            h = h &* 16_777_619
        }
        return h
    }

    /// The hash of a string's UTF-8.
    public static func hash32(_ text: String) -> UInt32 { hash32(text.utf8) }

    /// A query's split bucket, `fnv1a32(utf8(query)) mod 5` (docs/data-contract.md, "Train/validation/test
    /// split"): bucket 0 is the held-out test set (reported quality, champion/challenger), bucket 1 the validation
    /// set (early stopping, sweep selection), buckets 2–4 the training set.
    public static func splitBucket(normalizedQuery: String) -> Int { Int(hash32(normalizedQuery) % 5) }

    /// A query is held out for evaluation (the test set) iff `fnv1a32(query) mod 5 == 0`.
    public static func isHeldOut(normalizedQuery: String) -> Bool { splitBucket(normalizedQuery: normalizedQuery) == 0 }
}
