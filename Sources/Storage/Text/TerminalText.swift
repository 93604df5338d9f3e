/// Text from data (job names, payloads, errors, alert summaries, config
/// values) on its way to a terminal. Escape sequences are removed whole, other
/// control characters and bidirectional overrides are dropped, so nothing a
/// customer or a remote server wrote can move the cursor, recolour the screen,
/// set the window title or reorder what the operator reads.
public enum TerminalText {
  public static func sanitize(_ text: String, keepNewlines: Bool = false) -> String {
    // Fast path: plain printable ASCII is by far the common case.
    if text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return text }
    var output = String.UnicodeScalarView()
    var scalars = text.unicodeScalars.makeIterator()
    while let scalar = scalars.next() {
      switch scalar.value {
      case 0x1B:  // ESC: drop the whole sequence it starts.
        skipEscapeSequence(&scalars)
      case 0x9B:  // C1 CSI
        skipControlSequence(&scalars)
      case 0x9D:  // C1 OSC
        skipStringSequence(&scalars)
      case 0x0A where keepNewlines:
        output.append(scalar)
      case 0x09, 0x0A, 0x0D:
        output.append(" ")
      case 0x00..<0x20, 0x7F..<0xA0:
        continue
      case 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069:
        continue
      default:
        output.append(scalar)
      }
    }
    return String(output)
  }

  private static func skipEscapeSequence(_ scalars: inout String.UnicodeScalarView.Iterator) {
    guard let next = scalars.next() else { return }
    switch next {
    case "[": skipControlSequence(&scalars)
    case "]", "P", "X", "^", "_": skipStringSequence(&scalars)
    default: return  // two-character sequence such as ESC c or ESC 7
    }
  }

  /// CSI: parameter and intermediate bytes, then one final byte in 0x40–0x7E.
  private static func skipControlSequence(_ scalars: inout String.UnicodeScalarView.Iterator) {
    while let scalar = scalars.next() {
      if (0x40...0x7E).contains(scalar.value) { return }
    }
  }

  /// OSC, DCS and friends: everything up to BEL or ST (ESC \ or 0x9C).
  private static func skipStringSequence(_ scalars: inout String.UnicodeScalarView.Iterator) {
    while let scalar = scalars.next() {
      switch scalar.value {
      case 0x07, 0x9C: return
      case 0x1B:
        _ = scalars.next()
        return
      default: continue
      }
    }
  }
}
