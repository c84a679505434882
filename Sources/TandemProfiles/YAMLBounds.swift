import CYaml
import Foundation
import TandemCore

/// The bounds every YAML document Tandem reads is held to before it is composed into nodes (docs/security.md,
/// "Bounded inputs"): at most `InputLimits.yamlBytes`, nesting at most `InputLimits.yamlDepth` deep, and no
/// anchors or aliases. Aliases are refused here, on libyaml's event stream, because composing them is what
/// an alias bomb attacks: Yams shares an anchored node at every alias (and hashes whole nodes to find duplicate
/// keys), and anything that walks the result walks each alias's copy again, so ten lines can stand for billions
/// of nodes.
enum YAMLBounds {
    /// Refuses a document that is too large, too deep, or uses an anchor or alias, at the first offending place.
    /// A syntax error is left to the composer, which reports it at the same place.
    static func check(_ text: String, file: String) throws(ProfileError) {
        let bytes = Array(text.utf8)
        if bytes.count > InputLimits.yamlBytes { throw tooLarge(bytes, file: file) }
        if let refusal = scanEvents(bytes, file: file) { throw refusal }
    }

    /// Reads a YAML file through `BoundedFile`, as UTF-8 text, with located refusals.
    static func read(path: String, displayName: String, fix: String) throws(ProfileError) -> String {
        let start = SourceLocation(file: displayName, line: 1, column: 1)
        switch BoundedFile.read(path, limit: InputLimits.yamlBytes) {
        case .success(let data):
            guard let text = String(data: data, encoding: .utf8) else {
                throw ProfileError(location: start, problem: "is not UTF-8 text", fix: "save it as UTF-8")
            }
            return text
        case .failure(.tooLarge(_, let prefix)):
            throw tooLarge(Array(prefix), file: displayName)
        case .failure(.notRegularFile):
            throw ProfileError(location: start, problem: "is not a regular file", fix: fix)
        case .failure(.missing):
            throw ProfileError(location: start, problem: "cannot be read (no such file)", fix: fix)
        case .failure(.unreadable(let reason)):
            throw ProfileError(location: start, problem: "cannot be read (\(reason))", fix: fix)
        }
    }

    /// The refusal of a document longer than the limit, located where the limit falls.
    static func tooLarge(_ bytes: [UInt8], file: String) -> ProfileError {
        let limit = InputLimits.yamlBytes
        var line = 1
        var lineStart = 0
        for (offset, byte) in bytes.prefix(limit).enumerated() where byte == 0x0A {
            line += 1
            lineStart = offset + 1
        }
        let column = String(decoding: bytes[lineStart..<min(limit, bytes.count)], as: UTF8.self).unicodeScalars.count + 1
        return ProfileError(
            location: SourceLocation(file: file, line: line, column: column),
            problem: "the file is larger than \(BoundedFile.describe(bytes: limit)), the limit for Tandem's YAML files",
            fix: "keep it under \(BoundedFile.describe(bytes: limit)) (a profile or a training configuration is a few KiB); "
                + "remove what does not belong in it")
    }

    /// Walks libyaml's events: the first anchor, alias or level of nesting too many, as a refusal.
    private static func scanEvents(_ bytes: [UInt8], file: String) -> ProfileError? {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else {
            return ProfileError(
                location: SourceLocation(file: file, line: 1, column: 1), problem: "the YAML parser could not start",
                fix: "retry; the machine may be out of memory", exitStatus: .infrastructure)
        }
        defer { yaml_parser_delete(&parser) }
        return bytes.withUnsafeBufferPointer { buffer -> ProfileError? in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
            var depth = 0
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else {
                    // libyaml's scanner reads ahead along a line, so its own nesting limit can trip before the events
                    // reach ours: when the collections open at the failure already nest too deep, say that.
                    let open =
                        Int(parser.flow_level)
                        + (parser.indents.top.map { top in parser.indents.start.map { top - $0 } ?? 0 } ?? 0)
                    guard open > InputLimits.yamlDepth else { return nil }
                    return depthRefusal(
                        SourceLocation(
                            file: file, line: Int(parser.problem_mark.line) + 1, column: Int(parser.problem_mark.column) + 1))
                }
                defer { yaml_event_delete(&event) }
                let here = SourceLocation(
                    file: file, line: Int(event.start_mark.line) + 1, column: Int(event.start_mark.column) + 1)
                switch event.type {
                case YAML_STREAM_END_EVENT:
                    return nil
                case YAML_ALIAS_EVENT:
                    return aliasRefusal(here, "alias *", event.data.alias.anchor)
                case YAML_SCALAR_EVENT:
                    if let anchor = event.data.scalar.anchor { return aliasRefusal(here, "anchor &", anchor) }
                case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                    let anchor =
                        event.type == YAML_SEQUENCE_START_EVENT
                        ? event.data.sequence_start.anchor : event.data.mapping_start.anchor
                    if let anchor { return aliasRefusal(here, "anchor &", anchor) }
                    depth += 1
                    if depth > InputLimits.yamlDepth { return depthRefusal(here) }
                case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                    depth -= 1
                default:
                    break
                }
            }
        }
    }

    private static func depthRefusal(_ location: SourceLocation) -> ProfileError {
        ProfileError(
            location: location, problem: "mappings and lists nest more than \(InputLimits.yamlDepth) levels deep here",
            fix: "flatten the document (Tandem's files nest a few levels)")
    }

    private static func aliasRefusal(_ location: SourceLocation, _ what: String, _ name: UnsafeMutablePointer<UInt8>?)
        -> ProfileError
    {
        let shown = name.map { String(cString: $0) }.map { $0.count > 40 ? String($0.prefix(40)) + "…" : $0 } ?? ""
        return ProfileError(
            location: location,
            problem: "\(what)\(shown): YAML anchors and aliases are not supported in Tandem's YAML files",
            fix: "write the value out in full (profiles share keys with `extends:`)")
    }
}
