import Delivery
import Foundation
import Testing

struct MailMessageTests {
  let date = Date(timeIntervalSince1970: 1_767_225_600)

  func rendered(_ message: MailMessage) -> String {
    String(decoding: message.rendered(messageID: "<id@example.com>", date: date), as: UTF8.self)
  }

  @Test func headersAreSevenBitWithEncodedWordsOfAtMost75Characters() {
    let subject = String(repeating: "Ihr Testzeitraum endet morgen – jetzt upgraden ✓ ", count: 3)
    let text = rendered(
      MailMessage(from: "Überwachung <ops@example.com>", to: ["Zoë <zoe@example.com>"], subject: subject, text: "hi"))
    #expect(text.unicodeScalars.allSatisfy { $0.isASCII })
    let words = text.split(separator: "=?UTF-8?B?").dropFirst().map { "=?UTF-8?B?" + $0.prefix { $0 != "?" } + "?=" }
    #expect(words.count > 3)
    #expect(words.allSatisfy { $0.count <= 75 })
    #expect(text.contains("\r\nDate: Thu, 01 Jan 2026 00:00:00 +0000\r\n"))
    #expect(text.contains("\r\nMessage-ID: <id@example.com>\r\n"))
    // Decoding the words gives the subject back.
    let decoded = MailMessage.encodeWords(subject).components(separatedBy: "\r\n ").map { word in
      String(decoding: Data(base64Encoded: String(word.dropFirst(10).dropLast(2))) ?? Data(), as: UTF8.self)
    }.joined()
    #expect(decoded == subject)
  }

  @Test func dataCannotInjectHeaders() {
    let text = rendered(
      MailMessage(
        from: "ops@example.com", to: ["zoe@example.com\r\nBcc: all@example.com"],
        subject: "Hello\r\nBcc: everyone@example.com", text: "hi"))
    #expect(!text.contains("\r\nBcc:"))
    #expect(text.contains("Subject: Hello  Bcc: everyone@example.com\r\n"))
  }

  @Test func oneClickUnsubscribeHeadersWhenThereIsAnAddress() {
    let with = rendered(
      MailMessage(
        from: "ops@example.com", to: ["zoe@example.com"], subject: "s", text: "t", html: "<p>t</p>",
        unsubscribeURL: "https://app.example.com/u/abc", unsubscribeMailto: "mailto:u@example.com?subject=abc"))
    #expect(
      with.contains("\r\nList-Unsubscribe: <https://app.example.com/u/abc>, <mailto:u@example.com?subject=abc>\r\n"))
    #expect(with.contains("\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"))
    #expect(with.contains("Content-Type: multipart/alternative; boundary="))
    #expect(
      with.contains("Content-Type: text/plain; charset=utf-8")
        && with.contains("Content-Type: text/html; charset=utf-8"))
    let without = rendered(MailMessage(from: "ops@example.com", to: ["zoe@example.com"], subject: "s", text: "t"))
    #expect(!without.contains("List-Unsubscribe"))
    #expect(!without.contains("multipart"))
  }

  @Test func addressesAndWhoseFaultAStatusIs() {
    #expect(MailMessage.address(of: "Ana Lopez <ana@example.com>") == "ana@example.com")
    #expect(MailMessage.address(of: " ana@example.com ") == "ana@example.com")
    #expect(MailMessage.newMessageID(from: "Ops <ops@example.com>").hasSuffix("@example.com>"))
    for status in [500, 502, 503, 408, 429] {
      #expect(Dependencies.isFailure(status: status, recordClientErrors: false))
    }
    for status in [200, 301, 400, 401, 404, 422] {
      #expect(!Dependencies.isFailure(status: status, recordClientErrors: false))
    }
    #expect(Dependencies.isFailure(status: 404, recordClientErrors: true))
  }
}
