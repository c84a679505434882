/// Canonical video URLs (DATA.md, "URL canonicalization"): every variant of a video's URL maps to
/// `https://www.vid.example/watch?v=ID`, or to nothing when it is not a video URL.
public enum VideoURL {
    /// The canonical form's prefix; the 11-character id follows.
    public static let canonicalPrefix = "https://www.vid.example/watch?v="

    /// The canonical URL of `raw`, or nil when it does not canonicalise.
    public static func canonicalize(_ raw: String) -> String? {
        id(of: raw).map { canonicalPrefix + $0 }
    }

    /// The video id of `raw`, or nil when it does not canonicalise.
    public static func id(of raw: String) -> String? {
        var bytes = Array(raw.utf8)
        // 1. Trim ASCII white space.
        let isSpace: (UInt8) -> Bool = { $0 == 0x20 || ($0 >= 0x09 && $0 <= 0x0D) }
        while let last = bytes.last, isSpace(last) { bytes.removeLast() }
        var start = 0
        while start < bytes.count, isSpace(bytes[start]) { start += 1 }
        bytes.removeFirst(start)
        // 2. Drop the fragment, split off the query.
        if let hash = bytes.firstIndex(of: UInt8(ascii: "#")) { bytes.removeSubrange(hash...) }
        var query: ArraySlice<UInt8> = []
        if let mark = bytes.firstIndex(of: UInt8(ascii: "?")) {
            query = bytes[(mark + 1)...]
            bytes = Array(bytes[..<mark])
        }
        // 3. Scheme.
        guard let sep = find(Array("://".utf8), in: bytes) else { return nil }
        let scheme = lowerASCII(bytes[..<sep])
        guard scheme == Array("http".utf8) || scheme == Array("https".utf8) else { return nil }
        let afterScheme = bytes[(sep + 3)...]
        // 4. Host: exactly one of the three, no port, no userinfo.
        let slash = afterScheme.firstIndex(of: UInt8(ascii: "/")) ?? afterScheme.endIndex
        let host = lowerASCII(afterScheme[..<slash])
        guard
            host == Array("vid.example".utf8) || host == Array("www.vid.example".utf8)
                || host == Array("m.vid.example".utf8)
        else { return nil }
        // 5. Trailing slashes.
        var path = Array(afterScheme[slash...])
        while path.last == UInt8(ascii: "/") { path.removeLast() }
        // 6./7. The id.
        let id: ArraySlice<UInt8>
        if path == Array("/watch".utf8) {
            guard let value = firstParameter(named: UInt8(ascii: "v"), in: query) else { return nil }
            id = value
        } else if path.first == UInt8(ascii: "/"), path.count > 1, !path.dropFirst().contains(UInt8(ascii: "/")) {
            id = path[1...]
        } else {
            return nil
        }
        // 8. The id's form.
        guard id.count == 11, id.allSatisfy(isIDByte) else { return nil }
        return String(decoding: id, as: UTF8.self)
    }

    @inline(__always)
    static func isIDByte(_ b: UInt8) -> Bool {
        (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) || b == 0x5F || b == 0x2D
    }

    private static func firstParameter(named name: UInt8, in query: ArraySlice<UInt8>) -> ArraySlice<UInt8>? {
        for part in query.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: false) {
            if let eq = part.firstIndex(of: UInt8(ascii: "=")) {
                if part[part.startIndex..<eq].elementsEqual([name]) { return part[(eq + 1)...] }
            } else if part.elementsEqual([name]) {
                return []
            }
        }
        return nil
    }

    private static func lowerASCII(_ s: ArraySlice<UInt8>) -> [UInt8] {
        s.map { ($0 >= 0x41 && $0 <= 0x5A) ? $0 + 32 : $0 }
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for i in 0...(haystack.count - needle.count) where haystack[i..<(i + needle.count)].elementsEqual(needle) {
            return i
        }
        return nil
    }
}
