import TandemCore
import TandemFeatures

/// Says in words what is wrong with a quarantined line, naming the field and the problem:
/// `label: 1e999 is not a JSON integer (it has a fraction or an exponent)`, `label: "3" is a string, not an
/// integer`, `judged_at: "2026-02-30T00:00:00Z" is not a valid date (February 2026 has 28 days)`.
///
/// The reason code (docs/data-contract.md) is decided by `RawRecordParser`; this only explains it, and runs on
/// rejected lines only. Each field's value is quoted as written in the line (cut at 60 characters).
enum QuarantineDetail {
    static let judgmentKeys = ["query", "video_url", "label", "judged_at"]
    static let videoKeys = ["url", "title", "description", "channel", "duration_s", "views", "published", "observed_at"]

    /// The detail of one rejected line of `kind` ("videos" or "judgments").
    static func explain(_ line: UnsafeBufferPointer<UInt8>, kind: String, reason: QuarantineReason) -> String {
        let keys = kind == "videos" ? videoKeys : judgmentKeys
        var parser = StrictJSONObjectParser(keys: keys)
        parser.recordsSpans = true
        guard let fields = parser.parse(line) else { return badJSON(line, failure: parser.failure) }
        func text(_ k: Int) -> String { quote(line, parser.spans[k]) }
        var problems: [String] = []
        switch reason {
        case .badJSON:
            return "not one JSON object"
        case .missingField:
            for (k, key) in keys.enumerated() {
                let problem: String?
                switch key {
                case "duration_s", "views":
                    problem = integerProblem(fields[k], text: text(k), nonNegative: true)
                case "label":
                    problem = integerProblem(fields[k], text: text(k), nonNegative: false)
                case "observed_at" where fields[k] == nil || fields[k] == .null:
                    problem = nil
                case "judged_at", "published", "observed_at":
                    if case .string(let value)? = fields[k] {
                        problem = DataTimestamp.problem(value).map { "\(text(k)) \($0)" }
                    } else {
                        problem = stringProblem(fields[k], text: text(k))
                    }
                case "query":
                    if case .string(let value)? = fields[k] {
                        problem = TextNormalization.normalizeQuery(value).isEmpty ? "\(text(k)) is empty once normalised" : nil
                    } else {
                        problem = stringProblem(fields[k], text: text(k))
                    }
                default:
                    problem = stringProblem(fields[k], text: text(k))
                }
                if let problem { problems.append("\(key): \(problem)") }
            }
        case .labelOutOfRange:
            problems.append("label: \(text(2)) is outside 0–3")
        case .badURL:
            problems.append("url: \(text(0)) is not a video URL of vid.example (see URL canonicalisation)")
        case .unknownVideo:
            if case .string(let url)? = fields[1], let id = VideoURL.id(of: url) {
                problems.append("video_url: \(text(1)) is video \(id), which no valid line of videos.jsonl holds")
            } else {
                problems.append("video_url: \(text(1)) is not a video URL of vid.example (see URL canonicalisation)")
            }
        }
        return problems.isEmpty ? reason.rawValue : problems.joined(separator: "; ")
    }

    /// What makes a line not one strict JSON object.
    static func badJSON(_ line: UnsafeBufferPointer<UInt8>, failure: (offset: Int, afterObject: Bool)) -> String {
        if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { return "the line is blank" }
        let at = failure.offset
        if failure.afterObject { return "text after the JSON object, at byte \(at + 1)" }
        let first = line.first { !($0 == 0x20 || $0 == 0x09 || $0 == 0x0D) } ?? 0
        if first != UInt8(ascii: "{") { return "the line is not a JSON object (it starts with \(character(line, from: at)))" }
        guard at < line.count else { return "the line ends inside the JSON object" }
        let rest = UnsafeBufferPointer(rebasing: line[at...])
        let what: String
        if rest.starts(with: "NaN".utf8) || rest.starts(with: "Infinity".utf8) || rest.starts(with: "-Infinity".utf8) {
            what = "NaN and Infinity are not JSON numbers"
        } else if rest.first == UInt8(ascii: "'") {
            what = "single quotes are not JSON (strings take double quotes)"
        } else if rest.first == UInt8(ascii: "}") || rest.first == UInt8(ascii: "]"),
            line[..<at].last(where: { !($0 == 0x20 || $0 == 0x09 || $0 == 0x0D || $0 == 0x0A) }) == UInt8(ascii: ",")
        {
            what = "a trailing comma before \(character(line, from: at))"
        } else {
            what = "unexpected \(character(line, from: at))"
        }
        return "not strict JSON at byte \(at + 1): \(what)"
    }

    /// The value of a field that must be a string: nil when it is one, else what it is.
    static func stringProblem(_ field: JSONField?, text: String) -> String? {
        guard let value = field else { return "missing" }
        if case .string = value { return nil }
        if case .null = value { return "null is not a string" }
        return "\(text) is \(kind(value)), not a string"
    }

    /// The value of a field that must be a JSON integer (and not negative): nil when it is one.
    static func integerProblem(_ field: JSONField?, text: String, nonNegative: Bool) -> String? {
        guard let value = field else { return "missing" }
        switch value {
        case .null: return "null is not an integer"
        case .integer(let n): return nonNegative && n < 0 ? "\(text) is negative" : nil
        case .hugeInteger(let negative):
            if nonNegative { return negative ? "\(text) is negative" : "\(text) does not fit in 64 bits" }
            return nil
        case .fractional: return "\(text) is not a JSON integer (it has a fraction or an exponent)"
        default: return "\(text) is \(kind(value)), not an integer"
        }
    }

    static func kind(_ value: JSONField) -> String {
        switch value {
        case .string: "a string"
        case .integer, .hugeInteger, .fractional: "a number"
        case .bool: "a boolean"
        case .null: "null"
        case .object: "an object"
        case .array: "a list"
        }
    }

    /// A value as written in the line, cut at 60 characters.
    static func quote(_ line: UnsafeBufferPointer<UInt8>, _ span: Range<Int>?) -> String {
        guard let span else { return "" }
        let text = String(decoding: UnsafeBufferPointer(rebasing: line[span]), as: UTF8.self)
        return text.count > 60 ? String(text.prefix(60)) + "…" : text
    }

    /// The character at a byte offset, for a message: `` `}` ``, or "a byte that is not UTF-8".
    static func character(_ line: UnsafeBufferPointer<UInt8>, from offset: Int) -> String {
        guard offset < line.count else { return "the end of the line" }
        var bytes = UnsafeBufferPointer(rebasing: line[offset..<min(line.count, offset + 4)]).makeIterator()
        var decoder = UTF8()
        guard case .scalarValue(let scalar) = decoder.decode(&bytes) else { return "a byte that is not UTF-8" }
        if scalar.value < 0x20 || scalar.value == 0x7F {
            return "control character U+\(String(scalar.value, radix: 16, uppercase: true))"
        }
        return "`\(Character(scalar))`"
    }
}
