public import Foundation
public import TandemWebhooks

/// The webhook outbox in words, as `tandem notify` prints it.
public enum OutboxText {
    /// `notify list`: each message's state, destination, event and attempts, and who is sending it now.
    public static func list(_ entries: [Outbox.Entry], dead: Bool, now: Double = Date().timeIntervalSince1970) -> [String] {
        guard !entries.isEmpty else { return [dead ? "no dead letters" : "nothing pending"] }
        return entries.map { e in
            let inFlight = e.delivery.claimedUntil.flatMap { until in
                until >= now ? "  being sent by \(e.delivery.claimedBy ?? "?") (claim ends in \(Int(until - now)) s)" : nil
            }
            return
                "\(e.message.id)  \(e.delivery.state)  \(e.message.destination)  \(e.message.eventType)  attempts \(e.delivery.attempts)"
                + (e.delivery.lastStatus.map { "  HTTP \($0)" } ?? "") + (e.delivery.lastError.map { "  \($0)" } ?? "")
                + (inFlight ?? "")
        }
    }

    /// `notify test`: each endpoint's answer.
    public static func testResults(_ entries: [Outbox.Entry]) -> [String] {
        entries.map { r in
            "\(r.delivery.state == "delivered" ? "ok  " : "FAIL") \(r.message.destination) (\(r.message.kind)): "
                + (r.delivery.lastStatus.map { "HTTP \($0)" } ?? "no answer") + (r.delivery.lastError.map { " — \($0)" } ?? "")
        }
    }
}
