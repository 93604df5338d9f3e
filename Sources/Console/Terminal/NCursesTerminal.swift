import CNCurses
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// The one file that talks to ncurses: it copies a ``ScreenBuffer`` to the
/// screen (ncurses sends only what changed) and turns `get_wch` into
/// ``TerminalEvent``s. The terminal's own background is kept (colour -1).
public final class NCursesTerminal: Terminal {
  public let supportsUnicode: Bool
  private var pairs: [Int: Int16] = [:]
  private let colorCount: Int
  public var colors: Int { colorCount }
  private var isOpen = true

  public init(mouse: Bool = false) {
    setlocale(LC_ALL, "")
    supportsUnicode = cn_codeset_is_utf8() != 0
    // A short Esc delay: Esc closes dialogs, it should not wait a second.
    setenv("ESCDELAY", "25", 0)
    initscr()
    cbreak()
    noecho()
    nonl()
    cn_keypad(true)
    curs_set(0)
    if has_colors() {
      start_color()
      use_default_colors()
    }
    // NO_COLOR (no-color.org): attributes only, no colours.
    let noColor = !(ProcessInfo.processInfo.environment["NO_COLOR"] ?? "").isEmpty
    colorCount = has_colors() && !noColor ? Int(cn_colors()) : 0
    if mouse {
      mousemask(cn_button1_clicked() | cn_button4_pressed() | cn_button5_pressed(), nil)
    }
    NCursesTerminal.installCrashRestore()
  }

  deinit { restore() }

  public var width: Int {
    var rows: Int32 = 0
    var columns: Int32 = 0
    cn_getmaxyx(cn_stdscr(), &rows, &columns)
    return Int(columns)
  }

  public var height: Int {
    var rows: Int32 = 0
    var columns: Int32 = 0
    cn_getmaxyx(cn_stdscr(), &rows, &columns)
    return Int(rows)
  }

  public func draw(_ buffer: ScreenBuffer) {
    cn_erase()
    for y in 0..<min(buffer.height, height) {
      var x = 0
      while x < min(buffer.width, width) {
        let style = buffer[x, y].style
        var run = ""
        let start = x
        while x < min(buffer.width, width), buffer[x, y].style == style {
          let cell = buffer[x, y]
          if !cell.isContinuation { run += supportsUnicode ? cell.text : asciiOnly(cell.text) }
          x += 1
        }
        cn_attrset(attributes(style))
        cn_mvaddstr(Int32(y), Int32(start), run)
      }
    }
    cn_attrset(cn_a_normal())
    refresh()
  }

  private func asciiOnly(_ text: String) -> String {
    text.unicodeScalars.allSatisfy(\.isASCII) ? text : "?"
  }

  private func attributes(_ style: Style) -> attr_t {
    var attrs = cn_a_normal()
    if style.bold { attrs |= cn_a_bold() }
    if style.dim { attrs |= cn_a_dim() }
    if style.reverse { attrs |= cn_a_reverse() }
    if style.underline { attrs |= cn_a_underline() }
    if colorCount > 0, style.foreground != nil || style.background != nil {
      var foreground = style.foreground?.index ?? -1
      var background = style.background?.index ?? -1
      if colorCount < 16 {
        if foreground >= 8 {
          foreground -= 8
          attrs |= cn_a_bold()
        }
        if background >= 8 { background -= 8 }
      }
      attrs |= cn_color_pair(Int32(pair(foreground, background)))
    }
    return attrs
  }

  private func pair(_ foreground: Int, _ background: Int) -> Int16 {
    let key = (foreground + 1) * 512 + background + 1
    if let existing = pairs[key] { return existing }
    let number = Int16(pairs.count + 1)
    guard Int32(number) < cn_color_pairs() else { return 0 }
    init_pair(number, Int16(foreground), Int16(background))
    pairs[key] = number
    return number
  }

  public func nextEvent(waitingAtMost milliseconds: Int) -> TerminalEvent? {
    cn_timeout(Int32(milliseconds))
    var character: wint_t = 0
    let result = cn_get_wch(&character)
    if result == cn_err() { return nil }
    if result == cn_key_code_yes() {
      switch Int32(character) {
      case KEY_UP: return .key(.up)
      case KEY_DOWN: return .key(.down)
      case KEY_LEFT: return .key(.left)
      case KEY_RIGHT: return .key(.right)
      case KEY_NPAGE: return .key(.pageDown)
      case KEY_PPAGE: return .key(.pageUp)
      case KEY_HOME: return .key(.home)
      case KEY_END: return .key(.end)
      case KEY_BTAB: return .key(.backTab)
      case KEY_ENTER: return .key(.enter)
      case KEY_BACKSPACE: return .key(.backspace)
      case KEY_DC: return .key(.delete)
      case cn_key_resize(): return .resize(width: width, height: height)
      case cn_key_mouse(): return mouseEvent()
      default: return nil
      }
    }
    switch character {
    case 27: return .key(.escape)
    case 9: return .key(.tab)
    case 10, 13: return .key(.enter)
    case 127, 8: return .key(.backspace)
    case 1...26: return .key(.control(Character(UnicodeScalar(character + 96)!)))
    default:
      guard let scalar = UnicodeScalar(character) else { return nil }
      return .key(.character(Character(scalar)))
    }
  }

  private func mouseEvent() -> TerminalEvent? {
    var event = MEVENT()
    guard getmouse(&event) == cn_ok() else { return nil }
    if event.bstate & cn_button4_pressed() != 0 { return .scroll(up: true) }
    if event.bstate & cn_button5_pressed() != 0 { return .scroll(up: false) }
    return .click(x: Int(event.x), y: Int(event.y))
  }

  public func bell() {
    if beep() != OK { flash() }
  }

  public func restore() {
    guard isOpen else { return }
    isOpen = false
    endwin()
  }

  /// A crash while the console is on screen must not leave the terminal in
  /// raw mode: fatal signals end curses mode, then take their usual course.
  private static func installCrashRestore() {
    for signalNumber in [SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGABRT, SIGFPE] {
      var action = sigaction()
      action.__sigaction_handler.sa_handler = { number in
        endwin()
        signal(number, SIG_DFL)
        raise(number)
      }
      action.sa_flags = Int32(truncatingIfNeeded: SA_RESETHAND)
      sigaction(signalNumber, &action, nil)
    }
  }
}
