import Foundation

/// `scripts/test-servers/smtp_receiver.py` (aiosmtpd) on 127.0.0.1: every
/// message it accepts is kept as N.eml with its envelope in N.json.
final class SMTPReceiver {
  let process: RunningProcess
  let port: Int
  let directory: URL
  /// The server's self-signed certificate, when it speaks TLS.
  let certificate: String?

  static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("scripts/test-servers/smtp_receiver.py").path

  /// `tls`: "starttls" or "smtps" with a certificate made for 127.0.0.1
  /// (its PEM is `certificate`, for the client to trust).
  init(in workspace: Workspace, credentials: String? = nil, tls: String? = nil) throws {
    let name = "smtp-\(UUID().uuidString.prefix(6))"
    directory = workspace.url.appendingPathComponent(name)
    let portFile = workspace.path(name + ".port")
    var arguments = ["python3", Self.script, portFile, directory.path, credentials ?? ""]
    if let tls {
      let key = workspace.path(name + ".key")
      let made = try Programs.run(
        "/usr/bin/openssl",
        [
          "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", workspace.path(name + ".pem"),
          "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
        ], in: workspace.url)
      guard made.status == 0 else { throw HTTPReceiver.ReceiverFailure() }
      arguments += [tls, workspace.path(name + ".pem"), key]
    }
    certificate = tls == nil ? nil : workspace.path(name + ".pem")
    process = try Programs.start("/usr/bin/env", arguments, in: workspace.url)
    var port: Int? = nil
    for _ in 0..<1_000 {
      if let text = try? String(contentsOfFile: portFile, encoding: .utf8), let number = Int(text) {
        port = number
        break
      }
      usleep(10_000)
    }
    guard let port else { throw HTTPReceiver.ReceiverFailure() }
    self.port = port
  }

  /// The message numbered `number`, decoded by Python's `email` package:
  /// headers (decoded), and the text and HTML parts.
  func message(_ number: Int, waiting: TimeInterval = 5) throws -> [String: Any] {
    let envelope = directory.appendingPathComponent("\(number).json")
    let deadline = Date().addingTimeInterval(waiting)
    while !FileManager.default.fileExists(atPath: envelope.path) && Date() < deadline { usleep(20_000) }
    let parse = """
      import email, json, sys
      from email import policy
      message = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=policy.default)
      plain = message.get_body(('plain',))
      html = message.get_body(('html',))
      print(json.dumps({
        'headers': {k: str(v) for k, v in message.items()},
        'raw_subject': message.get('Subject').__str__() if False else open(sys.argv[1], 'rb').read().decode().split('Subject: ')[1].split('\\r\\nDate:')[0],
        'text': plain.get_content() if plain else None,
        'html': html.get_content() if html else None,
        'envelope': json.load(open(sys.argv[2])),
      }))
      """
    let outcome = try Programs.run(
      "/usr/bin/env",
      ["python3", "-c", parse, directory.appendingPathComponent("\(number).eml").path, envelope.path],
      in: directory)
    return try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any] ?? [:]
  }

  deinit {
    kill(process.pid, SIGKILL)
    _ = try? process.wait(timeout: 5)
  }
}
