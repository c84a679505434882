public import Foundation
import TandemCore
public import TandemHTTP

/// Delivers due outbox messages: in order within each stream, retrying with exponential back-off and
/// jitter (or the server's `Retry-After`), and moving to the dead letters what a receiver refuses for good
/// (4xx other than 408 and 429) or what has failed too long. Secrets are read from the environment at
/// delivery time and never stored, logged or returned.
public final class Deliverer: @unchecked Sendable {
    public let outbox: any DeliveryQueue
    public let transport: any HTTPTransport
    public let policy: RetryPolicy
    let environment: [String: String]
    /// Seconds one attempt may take in all (at most half the lease, so a claim never expires during an attempt).
    public var requestTimeout: Double = 10
    /// Seconds a claim on a message holds (`Outbox.lease`, `TANDEM_OUTBOX_LEASE_SECONDS`, 60 by default).
    public let lease: Double
    /// Messages claimed together (one commit for their claims, one for their outcomes); each is the head of its
    /// stream, so a batch never holds two messages of one stream.
    public var batchSize = 32
    /// Seconds a batch may take before its untried messages go back to the queue.
    public var batchSeconds = 0.5
    /// How long a message has taken to send and record, on average (nil before the first).
    private var secondsPerMessage: Double?
    /// This flusher's name in the claims it takes.
    let claimant = Outbox.claimant()
    private var random = SystemRandomNumberGenerator()

    /// Values of every secret variable the environment's profile names: redacted from anything stored,
    /// whichever message a receiver echoes them in.
    let knownSecrets: [String]

    public init(
        outbox: any DeliveryQueue, transport: any HTTPTransport, policy: RetryPolicy = .fromEnvironment(),
        environment: [String: String] = ProcessInfo.processInfo.environment, secretVariables: [String] = []
    ) {
        self.outbox = outbox
        self.transport = transport
        self.policy = policy
        self.environment = environment
        self.lease = Outbox.lease(environment)
        self.knownSecrets = secretVariables.compactMap { environment[$0] }.filter { !$0.isEmpty }
    }

    /// What one flush did.
    public struct Summary: Sendable, Codable {
        public var delivered = 0
        public var retried = 0
        public var dead = 0
        public var pending = 0

        public init() {}
    }

    /// Delivers what is due until nothing is due or `deadline` seconds have passed; waits for retries that
    /// fall due before the deadline, and for messages other flushers are sending (their outcome may make the next
    /// message of a stream due).
    ///
    /// Each message is claimed before it is sent (`Outbox.claim`), so flushers running at the same time send every
    /// message once; one killed while sending leaves its claim to expire after `lease` seconds, and the message is
    /// then sent again (with the same `webhook-id`, which receivers use to drop the duplicate).
    public func flush(deadline seconds: Double) async throws -> Summary {
        let end = Date().timeIntervalSince1970 + seconds
        var summary = Summary()
        // Streams whose message waits for a variable that is not set: this process cannot send them.
        var blocked = Set<String>()
        flushing: while true {
            let now = Date().timeIntervalSince1970
            // As many as this flusher sends in `batchSeconds` at the pace it has seen (one to begin with): a slow
            // receiver's messages are then spread over every flusher instead of waiting behind one.
            let limit = secondsPerMessage.map { max(1, min(batchSize, Int(batchSeconds / max($0, 0.0001)))) } ?? 1
            let batch = try outbox.claimBatch(owner: claimant, lease: lease, now: now, limit: limit) {
                !blocked.contains($0.message.stream) && self.isConfigured($0.message)
            }
            if batch.claimed.isEmpty {
                guard var wake = batch.next else { break flushing }
                // Another flusher is sending: look again soon rather than at the end of its lease.
                if batch.inFlight { wake = min(wake, now + 0.05) }
                guard wake < end else { break flushing }
                try await Task.sleep(nanoseconds: UInt64(max(0.005, min(wake, end) - now) * 1e9))
                continue
            }
            // The batch's messages are sent one after another and their outcomes recorded together (one commit).
            // What is not attempted within `batchSeconds` of the claim goes back untried: other flushers take it
            // (a slow receiver is then served by all of them at once), and no claim expires while being sent.
            var outcomes: [Outbox.Outcome] = []
            var attempted = 0
            for entry in batch.claimed {
                let stop = Date().timeIntervalSince1970 >= min(now + min(batchSeconds, lease / 4), end)
                if stop || blocked.contains(entry.message.stream) {
                    outcomes.append(.release(id: entry.message.id, owner: claimant))
                    continue
                }
                let (outcome, label) = try await attempt(entry)
                attempted += 1
                outcomes.append(outcome)
                switch label {
                case "delivered": summary.delivered += 1
                case "dead": summary.dead += 1
                case "unconfigured":
                    summary.retried += 1
                    blocked.insert(entry.message.stream)
                default: summary.retried += 1
                }
            }
            try outbox.record(outcomes)
            if attempted > 0 {
                let pace = (Date().timeIntervalSince1970 - now) / Double(attempted)
                secondsPerMessage = secondsPerMessage.map { 0.5 * $0 + 0.5 * pace } ?? pace
            }
            if Date().timeIntervalSince1970 >= end { break }
        }
        summary.pending = try outbox.counts()["pending"] ?? 0
        return summary
    }

    /// Whether this process has every variable a message needs (one that lacks one cannot be sent from here,
    /// so a flush does not wait for its retry).
    func isConfigured(_ m: OutboxMessage) -> Bool {
        [m.urlEnv, m.tokenEnv, m.secretEnv].allSatisfy { name in name.map { !(environment[$0] ?? "").isEmpty } ?? true }
    }

    /// One delivery attempt; returns its outcome, to record, and what it was (`delivered`, `pending`, `dead`,
    /// `unconfigured`).
    func attempt(_ entry: Outbox.Entry) async throws -> (Outbox.Outcome, String) {
        let m = entry.message
        let attempts = entry.delivery.attempts + 1
        var secrets: [String] = knownSecrets
        func fail(_ error: String, status: Int?, response: String?, retryAfter: Double?, permanent: Bool) -> (
            Outbox.Outcome, String
        ) {
            let age = Date().timeIntervalSince1970 - entry.createdEpoch
            let dead = permanent || attempts >= policy.maxAttempts || age >= policy.maxAge
            let next =
                Date().timeIntervalSince1970
                + policy.delay(afterAttempts: attempts, retryAfter: retryAfter, random: Double.random(in: 0...1, using: &random))
            let outcome = Outbox.Outcome(
                id: m.id, owner: claimant, state: dead ? "dead" : "pending", attempts: attempts, nextAttemptAt: next,
                status: status,
                error: redact(error, secrets), response: response.map { redact(String($0.prefix(2048)), secrets) })
            return (outcome, outcome.state)
        }
        func unconfigured(_ error: String) -> (Outbox.Outcome, String) {
            let (outcome, state) = fail(error, status: nil, response: nil, retryAfter: nil, permanent: false)
            return (outcome, state == "dead" ? "dead" : "unconfigured")
        }
        func secret(_ name: String?) -> String? {
            guard let name, let value = environment[name], !value.isEmpty else { return nil }
            secrets.append(value)
            return value
        }
        guard let url = m.url ?? secret(m.urlEnv) else {
            return fail(
                "$\(m.urlEnv ?? "?") is not set; set it to the endpoint's URL", status: nil, response: nil, retryAfter: nil,
                permanent: false)
        }
        if m.urlEnv != nil { secrets.append(url) }
        let token = secret(m.tokenEnv)
        if let tokenEnv = m.tokenEnv, token == nil {
            return fail(
                "$\(tokenEnv) is not set; set it to the API token", status: nil, response: nil, retryAfter: nil,
                permanent: false)
        }
        let signingSecret = secret(m.secretEnv)
        if let secretEnv = m.secretEnv, signingSecret == nil {
            return fail(
                "$\(secretEnv) is not set; set it to the whsec_… signing secret", status: nil, response: nil, retryAfter: nil,
                permanent: false)
        }
        // A value with a line break would add header lines of its own: refused before anything is sent, naming
        // the variable (this process cannot send the stream; another with the variable fixed can).
        do {
            if let urlEnv = m.urlEnv { try HTTPSafety.checkVariable(urlEnv, url, isURL: true) }
            if let tokenEnv = m.tokenEnv, let token { try HTTPSafety.checkVariable(tokenEnv, token) }
            if let secretEnv = m.secretEnv, let signingSecret { try HTTPSafety.checkVariable(secretEnv, signingSecret) }
        } catch {
            return unconfigured(error.description)
        }
        var headers = m.headers.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        if let token {
            headers.append(m.authStyle == "private-token" ? ("PRIVATE-TOKEN", token) : ("Authorization", "Bearer \(token)"))
        }
        let body = Array(m.body.utf8)
        if let secretEnv = m.secretEnv, let signingSecret {
            do {
                let k = try StandardWebhooks.keys(from: signingSecret)
                let timestamp = Int(Date().timeIntervalSince1970)
                headers.append(("webhook-id", m.id))
                headers.append(("webhook-timestamp", String(timestamp)))
                headers.append(
                    ("webhook-signature", StandardWebhooks.signature(id: m.id, timestamp: timestamp, body: body, keys: k)))
            } catch {
                return fail("$\(secretEnv): \(error)", status: nil, response: nil, retryAfter: nil, permanent: false)
            }
        }
        let request = HTTPRequest(
            method: HTTPRequest.Method(rawValue: m.method) ?? .post, url: url, headers: headers, body: body,
            connectTimeout: min(5, requestTimeout, lease / 2), timeout: min(requestTimeout, lease / 2))
        let response: HTTPResponse
        do {
            response = try await transport.send(request)
        } catch {
            return fail(
                redact(error.description.replacingOccurrences(of: url, with: CurlTransport.host(of: url)), secrets),
                status: nil, response: nil, retryAfter: nil, permanent: false)
        }
        switch response.status {
        case 200..<300:
            let outcome = Outbox.Outcome(
                id: m.id, owner: claimant, state: "delivered", attempts: attempts, nextAttemptAt: 0, status: response.status,
                error: nil,
                response: redact(String(response.text.prefix(2048)), secrets))
            return (outcome, "delivered")
        case 408, 429, 500...599:
            return fail(
                "HTTP \(response.status)", status: response.status, response: response.text,
                retryAfter: response.retryAfter, permanent: false)
        default:
            return fail(
                "HTTP \(response.status): the receiver refused the message", status: response.status,
                response: response.text, retryAfter: nil, permanent: true)
        }
    }

    func redact(_ text: String, _ secrets: [String]) -> String {
        var out = Redaction.redactSecrets(text, secrets)
        out = Redaction.redactURLCredentials(out)
        return out
    }
}
