import Foundation

/// One e-mail: text and (optionally) HTML parts, rendered as an RFC 5322
/// message with MIME parts, UTF-8 headers as RFC 2047 encoded words, and
/// one-click unsubscribe headers (RFC 8058) when given an address.
public struct MailMessage: Sendable, Equatable {
  /// `ops@example.com` or `Name <ops@example.com>`.
  public var from: String
  public var to: [String]
  public var subject: String
  public var text: String
  public var html: String?
  /// Where one click unsubscribes (an https URL taking a POST), and/or a mailto.
  public var unsubscribeURL: String?
  public var unsubscribeMailto: String?

  public init(
    from: String, to: [String], subject: String, text: String, html: String? = nil, unsubscribeURL: String? = nil,
    unsubscribeMailto: String? = nil
  ) {
    self.from = from
    self.to = to
    self.subject = subject
    self.text = text
    self.html = html
    self.unsubscribeURL = unsubscribeURL
    self.unsubscribeMailto = unsubscribeMailto
  }

  /// The bare address of a mailbox: `ops@example.com` from `Ops <ops@example.com>`.
  public static func address(of mailbox: String) -> String {
    if let open = mailbox.lastIndex(of: "<"), let close = mailbox.lastIndex(of: ">"), open < close {
      return String(mailbox[mailbox.index(after: open)..<close]).trimmingCharacters(in: .whitespaces)
    }
    return mailbox.trimmingCharacters(in: .whitespaces)
  }

  /// One local part, one `@`, one domain, and nothing that could end an
  /// SMTP command or a header (spaces, controls, angle brackets).
  public static func isAddress(_ address: String) -> Bool {
    let parts = address.split(separator: "@", omittingEmptySubsequences: false)
    return parts.count == 2 && !parts[0].isEmpty && !parts[1].isEmpty
      && address.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value != 0x7F && $0 != "<" && $0 != ">" }
  }

  /// A new `Message-ID` on the sender's domain.
  public static func newMessageID(from: String) -> String {
    let address = address(of: from)
    let domain = address.split(separator: "@").last.map(String.init) ?? "opsdeck.invalid"
    return "<\(UUID().uuidString.lowercased())@\(domain)>"
  }

  /// The message as sent over SMTP: CRLF line ends, 7-bit clean.
  public func rendered(messageID: String, date: Date) -> Data {
    var lines: [String] = []
    func header(_ name: String, _ value: String) { lines.append("\(name): \(value)") }
    // Header injection: no CR or LF from data reaches a header (the only
    // line breaks are the encoder's own folds).
    func clean(_ value: String) -> String {
      value.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
    }
    header("From", Self.encodeMailbox(clean(from)))
    header("To", to.map { Self.encodeMailbox(clean($0)) }.joined(separator: ", "))
    header("Subject", Self.encodeWords(clean(subject)))
    header("Date", Self.rfc5322Date(date))
    header("Message-ID", messageID)
    header("MIME-Version", "1.0")
    var unsubscribe: [String] = []
    if let url = unsubscribeURL { unsubscribe.append("<\(clean(url))>") }
    if let mailto = unsubscribeMailto { unsubscribe.append("<\(clean(mailto))>") }
    if !unsubscribe.isEmpty {
      header("List-Unsubscribe", unsubscribe.joined(separator: ", "))
      if unsubscribeURL != nil { header("List-Unsubscribe-Post", "List-Unsubscribe=One-Click") }
    }
    if let html {
      let boundary = "opsdeck-\(UUID().uuidString.lowercased())"
      header("Content-Type", "multipart/alternative; boundary=\"\(boundary)\"")
      lines.append("")
      lines.append("This is a multi-part message in MIME format.")
      for (type, body) in [("text/plain", text), ("text/html", html)] {
        lines.append("--\(boundary)")
        lines += Self.part(type: type, body: body)
      }
      lines.append("--\(boundary)--")
    } else {
      lines += Self.part(type: "text/plain", body: text)
    }
    return Data((lines.joined(separator: "\r\n") + "\r\n").utf8)
  }

  /// Content-Type, base64 transfer encoding (76-column lines), the body.
  static func part(type: String, body: String) -> [String] {
    let encoded = Data(body.utf8).base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn])
      .replacingOccurrences(of: "\r", with: "\n").split(separator: "\n").map(String.init)
    return ["Content-Type: \(type); charset=utf-8", "Content-Transfer-Encoding: base64", ""] + encoded
  }

  /// `Ana Lopez <ana@example.com>` with a non-ASCII name as encoded words.
  static func encodeMailbox(_ mailbox: String) -> String {
    guard let open = mailbox.lastIndex(of: "<") else { return mailbox }
    let name = mailbox[..<open].trimmingCharacters(in: .whitespaces)
    let address = mailbox[open...]
    if name.isEmpty { return String(address) }
    if name.allSatisfy({ $0.isASCII }) { return mailbox }
    return encodeWords(name) + " " + address
  }

  /// RFC 2047: ASCII text as it is; anything else as `=?UTF-8?B?…?=` words
  /// of at most 75 characters, folded onto continuation lines.
  public static func encodeWords(_ text: String) -> String {
    if text.allSatisfy({ $0.isASCII && !$0.isNewline }) { return text }
    var words: [String] = []
    var chunk = ""
    for character in text {
      // 45 bytes of UTF-8 are 60 of base64: 72 characters with the markers.
      if chunk.utf8.count + String(character).utf8.count > 45 {
        words.append(chunk)
        chunk = ""
      }
      chunk.append(character)
    }
    if !chunk.isEmpty { words.append(chunk) }
    return words.map { "=?UTF-8?B?\(Data($0.utf8).base64EncodedString())?=" }.joined(separator: "\r\n ")
  }

  static func rfc5322Date(_ date: Date) -> String {
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "UTC")
    formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
    return formatter.string(from: date)
  }
}
