import Foundation

/// Secrets out of anything printed or logged.
public enum Redaction {
  public static let mask = "***"

  /// `smtp://user:hunter2@mail:587` → `smtp://user:***@mail:587`. Query
  /// strings are kept: a URL that carries its secret in the path (a Slack
  /// webhook) belongs in a `.secret` key instead.
  public static func url(_ text: String) -> String {
    guard let components = URLComponents(string: text), components.password != nil,
      let at = text.firstIndex(of: "@"), let schemeEnd = text.range(of: "://")
    else { return text }
    let userinfo = text[schemeEnd.upperBound..<at]
    guard let colon = userinfo.firstIndex(of: ":") else { return text }
    return String(text[..<text.index(after: colon)]) + mask + String(text[at...])
  }
}
