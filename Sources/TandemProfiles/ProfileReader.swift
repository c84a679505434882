import TandemCore

/// Reads typed values out of a `YAMLTree` and refuses, with the exact place, anything the profile
/// format does not allow: unknown keys (with a did-you-mean), wrong types, missing keys, inline secrets.
struct MappingReader {
    let entries: [YAMLTree.Entry]
    let location: SourceLocation
    /// Dotted path of this mapping in the profile (`roots`, `notifiers[0]`); empty at the top.
    let path: String
    var locations: [String: SourceLocation] = [:]

    /// Keys whose value is a secret, refused when written inline.
    static let secretKeys: [String: String] = [
        "token": "token_env", "secret": "secret_env", "password": "password_env", "private_token": "token_env",
        "api_key": "api_key_env", "webhook_url": "url_env", "access_token": "token_env",
    ]

    init(_ node: YAMLTree, path: String, allowed: [String], required: [String] = []) throws(ProfileError) {
        guard case .mapping(let entries, let location) = node else {
            throw ProfileError(
                location: node.location, problem: "\(Self.name(path)) must be a mapping, not \(node.kindName)",
                fix: "write `key: value` lines under it")
        }
        self.entries = entries
        self.location = location
        self.path = path
        for entry in entries where !allowed.contains(entry.key) {
            if let variableKey = Self.secretKeys[entry.key] {
                throw ProfileError(
                    location: entry.keyLocation,
                    problem: "secret written inline in '\(Self.join(path, entry.key))'",
                    fix: "remove it, put the secret in an environment variable and name that variable with "
                        + "`\(variableKey): VARIABLE_NAME`")
            }
            let hint = didYouMean(entry.key, among: allowed).map { " (did you mean '\($0)'?)" } ?? ""
            throw ProfileError(
                location: entry.keyLocation,
                problem: "unknown key '\(entry.key)' in \(Self.name(path))\(hint)",
                fix: "known keys here: " + allowed.joined(separator: ", "))
        }
        for key in required where !entries.contains(where: { $0.key == key }) {
            throw ProfileError(
                location: location, problem: "missing required key '\(Self.join(path, key))'",
                fix: "add `\(key):` to \(Self.name(path)) (see environments/README.md)")
        }
        for entry in entries { locations[Self.join(path, entry.key)] = entry.keyLocation }
    }

    static func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }
    static func name(_ path: String) -> String { path.isEmpty ? "the profile" : "'\(path)'" }

    func node(_ key: String) -> YAMLTree? {
        guard let entry = entries.first(where: { $0.key == key }) else { return nil }
        if case .scalar(let text, false, _) = entry.value, text.isEmpty || text == "~" || text == "null" {
            return nil
        }
        return entry.value
    }

    func string(_ key: String) throws(ProfileError) -> String? {
        guard let node = node(key) else { return nil }
        guard case .scalar(let text, _, _) = node else {
            throw typeError(key, node, expected: "a string")
        }
        return text
    }

    func requiredString(_ key: String) throws(ProfileError) -> String {
        guard let value = try string(key) else { throw missing(key) }
        guard !value.isEmpty else {
            throw ProfileError(
                location: node(key)?.location ?? location, problem: "'\(Self.join(path, key))' is empty",
                fix: "write a value")
        }
        return value
    }

    func int(_ key: String, range: ClosedRange<Int>) throws(ProfileError) -> Int? {
        guard let node = node(key) else { return nil }
        guard case .scalar(let text, false, _) = node, let value = Int(text), range.contains(value) else {
            throw valueError(key, node, expected: Self.wholeNumber(range))
        }
        return value
    }

    func double(_ key: String, range: ClosedRange<Double>) throws(ProfileError) -> Double? {
        guard let node = node(key) else { return nil }
        guard case .scalar(let text, false, _) = node, let value = Double(text), value.isFinite, range.contains(value) else {
            throw valueError(
                key, node, expected: "a number from \(Self.number(range.lowerBound)) to \(Self.number(range.upperBound))")
        }
        return value
    }

    func bool(_ key: String) throws(ProfileError) -> Bool? {
        guard let node = node(key) else { return nil }
        guard case .scalar(let text, false, _) = node, ["true", "false"].contains(text.lowercased()) else {
            throw valueError(key, node, expected: "true or false")
        }
        return text.lowercased() == "true"
    }

    /// `a whole number from 0 to 100`, or `of 0 or more` when the range has no practical top.
    static func wholeNumber(_ range: ClosedRange<Int>) -> String {
        range.upperBound == Int.max
            ? "a whole number of \(range.lowerBound) or more" : "a whole number from \(range.lowerBound) to \(range.upperBound)"
    }

    /// A bound as a person writes it: `1`, `0.9999`, `1e-07`.
    static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }

    /// What a value is, as an error message quotes it: `1.5`, `"3" (a quoted string)`, `a list`.
    static func quote(_ node: YAMLTree) -> String {
        guard case .scalar(let text, let quoted, _) = node else { return node.kindName }
        let shown = text.count > 40 ? String(text.prefix(40)) + "…" : text
        return quoted ? "\"\(shown)\" (a quoted string)" : shown
    }

    /// `approvals.required must be a whole number from 0 to 100, not 1.5`, at the value.
    func valueError(_ key: String, _ node: YAMLTree, expected: String) -> ProfileError {
        ProfileError(
            location: node.location, problem: "\(Self.join(path, key)) must be \(expected), not \(Self.quote(node))",
            fix: "write \(expected) here")
    }

    func choice<T: RawRepresentable & CaseIterable>(_ key: String, _: T.Type) throws(ProfileError) -> T?
    where T.RawValue == String {
        guard let text = try string(key) else { return nil }
        guard let value = T(rawValue: text) else {
            let all = T.allCases.map(\.rawValue)
            let hint = didYouMean(text, among: all).map { " (did you mean '\($0)'?)" } ?? ""
            throw ProfileError(
                location: node(key)?.location ?? location,
                problem: "'\(Self.join(path, key))' is '\(text)'\(hint)", fix: "write one of: " + all.joined(separator: ", "))
        }
        return value
    }

    func list(_ key: String) throws(ProfileError) -> [YAMLTree] {
        guard let node = node(key) else { return [] }
        guard case .sequence(let items, _) = node else {
            throw typeError(key, node, expected: "a list")
        }
        return items
    }

    func stringList(_ key: String) throws(ProfileError) -> [String] {
        var out: [String] = []
        for item in try list(key) {
            guard case .scalar(let text, _, _) = item, !text.isEmpty else {
                throw ProfileError(
                    location: item.location, problem: "items of '\(Self.join(path, key))' must be strings, not \(item.kindName)",
                    fix: "write `- name` lines or `[a, b]`")
            }
            out.append(text)
        }
        return out
    }

    /// A key ending in `_env`: the name of an environment variable holding a secret.
    func variableName(_ key: String) throws(ProfileError) -> String? {
        guard let name = try string(key) else { return nil }
        let valid =
            !name.isEmpty
            && name.utf8.enumerated().allSatisfy { index, byte in
                (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122) || byte == 95 || (index > 0 && byte >= 48 && byte <= 57)
            }
        guard valid else {
            throw ProfileError(
                location: node(key)?.location ?? location,
                problem: "'\(Self.join(path, key))' must name an environment variable, not hold a value",
                fix: "write the variable's name (letters, digits and _, such as GITHUB_TOKEN) and put the secret in it")
        }
        return name
    }

    func rootURL(_ key: String) throws(ProfileError) -> RootURL {
        let text = try requiredString(key)
        do {
            return try RootURL.parse(text)
        } catch {
            throw ProfileError(
                location: node(key)?.location ?? location, problem: "bad URL for '\(Self.join(path, key))': \(error.description)",
                fix: "see environments/README.md for the root URL forms")
        }
    }

    func missing(_ key: String) -> ProfileError {
        ProfileError(
            location: location, problem: "missing required key '\(Self.join(path, key))'",
            fix: "add `\(key):` to \(Self.name(path)) (see environments/README.md)")
    }

    func typeError(_ key: String, _ node: YAMLTree, expected: String) -> ProfileError {
        ProfileError(
            location: node.location, problem: "'\(Self.join(path, key))' must be \(expected), not \(node.kindName)",
            fix: "write \(expected) here")
    }
}
