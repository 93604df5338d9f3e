import CCurl
import Foundation
import Resilience
import Storage

/// How opsdeck sends mail (`[email]`): SMTP over libcurl, Resend's or
/// SendGrid's HTTP API, or a maildir on disk (`file`, for the demo).
public struct MailSettings: Sendable, Equatable {
  public enum Transport: String, Sendable { case smtp, resend, sendgrid, file }
  public enum StartTLS: String, Sendable {
    /// STARTTLS when the server offers it.
    case `try`
    /// Refuse to send without TLS.
    case required
    /// Never (a local relay).
    case off
  }

  public var transport: Transport = .smtp
  public var url = "smtp://localhost:25"
  public var username = ""
  public var password = ""
  public var from = "opsdeck <opsdeck@localhost>"
  public var startTLS: StartTLS = .try
  public var apiKey = ""
  /// The HTTP API's endpoint (its public one unless set).
  public var apiURL: String? = nil
  /// A PEM bundle of the CAs the mail server's certificate is checked
  /// against (a private CA); nil: the system's.
  public var caFile: String? = nil
  public var timeouts = HTTPTimeouts()

  public init() {}
}

/// What a sent message is known by.
public struct MailReceipt: Sendable, Equatable {
  public var messageID: String
  public var transport: String
}

/// Sends mail through the `mail` dependency's breaker and timeouts.
public struct Mailer: Sendable {
  public static let dependency = "mail"
  public let settings: MailSettings
  public let registry: BreakerRegistry

  public init(settings: MailSettings, registry: BreakerRegistry) {
    self.settings = settings
    self.registry = registry
  }

  /// Sends one message. `messageID`, when given, is the Message-ID (stable
  /// across retries of the same e-mail, so a receiver can tell a repeat).
  public func send(_ message: MailMessage, messageID: String? = nil) throws -> MailReceipt {
    var message = message
    if message.from.isEmpty { message.from = settings.from }
    // Addresses go into SMTP commands: nothing that could end a command.
    for mailbox in [message.from] + message.to {
      guard MailMessage.isAddress(MailMessage.address(of: mailbox)) else {
        throw MailFailure(
          "mail: invalid address '\(TerminalText.sanitize(mailbox))': expected ana@example.com", permanent: true)
      }
    }
    guard !message.to.isEmpty else { throw MailFailure("mail: no recipient", permanent: true) }
    let messageID = messageID ?? MailMessage.newMessageID(from: message.from)
    let permit = try registry.acquire(Self.dependency)
    do {
      switch settings.transport {
      case .smtp: try sendSMTP(message, messageID: messageID)
      case .resend, .sendgrid: try sendHTTP(message, messageID: messageID)
      case .file: try deliverToMaildir(message, messageID: messageID)
      }
      try registry.record(permit, .success)
      return MailReceipt(messageID: messageID, transport: settings.transport.rawValue)
    } catch let failure as MailFailure {
      try registry.record(permit, failure.isPermanent ? .success : .failure(failure.message))
      throw failure
    } catch let failure as HTTPFailure {
      try registry.record(permit, .failure(failure.message))
      throw failure
    }
  }

  // MARK: - SMTP

  private func sendSMTP(_ message: MailMessage, messageID: String) throws {
    let body = message.rendered(messageID: messageID, date: Date())
    guard let handle = curl_easy_init() else { throw MailFailure("mail: curl_easy_init failed", permanent: false) }
    defer { curl_easy_cleanup(handle) }
    let source = BodySource(body)
    var recipients: UnsafeMutablePointer<curl_slist>? = nil
    defer { curl_slist_free_all(recipients) }
    for recipient in message.to {
      recipients = curl_slist_append(recipients, "<\(MailMessage.address(of: recipient))>")
    }
    var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    let code: CURLcode = errorBuffer.withUnsafeMutableBufferPointer { buffer in
      curl_easy_setopt_string(handle, CURLOPT_URL, settings.url)
      curl_easy_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
      curl_easy_setopt_string(handle, CURLOPT_PROTOCOLS_STR, "smtp,smtps")
      curl_easy_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, Int(settings.timeouts.connectMilliseconds))
      curl_easy_setopt_long(handle, CURLOPT_TIMEOUT_MS, Int(settings.timeouts.totalMilliseconds))
      let tls: Int
      switch settings.startTLS {
      case .try: tls = Int(CURLUSESSL_TRY.rawValue)
      case .required: tls = Int(CURLUSESSL_ALL.rawValue)
      case .off: tls = Int(CURLUSESSL_NONE.rawValue)
      }
      curl_easy_setopt_long(handle, CURLOPT_USE_SSL, tls)
      curl_easy_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, 1)
      curl_easy_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, 2)
      if let caFile = settings.caFile { curl_easy_setopt_string(handle, CURLOPT_CAINFO, caFile) }
      if !settings.username.isEmpty {
        curl_easy_setopt_string(handle, CURLOPT_USERNAME, settings.username)
        curl_easy_setopt_string(handle, CURLOPT_PASSWORD, settings.password)
      }
      curl_easy_setopt_string(handle, CURLOPT_MAIL_FROM, "<\(MailMessage.address(of: message.from))>")
      curl_easy_setopt_slist(handle, CURLOPT_MAIL_RCPT, recipients)
      curl_easy_setopt_long(handle, CURLOPT_UPLOAD, 1)
      curl_easy_setopt_int64(handle, CURLOPT_INFILESIZE_LARGE, curl_off_t(body.count))
      curl_easy_setopt_data_callback(handle, CURLOPT_READFUNCTION) { buffer, size, count, context in
        let source = Unmanaged<BodySource>.fromOpaque(context!).takeUnretainedValue()
        return source.read(into: buffer, max: size * count)
      }
      curl_easy_setopt_pointer(handle, CURLOPT_READDATA, Unmanaged.passUnretained(source).toOpaque())
      curl_easy_setopt_pointer(handle, CURLOPT_ERRORBUFFER, buffer.baseAddress)
      return curl_easy_perform(handle)
    }
    guard code == CURLE_OK else {
      let detail = String(cString: errorBuffer).trimmingCharacters(in: .whitespacesAndNewlines)
      var reply = 0
      curl_easy_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &reply)
      let text = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
      // 5xx replies are final (a bad address, refused AUTH); 4xx and
      // transport failures are worth another try.
      let permanent = reply >= 500 || code == CURLE_LOGIN_DENIED
      let limit = Duration.milliseconds(settings.timeouts.totalMilliseconds).compactText
      let message = code == CURLE_OPERATION_TIMEDOUT ? "mail: no answer within \(limit) (timeout)" : "mail: \(text)"
      throw MailFailure(reply > 0 ? "\(message) (SMTP \(reply))" : message, permanent: permanent)
    }
  }

  // MARK: - Maildir

  /// Writes the message into the maildir `url` names (file:///path or a
  /// path): into tmp/, then renamed into new/, as maildir readers expect.
  private func deliverToMaildir(_ message: MailMessage, messageID: String) throws {
    let root = settings.url.hasPrefix("file://") ? String(settings.url.dropFirst("file://".count)) : settings.url
    let manager = FileManager.default
    do {
      for folder in ["tmp", "new", "cur"] {
        try manager.createDirectory(atPath: "\(root)/\(folder)", withIntermediateDirectories: true)
      }
      let unique = "\(Date().epochMilliseconds).\(UUID().uuidString.prefix(8)).opsdeck"
      let temporary = "\(root)/tmp/\(unique)"
      try message.rendered(messageID: messageID, date: Date()).write(to: URL(fileURLWithPath: temporary))
      try manager.moveItem(atPath: temporary, toPath: "\(root)/new/\(unique)")
    } catch {
      throw MailFailure(
        "mail: cannot write to the maildir \(root): \((error as NSError).localizedDescription)", permanent: false)
    }
  }

  // MARK: - HTTP APIs

  private func sendHTTP(_ message: MailMessage, messageID: String) throws {
    var headers: [String: String] = ["Message-ID": messageID]
    if let url = message.unsubscribeURL {
      headers["List-Unsubscribe"] = "<\(url)>" + (message.unsubscribeMailto.map { ", <\($0)>" } ?? "")
      headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    }
    let payload: JSONValue
    let endpoint: String
    switch settings.transport {
    case .resend:
      endpoint = settings.apiURL ?? "https://api.resend.com/emails"
      var fields: [String: JSONValue] = [
        "from": .string(message.from), "to": .array(message.to.map(JSONValue.string)),
        "subject": .string(message.subject), "text": .string(message.text),
        "headers": .object(headers.mapValues(JSONValue.string)),
      ]
      if let html = message.html { fields["html"] = .string(html) }
      payload = .object(fields)
    default:
      endpoint = settings.apiURL ?? "https://api.sendgrid.com/v3/mail/send"
      var content: [JSONValue] = [.object(["type": .string("text/plain"), "value": .string(message.text)])]
      if let html = message.html { content.append(.object(["type": .string("text/html"), "value": .string(html)])) }
      payload = .object([
        "personalizations": .array([
          .object(["to": .array(message.to.map { .object(["email": .string(MailMessage.address(of: $0))]) })])
        ]),
        "from": .object(["email": .string(MailMessage.address(of: message.from))]),
        "subject": .string(message.subject), "content": .array(content),
        "headers": .object(headers.mapValues(JSONValue.string)),
      ])
    }
    let body = Data(try JSONOutput.string(payload).utf8)
    let response = try HTTPClient.perform(
      .json(endpoint, body, headers: [("Authorization", "Bearer \(settings.apiKey)")]), timeouts: settings.timeouts,
      label: "mail")
    guard (200..<300).contains(response.status) else {
      let detail = String(response.text.prefix(200))
      throw MailFailure(
        "mail: \(settings.transport.rawValue) answered HTTP \(response.status): \(detail)",
        permanent: !Dependencies.isFailure(status: response.status, recordClientErrors: false))
    }
  }
}

/// Why a message was not sent. A permanent failure (a refused address or
/// login) is not the mail server's fault and will not go better on retry.
public struct MailFailure: ReportableError, Equatable {
  public let message: String
  public let isPermanent: Bool
  public init(_ message: String, permanent: Bool) {
    self.message = message
    self.isPermanent = permanent
  }
  public var description: String { message }
  public var isBadInput: Bool { false }
}

/// The message as libcurl's read callback takes it.
private final class BodySource {
  let data: Data
  var offset = 0
  init(_ data: Data) { self.data = data }
  func read(into buffer: UnsafeMutablePointer<CChar>?, max: Int) -> Int {
    guard let buffer, offset < data.count else { return 0 }
    let count = min(max, data.count - offset)
    data.withUnsafeBytes { bytes in
      UnsafeMutableRawPointer(buffer).copyMemory(from: bytes.baseAddress! + offset, byteCount: count)
    }
    offset += count
    return count
  }
}
