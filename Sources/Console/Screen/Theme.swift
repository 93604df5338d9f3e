/// Styles by meaning, and the glyphs to draw with: Unicode on a UTF-8
/// terminal, ASCII otherwise (or with `--ascii`).
public struct Theme: Sendable {
  public var ascii: Bool

  public init(ascii: Bool = false) {
    self.ascii = ascii
  }

  public var header: Style { Style(foreground: .black, background: .cyan) }
  public var tab: Style { .plain }
  public var activeTab: Style { Style(bold: true, reverse: true) }
  public var title: Style { Style(bold: true) }
  public var columnHeader: Style { Style(foreground: .cyan, bold: true) }
  public var selection: Style { Style(reverse: true) }
  public var dim: Style { Style(dim: true) }
  public var footerKey: Style { Style(foreground: .cyan, bold: true) }
  public var footer: Style { .plain }
  public var warning: Style { Style(foreground: .yellow, bold: true) }
  public var danger: Style { Style(foreground: .red, bold: true) }
  public var good: Style { Style(foreground: .green) }
  public var dialog: Style { Style(foreground: .white, background: .blue) }

  public func state(_ name: String) -> Style {
    switch name {
    case "failed": return Style(foreground: .red, bold: true)
    case "active": return Style(foreground: .green, bold: true)
    case "delayed": return Style(foreground: .yellow)
    case "completed": return Style(dim: true)
    case "paused": return Style(foreground: .yellow, bold: true)
    default: return .plain
    }
  }

  public var horizontal: String { ascii ? "-" : "─" }
  public var vertical: String { ascii ? "|" : "│" }
  public var ellipsis: String { ascii ? "..." : "…" }
  public var pointer: String { ascii ? ">" : "▶" }
  /// Eight heights for sparklines, lowest first.
  public var sparks: [String] {
    ascii ? [" ", ".", ".", "-", "-", "=", "#", "#"] : ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]
  }
  public var barFull: String { ascii ? "#" : "█" }
  public var barEmpty: String { ascii ? "." : "░" }
}
