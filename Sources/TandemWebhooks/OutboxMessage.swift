public import Foundation

/// A message waiting in (or delivered from) the outbox. Secrets are not stored: the message names the
/// environment variables that hold its URL, token or signing secret, read when it is sent.
public struct OutboxMessage: Sendable, Codable, Equatable {
    /// Stable across retries; sent as `webhook-id` (generic events) so receivers can drop duplicates.
    public var id: String
    /// Messages of one stream (a promotion, at one destination) are delivered in order.
    public var stream: String
    /// The destination's name (`github`, a notifier's name).
    public var destination: String
    /// `github`, `gitlab`, `generic` or `slack`.
    public var kind: String
    public var eventType: String
    public var method: String
    /// The endpoint when it is not secret.
    public var url: String?
    /// The variable holding the endpoint when it is secret.
    public var urlEnv: String?
    /// The variable holding an API token, and how it is sent (`bearer` or `private-token`).
    public var tokenEnv: String?
    public var authStyle: String?
    /// The variable holding the Standard Webhooks secret(s).
    public var secretEnv: String?
    /// Headers without secrets.
    public var headers: [String: String]
    public var body: String
    public var createdAt: String

    public init(
        id: String = UUID().uuidString.lowercased(), stream: String, destination: String, kind: String, eventType: String,
        method: String = "POST", url: String?, urlEnv: String?, tokenEnv: String? = nil, authStyle: String? = nil,
        secretEnv: String? = nil, headers: [String: String], body: String, createdAt: String
    ) {
        self.id = id
        self.stream = stream
        self.destination = destination
        self.kind = kind
        self.eventType = eventType
        self.method = method
        self.url = url
        self.urlEnv = urlEnv
        self.tokenEnv = tokenEnv
        self.authStyle = authStyle
        self.secretEnv = secretEnv
        self.headers = headers
        self.body = body
        self.createdAt = createdAt
    }

    enum CodingKeys: String, CodingKey {
        case id, stream, destination, kind, method, url, headers, body
        case eventType = "event_type"
        case urlEnv = "url_env"
        case tokenEnv = "token_env"
        case authStyle = "auth_style"
        case secretEnv = "secret_env"
        case createdAt = "created_at"
    }
}

/// A message's delivery state.
public struct DeliveryState: Sendable, Codable, Equatable {
    /// `pending`, `delivered` or `dead`.
    public var state: String
    public var attempts: Int
    public var nextAttemptAt: Double
    public var lastStatus: Int?
    public var lastError: String?
    /// The last response body, redacted (secrets replaced by ***), at most 2 KiB.
    public var lastResponse: String?
    public var deliveredAt: String?
    /// The flusher sending it now (`host:pid:random`), while its claim holds.
    public var claimedBy: String?
    /// Until when (epoch seconds) that claim holds; after it, another flusher may send the message again.
    public var claimedUntil: Double?

    public init(
        state: String, attempts: Int, nextAttemptAt: Double, lastStatus: Int?, lastError: String?, lastResponse: String?,
        deliveredAt: String?, claimedBy: String? = nil, claimedUntil: Double? = nil
    ) {
        self.state = state
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
        self.lastStatus = lastStatus
        self.lastError = lastError
        self.lastResponse = lastResponse
        self.deliveredAt = deliveredAt
        self.claimedBy = claimedBy
        self.claimedUntil = claimedUntil
    }

    enum CodingKeys: String, CodingKey {
        case state, attempts
        case nextAttemptAt = "next_attempt_at"
        case lastStatus = "last_status"
        case lastError = "last_error"
        case lastResponse = "last_response"
        case deliveredAt = "delivered_at"
        case claimedBy = "claimed_by"
        case claimedUntil = "claimed_until"
    }
}

/// How failed deliveries are retried.
public struct RetryPolicy: Sendable, Equatable {
    /// The first delay, in seconds; each retry doubles it.
    public var baseDelay: Double = 1
    public var maxDelay: Double = 300
    /// ± this fraction of the delay, at random.
    public var jitter: Double = 0.2
    public var maxAttempts: Int = 12
    /// Seconds after which an undelivered message goes to the dead letters.
    public var maxAge: Double = 86_400

    public init() {}

    /// The policy, with `TANDEM_RETRY_BASE_SECONDS`, `TANDEM_RETRY_MAX_ATTEMPTS` and `TANDEM_RETRY_MAX_AGE_SECONDS`
    /// applied when set (tests and impatient CI jobs shorten them).
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> RetryPolicy {
        var p = RetryPolicy()
        if let v = environment["TANDEM_RETRY_BASE_SECONDS"].flatMap(Double.init) { p.baseDelay = v }
        if let v = environment["TANDEM_RETRY_MAX_ATTEMPTS"].flatMap(Int.init) { p.maxAttempts = v }
        if let v = environment["TANDEM_RETRY_MAX_AGE_SECONDS"].flatMap(Double.init) { p.maxAge = v }
        return p
    }

    /// The delay before attempt `n + 1` after `n` failed attempts.
    public func delay(afterAttempts n: Int, retryAfter: Double?, random: Double) -> Double {
        if let retryAfter { return min(maxDelay, max(0, retryAfter)) }
        let raw = min(maxDelay, baseDelay * pow(2, Double(max(0, n - 1))))
        return raw * (1 + jitter * (2 * random - 1))
    }
}
