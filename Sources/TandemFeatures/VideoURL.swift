/// Canonical video URLs (docs/data-contract.md, "URL canonicalisation"): every variant of a video's URL maps to
/// `https://www.vid.example/watch?v=ID`, or to nothing when it is not a video URL.
public enum VideoURL {
    /// The canonical form's prefix; the 11-character id follows.
    public static let canonicalPrefix = "https://www.vid.example/watch?v="

    /// The canonical URL of `raw`, or nil when it does not canonicalise.
    public static func canonicalize(_ raw: String) -> String? {
        id(of: raw).map { canonicalPrefix + $0 }
    }

    /// The canonical URL of a video id.
    public static func canonical(id: String) -> String { canonicalPrefix + id }

    /// The video id of `raw`, or nil when it does not canonicalise. Allocation-free apart from the
    /// returned id (11 bytes, which Swift stores inline).
    public static func id(of raw: String) -> String? {
        var raw = raw
        return raw.withUTF8 { id(utf8: $0) }
    }

    /// The video id of a URL given as UTF-8 bytes.
    public static func id(utf8 bytes: UnsafeBufferPointer<UInt8>) -> String? {
        // 1. Trim ASCII white space.
        var start = 0
        var end = bytes.count
        while start < end, isSpace(bytes[start]) { start += 1 }
        while end > start, isSpace(bytes[end - 1]) { end -= 1 }
        // 2. Drop the fragment, split off the query.
        if let hash = firstIndex(of: 0x23, in: bytes, start, end) { end = hash }
        var queryStart = end
        var queryEnd = end
        if let mark = firstIndex(of: 0x3F, in: bytes, start, end) {
            queryStart = mark + 1
            queryEnd = end
            end = mark
        }
        // 3. Scheme: http or https, any case, then "://".
        guard let sep = find(colonSlashSlash: bytes, start, end) else { return nil }
        guard equalsLowercased(bytes, start, sep, "http") || equalsLowercased(bytes, start, sep, "https") else { return nil }
        let authorityStart = sep + 3
        // 4. Host: exactly one of the three, no port, no userinfo.
        let slash = firstIndex(of: 0x2F, in: bytes, authorityStart, end) ?? end
        guard
            equalsLowercased(bytes, authorityStart, slash, "vid.example")
                || equalsLowercased(bytes, authorityStart, slash, "www.vid.example")
                || equalsLowercased(bytes, authorityStart, slash, "m.vid.example")
        else { return nil }
        // 5. Trailing slashes.
        var pathEnd = end
        while pathEnd > slash, bytes[pathEnd - 1] == 0x2F { pathEnd -= 1 }
        // 6./7. The id.
        var idStart = 0
        var idEnd = 0
        if equals(bytes, slash, pathEnd, "/watch") {
            guard let (s, e) = firstV(bytes, queryStart, queryEnd) else { return nil }
            idStart = s
            idEnd = e
        } else if pathEnd - slash > 1, bytes[slash] == 0x2F, firstIndex(of: 0x2F, in: bytes, slash + 1, pathEnd) == nil {
            idStart = slash + 1
            idEnd = pathEnd
        } else {
            return nil
        }
        // 8. The id's form.
        guard idEnd - idStart == 11 else { return nil }
        for i in idStart..<idEnd where !isIDByte(bytes[i]) { return nil }
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[idStart..<idEnd]), as: UTF8.self)
    }

    @inline(__always)
    static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || (b >= 0x09 && b <= 0x0D) }

    @inline(__always)
    static func isIDByte(_ b: UInt8) -> Bool {
        (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) || b == 0x5F || b == 0x2D
    }

    @inline(__always)
    private static func firstIndex(of byte: UInt8, in b: UnsafeBufferPointer<UInt8>, _ from: Int, _ to: Int) -> Int? {
        var i = from
        while i < to {
            if b[i] == byte { return i }
            i += 1
        }
        return nil
    }

    private static func find(colonSlashSlash b: UnsafeBufferPointer<UInt8>, _ from: Int, _ to: Int) -> Int? {
        var i = from
        while i + 3 <= to {
            if b[i] == 0x3A && b[i + 1] == 0x2F && b[i + 2] == 0x2F { return i }
            i += 1
        }
        return nil
    }

    private static func equalsLowercased(_ b: UnsafeBufferPointer<UInt8>, _ from: Int, _ to: Int, _ text: StaticString) -> Bool {
        guard to - from == text.utf8CodeUnitCount else { return false }
        let p = text.utf8Start
        for k in 0..<(to - from) {
            var c = b[from + k]
            if c >= 0x41 && c <= 0x5A { c += 32 }
            if c != p[k] { return false }
        }
        return true
    }

    private static func equals(_ b: UnsafeBufferPointer<UInt8>, _ from: Int, _ to: Int, _ text: StaticString) -> Bool {
        guard to - from == text.utf8CodeUnitCount else { return false }
        let p = text.utf8Start
        for k in 0..<(to - from) where b[from + k] != p[k] { return false }
        return true
    }

    /// The value of the first query parameter named exactly `v` (split on `&`, not percent-decoded).
    private static func firstV(_ b: UnsafeBufferPointer<UInt8>, _ from: Int, _ to: Int) -> (Int, Int)? {
        guard from < to || from == to else { return nil }
        var partStart = from
        while partStart <= to {
            let partEnd = firstIndex(of: 0x26, in: b, partStart, to) ?? to
            let eq = firstIndex(of: 0x3D, in: b, partStart, partEnd)
            let nameEnd = eq ?? partEnd
            if nameEnd - partStart == 1 && b[partStart] == 0x76 {
                return eq.map { ($0 + 1, partEnd) } ?? (partEnd, partEnd)
            }
            if partEnd >= to { break }
            partStart = partEnd + 1
        }
        return nil
    }
}
