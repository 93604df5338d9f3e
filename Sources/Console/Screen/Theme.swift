/// Styles by meaning, and the glyphs to draw with: Unicode on a UTF-8
/// terminal, ASCII otherwise (or with `--ascii`). The 16 colours by
/// default; with a 256-colour terminal, softer greys and blues from its
/// palette (text on the terminal's own background either way).
public struct Theme: Sendable {
  public var ascii: Bool
  /// True when the terminal has the 256-colour palette.
  public var palette: Bool

  public init(ascii: Bool = false, colors: Int = 16) {
    self.ascii = ascii
    self.palette = colors >= 256
  }

  private func pick(_ basic: Style, _ rich: Style) -> Style { palette ? rich : basic }

  /// A retention cell's shade for `percent` (0–100): deeper with more
  /// coming back; five steps of green on 256 colours, three on 16.
  public func shade(_ percent: Double) -> Style {
    if palette {
      let greens: [UInt8] = [236, 22, 28, 34, 40]
      let step = min(4, Int(percent / 20))
      return Style(foreground: .palette(step >= 3 ? 16 : 255), background: .palette(greens[step]))
    }
    switch percent {
    case ..<10: return Style(dim: true)
    case ..<40: return Style(foreground: .black, background: .green)
    default: return Style(foreground: .black, background: .green, bold: true)
    }
  }

  public var header: Style {
    pick(Style(foreground: .black, background: .cyan), Style(foreground: .palette(255), background: .palette(24)))
  }
  public var tab: Style { pick(.plain, Style(foreground: .palette(250))) }
  public var activeTab: Style {
    pick(Style(bold: true, reverse: true), Style(foreground: .palette(255), background: .palette(31), bold: true))
  }
  public var title: Style { Style(bold: true) }
  public var columnHeader: Style {
    pick(Style(foreground: .cyan, bold: true), Style(foreground: .palette(75), bold: true))
  }
  public var selection: Style {
    pick(Style(reverse: true), Style(foreground: .palette(255), background: .palette(238), bold: true))
  }
  public var dim: Style { pick(Style(dim: true), Style(foreground: .palette(244))) }
  public var footerKey: Style {
    pick(Style(foreground: .cyan, bold: true), Style(foreground: .palette(75), bold: true))
  }
  public var footer: Style { pick(.plain, Style(foreground: .palette(250))) }
  public var warning: Style {
    pick(Style(foreground: .yellow, bold: true), Style(foreground: .palette(214), bold: true))
  }
  public var danger: Style { pick(Style(foreground: .red, bold: true), Style(foreground: .palette(203), bold: true)) }
  public var good: Style { pick(Style(foreground: .green), Style(foreground: .palette(78))) }
  public var dialog: Style {
    pick(Style(foreground: .white, background: .blue), Style(foreground: .palette(253), background: .palette(237)))
  }
  public var dialogHeading: Style {
    pick(
      Style(foreground: .white, background: .blue, bold: true),
      Style(foreground: .palette(255), background: .palette(24), bold: true))
  }

  public func state(_ name: String) -> Style {
    switch name {
    case "failed": return danger
    case "active": return pick(Style(foreground: .green, bold: true), Style(foreground: .palette(78), bold: true))
    case "delayed": return pick(Style(foreground: .yellow), Style(foreground: .palette(179)))
    case "completed": return dim
    case "paused": return warning
    default: return .plain
    }
  }

  /// A severity's colour: red, bright red/magenta, yellow, the default.
  public func alert(_ severity: String) -> Style {
    switch severity {
    case "critical":
      return pick(
        Style(foreground: .red, bold: true, reverse: true),
        Style(foreground: .palette(231), background: .palette(160), bold: true))
    case "error": return danger
    case "warning": return warning
    default: return columnHeader
    }
  }

  /// A breaker's state word: green when closed, red when open, yellow while trying.
  public func breaker(_ state: String) -> Style {
    switch state {
    case "closed": return good
    case "open", "forced_open": return danger
    case "half_open": return warning
    case "disabled": return dim
    default: return columnHeader
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
