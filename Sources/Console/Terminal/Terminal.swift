/// A key, as the app sees it, whatever the terminal sent.
public enum Key: Hashable, Sendable, CustomStringConvertible {
  case character(Character)
  case control(Character)
  case up, down, left, right, pageUp, pageDown, home, end
  case enter, escape, tab, backTab, backspace, delete

  public var description: String {
    switch self {
    case .character(" "): return "Space"
    case .character(let character): return String(character)
    case .control(let character): return "ctrl-\(character)"
    case .up: return "↑"
    case .down: return "↓"
    case .left: return "←"
    case .right: return "→"
    case .pageUp: return "PgUp"
    case .pageDown: return "PgDn"
    case .home: return "Home"
    case .end: return "End"
    case .enter: return "Enter"
    case .escape: return "Esc"
    case .tab: return "Tab"
    case .backTab: return "Shift-Tab"
    case .backspace: return "Backspace"
    case .delete: return "Del"
    }
  }
}

public enum TerminalEvent: Sendable, Equatable {
  case key(Key)
  case resize(width: Int, height: Int)
  case click(x: Int, y: Int)
  case scroll(up: Bool)
}

/// Where frames go and keys come from: ncurses in production, memory in tests.
public protocol Terminal: AnyObject {
  var width: Int { get }
  var height: Int { get }
  /// True when the terminal shows UTF-8 (else the ASCII glyphs are used).
  var supportsUnicode: Bool { get }
  /// How many colours the terminal has (0, 8, 16, 256, …); the theme uses
  /// its 256-colour palette only when there are at least 256.
  var colors: Int { get }
  func draw(_ buffer: ScreenBuffer)
  /// The next event, waiting at most `milliseconds`; nil when none came.
  func nextEvent(waitingAtMost milliseconds: Int) -> TerminalEvent?
  /// Gives the terminal back as it was. Safe to call twice.
  func restore()
  /// The audible bell (or a flash where the terminal has none).
  func bell()
}

/// A terminal in memory: events are queued by the test, frames are kept.
public final class MemoryTerminal: Terminal {
  public private(set) var width: Int
  public private(set) var height: Int
  public let supportsUnicode: Bool
  public let colors: Int
  public private(set) var frames: [ScreenBuffer] = []
  public private(set) var restored = false
  private var events: [TerminalEvent] = []

  public init(width: Int = 80, height: Int = 24, unicode: Bool = true, colors: Int = 16) {
    self.width = width
    self.height = height
    supportsUnicode = unicode
    self.colors = colors
  }

  public func send(_ events: TerminalEvent...) { self.events.append(contentsOf: events) }
  /// Types `text`: `\r` is Enter, `\u{1B}` is Esc, `\t` is Tab.
  public func type(_ text: String) {
    events.append(
      contentsOf: text.map { character in
        switch character {
        case "\r", "\n": return .key(.enter)
        case "\u{1B}": return .key(.escape)
        case "\t": return .key(.tab)
        default: return .key(.character(character))
        }
      })
  }
  public func resize(width: Int, height: Int) {
    self.width = width
    self.height = height
    events.append(.resize(width: width, height: height))
  }

  public var lastFrame: ScreenBuffer? { frames.last }
  public var hasPendingEvents: Bool { !events.isEmpty }

  public func draw(_ buffer: ScreenBuffer) { frames.append(buffer) }

  public func nextEvent(waitingAtMost milliseconds: Int) -> TerminalEvent? {
    events.isEmpty ? nil : events.removeFirst()
  }

  public func restore() { restored = true }

  /// How often the bell rang.
  public private(set) var bells = 0
  public func bell() { bells += 1 }
}
