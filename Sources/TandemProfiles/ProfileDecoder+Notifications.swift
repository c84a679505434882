import TandemCore

/// `reporter:` and `notifiers:`: where promotion events are reported and sent.
extension ProfileDecoder {
    static func decodeReporter(_ node: YAMLTree?, locations: inout [String: SourceLocation]) throws(ProfileError)
        -> ReporterSettings
    {
        guard let node else {
            return ReporterSettings(kind: .none)
        }
        let reader = try MappingReader(
            node, path: "reporter",
            allowed: [
                "kind", "api", "repository", "project", "context", "target_url", "url", "url_env", "token_env", "secret_env",
            ],
            required: ["kind"])
        locations.merge(reader.locations) { $1 }
        let kind = try reader.choice("kind", ReporterKind.self) ?? .none
        let settings = ReporterSettings(
            kind: kind, api: try reader.string("api"), repository: try reader.string("repository"),
            project: try reader.string("project"), context: try reader.string("context"),
            targetURL: try reader.string("target_url"), url: try reader.string("url"),
            urlEnv: try reader.variableName("url_env"), tokenEnv: try reader.variableName("token_env"),
            secretEnv: try reader.variableName("secret_env"))
        func need(_ key: String, _ present: Bool, _ example: String) throws(ProfileError) {
            if !present {
                throw ProfileError(
                    location: reader.location, problem: "a \(kind.rawValue) reporter needs '\(key)'",
                    fix: "add `\(key): \(example)`")
            }
        }
        switch kind {
        case .github:
            try need("repository", settings.repository != nil, "OWNER/REPO")
            try need("token_env", settings.tokenEnv != nil, "GITHUB_TOKEN")
        case .gitlab:
            try need("project", settings.project != nil, "group/project")
            try need("api", settings.api != nil, "https://gitlab.example.com/api/v4")
            try need("token_env", settings.tokenEnv != nil, "GITLAB_TOKEN")
        case .generic:
            try need("url or url_env", settings.url != nil || settings.urlEnv != nil, "https://ci.example/hooks/tandem")
            try need("secret_env", settings.secretEnv != nil, "TANDEM_WEBHOOK_SECRET")
        case .none:
            break
        }
        try checkURL(settings.api, key: "api", reader: reader)
        try checkURL(settings.url, key: "url", reader: reader)
        return settings
    }

    static func decodeNotifier(_ node: YAMLTree, path: String, locations: inout [String: SourceLocation]) throws(ProfileError)
        -> NotifierSettings
    {
        let reader = try MappingReader(
            node, path: path, allowed: ["name", "kind", "url", "url_env", "secret_env", "events"],
            required: ["name", "kind", "events"])
        locations.merge(reader.locations) { $1 }
        let kind = try reader.choice("kind", NotifierKind.self) ?? .generic
        if kind == .slack, reader.node("url") != nil {
            throw ProfileError(
                location: reader.node("url")?.location ?? reader.location,
                problem: "secret written inline in '\(path).url': a Slack incoming-webhook URL carries its token",
                fix: "put the URL in an environment variable and name it with `url_env: SLACK_WEBHOOK_URL`")
        }
        let events = try reader.stringList("events")
        for (index, event) in events.enumerated() where !promotionEvents.contains(event) && event != "*" {
            let hint = didYouMean(event, among: promotionEvents).map { " (did you mean '\($0)'?)" } ?? ""
            throw ProfileError(
                location: (try? reader.list("events"))?[index].location ?? reader.location,
                problem: "unknown event '\(event)'\(hint)",
                fix: "subscribe to '*' or to: " + promotionEvents.joined(separator: ", "))
        }
        let settings = NotifierSettings(
            name: try reader.requiredString("name"), kind: kind, url: try reader.string("url"),
            urlEnv: try reader.variableName("url_env"), secretEnv: try reader.variableName("secret_env"), events: events)
        if settings.url == nil && settings.urlEnv == nil {
            throw ProfileError(
                location: reader.location, problem: "notifier '\(settings.name)' has no endpoint",
                fix: "add `url_env: VARIABLE` naming the variable that holds its URL")
        }
        if kind == .generic && settings.secretEnv == nil {
            throw ProfileError(
                location: reader.location, problem: "generic notifier '\(settings.name)' has no signing secret",
                fix: "add `secret_env: VARIABLE` naming the variable that holds its whsec_… secret")
        }
        try checkURL(settings.url, key: "url", reader: reader)
        return settings
    }

    static func checkURL(_ text: String?, key: String, reader: MappingReader) throws(ProfileError) {
        guard let text else { return }
        let lower = text.lowercased()
        guard lower.hasPrefix("http://") || lower.hasPrefix("https://") else {
            throw ProfileError(
                location: reader.node(key)?.location ?? reader.location,
                problem: "'\(reader.path).\(key)' is not an http(s) URL", fix: "write https://HOST/…")
        }
        let authority = text.split(separator: "/", omittingEmptySubsequences: true).dropFirst().first ?? ""
        if authority.contains("@") {
            throw ProfileError(
                location: reader.node(key)?.location ?? reader.location,
                problem: "secret written inline: '\(reader.path).\(key)' carries credentials",
                fix: "remove them and name the variable holding the secret with a key ending in _env")
        }
    }
}
