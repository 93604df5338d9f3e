import Foundation
import Testing

/// Mail to a real local SMTP server (aiosmtpd), checked on arrival.
@Suite struct MailTests {
  func prepared(_ smtp: String) throws -> (Workspace, [String]) {
    let workspace = try Workspace()
    try workspace.write("ops.toml", smtp)
    let base = ["--db", workspace.path("ops.db"), "--config", workspace.path("ops.toml")]
    #expect(try workspace.opsdeck(base + ["init", "--no-config"]).status == 0)
    return (workspace, base)
  }

  @Test func aTestMessageArrivesWithAUTHAUTF8SubjectAndBothParts() throws {
    let workspace = try Workspace()
    let server = try SMTPReceiver(in: workspace, credentials: "ana:s3cret")
    try workspace.write(
      "ops.toml",
      """
      [smtp]
      url = "smtp://127.0.0.1:\(server.port)"
      username = "ana"
      password = "${SMTP_PASSWORD}"
      from = "Überwachung <ops@example.com>"
      """)
    let base = ["--db", workspace.path("ops.db"), "--config", workspace.path("ops.toml")]
    #expect(
      try workspace.opsdeck(base + ["init", "--no-config"], environment: ["SMTP_PASSWORD": "s3cret"]).status == 0)
    let sent = try workspace.opsdeck(
      base + ["mail", "test", "Zoë <zoe@example.com>"], environment: ["SMTP_PASSWORD": "s3cret"])
    #expect(sent.status == 0, "\(sent.stderr)")
    #expect(
      sent.stdout.hasPrefix("sent <") && sent.stdout.hasSuffix("@example.com> to Zoë <zoe@example.com> via smtp\n"))
    let message = try server.message(1)
    let headers = message["headers"] as? [String: String] ?? [:]
    #expect(headers["Subject"]?.hasPrefix("opsdeck test message ✓ from ") == true)
    #expect((message["raw_subject"] as? String)?.hasPrefix("=?UTF-8?B?") == true, "RFC 2047 on the wire")
    #expect(headers["From"] == "Überwachung <ops@example.com>")
    #expect(headers["To"] == "Zoë <zoe@example.com>")
    #expect(headers["MIME-Version"] == "1.0")
    #expect(sent.stdout.contains(headers["Message-ID"] ?? "missing"))
    #expect((message["text"] as? String)?.contains("If you can read it, mail works.") == true)
    #expect((message["html"] as? String)?.contains("<b>opsdeck</b>") == true)
    let envelope = message["envelope"] as? [String: Any] ?? [:]
    #expect(envelope["mail_from"] as? String == "ops@example.com")
    #expect(envelope["rcpt_tos"] as? [String] == ["zoe@example.com"])
    #expect(envelope["user"] as? String == "ana")
  }

  @Test func aRefusedLoginIsOneLineAndExitOne() throws {
    let workspace = try Workspace()
    let server = try SMTPReceiver(in: workspace, credentials: "ana:s3cret")
    try workspace.write(
      "ops.toml",
      "[smtp]\nurl = \"smtp://127.0.0.1:\(server.port)\"\nusername = \"ana\"\npassword = \"wrong\"\n")
    let base = ["--db", workspace.path("ops.db"), "--config", workspace.path("ops.toml")]
    #expect(try workspace.opsdeck(base + ["init", "--no-config"]).status == 0)
    let refused = try workspace.opsdeck(base + ["mail", "test", "zoe@example.com"])
    #expect(refused.status == 1)
    #expect(refused.stderr == "opsdeck: mail: Login denied (SMTP 535)\n")
  }

  @Test func nobodyListeningIsAFailureOfTheMailBreaker() throws {
    let (workspace, base) = try prepared("[smtp]\nurl = \"smtp://127.0.0.1:1\"\n")
    let failed = try workspace.opsdeck(base + ["mail", "test", "zoe@example.com"])
    #expect(failed.status == 1)
    #expect(failed.stderr.hasPrefix("opsdeck: mail: "))
    let breakers = try workspace.opsdeck(base + ["breakers", "--json"])
    #expect(breakers.stdout.contains(#""name":"mail""#))
    #expect(breakers.stdout.contains(#""last_error":"mail: "#))
  }

  /// Resend's and SendGrid's APIs, pointed at a local HTTP server.
  @Test(arguments: ["resend", "sendgrid"])
  func theHTTPTransportsPostTheMessageWithTheKey(_ transport: String) throws {
    let workspace = try Workspace()
    let receiver = try HTTPReceiver(in: workspace)
    try workspace.write(
      "ops.toml",
      """
      [smtp]
      transport = "\(transport)"
      api_key = "key-123"
      api_url = "\(receiver.base)/send"
      from = "Ops <ops@example.com>"
      """)
    let base = ["--db", workspace.path("ops.db"), "--config", workspace.path("ops.toml")]
    #expect(try workspace.opsdeck(base + ["init", "--no-config"]).status == 0)
    let sent = try workspace.opsdeck(base + ["mail", "test", "zoe@example.com"])
    #expect(sent.status == 0, "\(sent.stderr)")
    #expect(sent.stdout.hasSuffix("via \(transport)\n"))
    let request = try #require(try receiver.requests().first)
    let headers = request["headers"] as? [String: String] ?? [:]
    #expect(headers["Authorization"] == "Bearer key-123")
    #expect(headers["Content-Type"] == "application/json")
    let body = request["body"] as? String ?? ""
    #expect(body.contains("zoe@example.com") && body.contains("opsdeck test message ✓"))
    #expect(body.contains("Message-ID"))
    try receiver.answer("422")
    let refused = try workspace.opsdeck(base + ["mail", "test", "zoe@example.com"])
    #expect(refused.status == 1)
    #expect(refused.stderr.hasPrefix("opsdeck: mail: \(transport) answered HTTP 422"))
  }

  /// STARTTLS (required by the server) and smtps://, with the server's
  /// certificate trusted through ca_file; without it, the certificate is refused.
  @Test(arguments: [("starttls", "smtp"), ("smtps", "smtps")])
  func overTLS(_ mode: String, _ scheme: String) throws {
    let workspace = try Workspace()
    let server = try SMTPReceiver(in: workspace, credentials: "ana:s3cret", tls: mode)
    let smtp = """
      [smtp]
      url = "\(scheme)://127.0.0.1:\(server.port)"
      username = "ana"
      password = "s3cret"
      from = "ops@example.com"
      starttls = "required"
      """
    try workspace.write("trusting.toml", smtp + "\nca_file = \"\(server.certificate ?? "")\"\n")
    try workspace.write("default.toml", smtp + "\n")
    let db = ["--db", workspace.path("ops.db")]
    #expect(try workspace.opsdeck(db + ["init", "--no-config"]).status == 0)
    let sent = try workspace.opsdeck(db + ["--config", "trusting.toml", "mail", "test", "zoe@example.com"])
    #expect(sent.status == 0, "\(sent.stderr)")
    #expect((try server.message(1)["envelope"] as? [String: Any])?["user"] as? String == "ana")
    let untrusted = try workspace.opsdeck(db + ["--config", "default.toml", "mail", "test", "zoe@example.com"])
    #expect(untrusted.status == 1)
    #expect(untrusted.stderr.hasPrefix("opsdeck: mail: "), "\(untrusted.stderr)")
  }
}
