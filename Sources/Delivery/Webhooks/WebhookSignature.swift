import Crypto
import Foundation

/// The signature header on every webhook, in the style of Stripe's:
/// `Opsdeck-Signature: t=1767225600,v1=<hex HMAC-SHA256 of "t.body">`.
/// Receivers recompute it with their secret and refuse old timestamps.
public enum WebhookSignature {
  public static let header = "Opsdeck-Signature"

  public static func sign(body: Data, secret: String, timestamp: Int64) -> String {
    var signed = Data("\(timestamp).".utf8)
    signed.append(body)
    let mac = HMAC<SHA256>.authenticationCode(for: signed, using: SymmetricKey(data: Data(secret.utf8)))
    let hex = mac.map { String(format: "%02x", $0) }.joined()
    return "t=\(timestamp),v1=\(hex)"
  }

  /// Checks a header against the body and secret, and its age against `tolerance` seconds.
  public static func verify(header: String, body: Data, secret: String, now: Int64, tolerance: Int64 = 300) -> Bool {
    var timestamp: Int64? = nil
    var signatures: [String] = []
    for part in header.split(separator: ",") {
      let pair = part.split(separator: "=", maxSplits: 1).map(String.init)
      guard pair.count == 2 else { continue }
      if pair[0] == "t" { timestamp = Int64(pair[1]) }
      if pair[0] == "v1" { signatures.append(pair[1]) }
    }
    guard let timestamp, abs(now - timestamp) <= tolerance else { return false }
    let expected = sign(body: body, secret: secret, timestamp: timestamp)
    return signatures.contains { "t=\(timestamp),v1=\($0)" == expected }
  }
}
