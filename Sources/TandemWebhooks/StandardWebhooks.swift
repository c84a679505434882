public import Crypto
import Foundation

/// Signing as in the Standard Webhooks scheme: `webhook-signature: v1,<base64 HMAC-SHA256 of
/// "id.timestamp.body">`, the key being the base64-decoded part of a `whsec_…` secret. Several secrets (a
/// rotation) give several signatures, space-separated.
public enum StandardWebhooks {
    public struct SecretError: Error, CustomStringConvertible {
        public var description: String
    }

    /// The HMAC keys of a variable's value: one or more `whsec_…` secrets separated by spaces.
    public static func keys(from value: String) throws -> [SymmetricKey] {
        let parts = value.split(separator: " ").map(String.init)
        guard !parts.isEmpty else { throw SecretError(description: "the signing secret is empty") }
        return try parts.map { part in
            let encoded = part.hasPrefix("whsec_") ? String(part.dropFirst(6)) : part
            guard let data = Data(base64Encoded: encoded), !data.isEmpty else {
                throw SecretError(description: "a signing secret is not in the whsec_<base64> form")
            }
            return SymmetricKey(data: data)
        }
    }

    /// The `webhook-signature` header value.
    public static func signature(id: String, timestamp: Int, body: [UInt8], keys: [SymmetricKey]) -> String {
        var message = Array("\(id).\(timestamp).".utf8)
        message.append(contentsOf: body)
        return keys.map { key in
            let mac = HMAC<SHA256>.authenticationCode(for: message, using: key)
            return "v1," + Data(mac).base64EncodedString()
        }.joined(separator: " ")
    }
}
