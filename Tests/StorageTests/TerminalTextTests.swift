import Storage
import Testing

struct TerminalTextTests {
  @Test func removesEscapeSequencesWhole() {
    #expect(TerminalText.sanitize("a\u{1B}[31mred\u{1B}[0m") == "ared")
    #expect(TerminalText.sanitize("\u{1B}]0;pwned\u{07}title") == "title")
    #expect(TerminalText.sanitize("\u{1B}]8;;http://x\u{1B}\\link") == "link")
    #expect(TerminalText.sanitize("x\u{9B}2Jy") == "xy")
    #expect(TerminalText.sanitize("reset\u{1B}c!") == "reset!")
  }

  @Test func dropsControlsAndBidiOverridesButKeepsText() {
    #expect(TerminalText.sanitize("a\u{00}b\u{07}c\u{7F}d\u{85}e") == "abcde")
    #expect(TerminalText.sanitize("invoice\u{202E}fdp.exe") == "invoicefdp.exe")
    #expect(TerminalText.sanitize("line1\nline2\ttab") == "line1 line2 tab")
    #expect(TerminalText.sanitize("line1\nline2", keepNewlines: true) == "line1\nline2")
    #expect(TerminalText.sanitize("Zürich 東京 ✓") == "Zürich 東京 ✓")
  }

  @Test func anUnterminatedSequenceSwallowsOnlyItself() {
    #expect(TerminalText.sanitize("ok\u{1B}[") == "ok")
    #expect(TerminalText.sanitize("ok\u{1B}") == "ok")
  }
}
