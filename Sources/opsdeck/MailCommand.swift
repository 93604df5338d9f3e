import ArgumentParser
import Delivery
import Foundation
import OpsDeck
import Storage

struct MailCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "mail", abstract: "Send mail through the configured transport.", subcommands: [Test.self])

  struct Test: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Send a test message (a UTF-8 subject, text and HTML parts) to ADDRESS.",
      discussion: """
        Goes through [smtp] exactly as lifecycle e-mails and alerts do, including the
        `mail` dependency's circuit breaker. Prints the Message-ID; a failure is one line
        naming the server's answer, exit 1.

        Example:
          opsdeck mail test ana@example.com
        """)
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Who gets the test message.") var address: String

    func validate() throws {
      let bare = MailMessage.address(of: address)
      guard bare.contains("@"), !bare.hasPrefix("@"), !bare.hasSuffix("@"), !bare.contains(" "),
        bare.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value != 0x7F })
      else {
        throw ValidationError("invalid address '\(TerminalText.sanitize(address))': expected ana@example.com")
      }
    }

    func run() throws {
      let runtime = try global.runtime()
      let mailer = try runtime.mailer()
      let host = ProcessInfo.processInfo.hostName
      let message = MailMessage(
        from: runtime.config.smtp.mail.from, to: [address], subject: "opsdeck test message ✓ from \(host)",
        text: "This is a test message from opsdeck on \(host).\nIf you can read it, mail works.\n",
        html: "<p>This is a test message from <b>opsdeck</b> on \(host).</p><p>If you can read it, mail works.</p>")
      // The breaker's shared row learns how it went, sent or not.
      defer { try? mailer.registry.syncAll() }
      let receipt = try mailer.send(message)
      Output.line("sent \(receipt.messageID) to \(TerminalText.sanitize(address)) via \(receipt.transport)")
    }
  }
}
