import Foundation

/// Keeps secrets out of anything that may be stored, logged or printed.
public enum Redaction {
    /// Replaces every occurrence of each secret (and of each of its space-separated parts) with `***`.
    public static func redactSecrets(_ text: String, _ secrets: [String]) -> String {
        var out = text
        for s in secrets.flatMap({ [$0] + $0.split(separator: " ").map(String.init) }) where s.count >= 4 {
            out = out.replacingOccurrences(of: s, with: "***")
        }
        return out
    }

    /// Replaces credentials written into URLs (`scheme://user:password@host`) with `***`.
    public static func redactURLCredentials(_ text: String) -> String {
        guard text.contains("@") else { return text }
        var out = ""
        var rest = Substring(text)
        while let range = rest.range(of: "://") {
            out += rest[..<range.upperBound]
            rest = rest[range.upperBound...]
            let end = rest.firstIndex(where: { $0 == "/" || $0 == " " || $0 == "\n" || $0 == "\"" }) ?? rest.endIndex
            if let at = rest[..<end].lastIndex(of: "@") {
                out += "***@"
                rest = rest[rest.index(after: at)...]
            }
        }
        return out + rest
    }
}
