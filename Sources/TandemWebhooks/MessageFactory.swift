import Foundation
public import TandemProfiles

/// Turns an event into the outbox messages an environment's profile asks for: one CI status from the
/// reporter, and one message per notifier subscribed to the event.
public enum MessageFactory {
    public static func messages(for event: WebhookEvent, profile: Profile, now: String) -> [OutboxMessage] {
        var out: [OutboxMessage] = []
        if let status = reporterMessage(event, profile.reporter, environment: profile.name, now: now) { out.append(status) }
        for n in profile.notifiers where n.events.contains("*") || n.events.contains(event.type) || event.type == "tandem.test" {
            out.append(notifierMessage(event, n, now: now))
        }
        return out
    }

    static func json(_ object: [String: Any]) -> String {
        (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
            .map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    static func generic(_ event: WebhookEvent) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(event)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    /// A description cut to GitHub's 140 characters.
    static func description(_ event: WebhookEvent) -> String {
        let text =
            "\(event.type.replacingOccurrences(of: "promotion.", with: "")): \(event.subject)"
            + (event.summary.isEmpty ? "" : " — \(event.summary)")
        return text.count <= 140 ? text : String(text.prefix(139)) + "…"
    }

    static func reporterMessage(_ event: WebhookEvent, _ r: ReporterSettings, environment: String, now: String) -> OutboxMessage?
    {
        let stream = "\(event.promotionID):reporter"
        let context = r.context ?? "tandem/promotion/\(environment)"
        switch r.kind {
        case .none:
            return nil
        case .github:
            let api = (r.api ?? "https://api.github.com").trimmingCharacters(in: CharacterSet(charactersIn: "/"))
            var body: [String: Any] = ["state": event.ciState.github, "description": description(event), "context": context]
            if let link = r.targetURL ?? event.link { body["target_url"] = link }
            return OutboxMessage(
                stream: stream, destination: "github", kind: "github", eventType: event.type,
                url: "\(api)/repos/\(r.repository ?? "")/statuses/\(event.commit)", urlEnv: nil, tokenEnv: r.tokenEnv,
                authStyle: "bearer",
                headers: [
                    "Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28",
                    "Content-Type": "application/json",
                ],
                body: json(body), createdAt: now)
        case .gitlab:
            let api = (r.api ?? "").trimmingCharacters(in: CharacterSet(charactersIn: "/"))
            let project = (r.project ?? "").addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
            var body: [String: Any] = ["state": event.ciState.gitlab, "name": context, "description": description(event)]
            if let link = r.targetURL ?? event.link { body["target_url"] = link }
            return OutboxMessage(
                stream: stream, destination: "gitlab", kind: "gitlab", eventType: event.type,
                url: "\(api)/projects/\(project)/statuses/\(event.commit)", urlEnv: nil, tokenEnv: r.tokenEnv,
                authStyle: "private-token",
                headers: ["Content-Type": "application/json"], body: json(body), createdAt: now)
        case .generic:
            return OutboxMessage(
                stream: stream, destination: "reporter", kind: "generic", eventType: event.type, url: r.url, urlEnv: r.urlEnv,
                secretEnv: r.secretEnv, headers: ["Content-Type": "application/json"], body: generic(event), createdAt: now)
        }
    }

    static func notifierMessage(_ event: WebhookEvent, _ n: NotifierSettings, now: String) -> OutboxMessage {
        let stream = "\(event.promotionID):\(n.name)"
        switch n.kind {
        case .generic:
            return OutboxMessage(
                stream: stream, destination: n.name, kind: "generic", eventType: event.type, url: n.url, urlEnv: n.urlEnv,
                secretEnv: n.secretEnv, headers: ["Content-Type": "application/json"], body: generic(event), createdAt: now)
        case .slack:
            let title = "*\(event.type)* — \(event.subject)"
            var fields: [[String: Any]] = [
                ["type": "mrkdwn", "text": "*Model*\n\(event.subject)"],
                ["type": "mrkdwn", "text": "*State*\n\(event.state)"],
                ["type": "mrkdwn", "text": "*Branch*\n\(event.branch) (`\(event.commit.prefix(12))`)"],
                ["type": "mrkdwn", "text": "*Promotion*\n\(event.promotionID)"],
            ]
            if let digest = event.reportDigest {
                fields.append(["type": "mrkdwn", "text": "*Report*\nsha256:\(digest.prefix(12))…"])
            }
            var blocks: [[String: Any]] = [
                ["type": "section", "text": ["type": "mrkdwn", "text": title]],
                ["type": "section", "fields": fields],
            ]
            if !event.summary.isEmpty { blocks.append(["type": "section", "text": ["type": "mrkdwn", "text": event.summary]]) }
            if let link = event.link {
                blocks.append(["type": "context", "elements": [["type": "mrkdwn", "text": "<\(link)|Details>"]]])
            }
            let text = "\(event.type): \(event.subject)" + (event.summary.isEmpty ? "" : " — \(event.summary)")
            return OutboxMessage(
                stream: stream, destination: n.name, kind: "slack", eventType: event.type, url: n.url, urlEnv: n.urlEnv,
                headers: ["Content-Type": "application/json"], body: json(["text": text, "blocks": blocks]), createdAt: now)
        }
    }
}
