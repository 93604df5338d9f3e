import Storage

/// A terminal colour: one of the 16 every colour terminal has, or one of
/// the 256-colour palette (only a theme for 256 colours uses those).
public struct Color: Sendable, Hashable {
  /// The palette index: 0–15 the 16 colours, 16–255 the 256-colour palette.
  public let index: Int

  public static func palette(_ index: UInt8) -> Color { Color(index: Int(index)) }

  public static let black = Color(index: 0)
  public static let red = Color(index: 1)
  public static let green = Color(index: 2)
  public static let yellow = Color(index: 3)
  public static let blue = Color(index: 4)
  public static let magenta = Color(index: 5)
  public static let cyan = Color(index: 6)
  public static let white = Color(index: 7)
  public static let brightBlack = Color(index: 8)
  public static let brightRed = Color(index: 9)
  public static let brightGreen = Color(index: 10)
  public static let brightYellow = Color(index: 11)
  public static let brightBlue = Color(index: 12)
  public static let brightMagenta = Color(index: 13)
  public static let brightCyan = Color(index: 14)
  public static let brightWhite = Color(index: 15)
}

/// How a cell looks. `nil` colours are the terminal's own.
public struct Style: Sendable, Hashable {
  public var foreground: Color?
  public var background: Color?
  public var bold = false
  public var dim = false
  public var reverse = false
  public var underline = false

  public init(
    foreground: Color? = nil, background: Color? = nil, bold: Bool = false, dim: Bool = false, reverse: Bool = false,
    underline: Bool = false
  ) {
    self.foreground = foreground
    self.background = background
    self.bold = bold
    self.dim = dim
    self.reverse = reverse
    self.underline = underline
  }

  public static let plain = Style()
}

/// One column of the screen. A wide character fills two: its own cell and a
/// continuation cell after it.
public struct Cell: Sendable, Equatable {
  public var text: String
  public var style: Style
  public var isContinuation: Bool

  public static let blank = Cell(text: " ", style: .plain, isContinuation: false)
}

/// What a frame looks like, independent of any terminal: panes render into
/// it, the ncurses backend copies it to the screen, tests compare its text
/// with golden files. Text written into it is sanitised: nothing from data
/// can reach the terminal as a control character.
public struct ScreenBuffer: Sendable, Equatable {
  public let width: Int
  public let height: Int
  public private(set) var cells: [Cell]

  public init(width: Int, height: Int) {
    self.width = max(0, width)
    self.height = max(0, height)
    cells = Array(repeating: .blank, count: self.width * self.height)
  }

  public subscript(x: Int, y: Int) -> Cell {
    cells[y * width + x]
  }

  /// Writes `text` from column `x` of row `y`, clipped at `limit` columns
  /// (and the edge); an over-long text ends with `…`. Returns the columns
  /// written.
  @discardableResult
  public mutating func put(_ text: String, x: Int, y: Int, style: Style = .plain, limit: Int? = nil) -> Int {
    guard y >= 0, y < height, x < width else { return 0 }
    let available = min(limit ?? (width - x), width - max(x, 0))
    guard available > 0 else { return 0 }
    let clean = TerminalText.sanitize(text)
    let total = DisplayWidth.of(clean)
    let truncate = total > available
    let budget = truncate ? available - 1 : available
    var column = x
    for character in clean {
      let size = DisplayWidth.of(character)
      if size == 0 {
        if column > x, column - 1 >= 0 { appendCombining(character, x: column - 1, y: y) }
        continue
      }
      if column - x + size > budget { break }
      if column >= 0 {
        cells[y * width + column] = Cell(text: String(character), style: style, isContinuation: false)
        if size == 2, column + 1 < width {
          cells[y * width + column + 1] = Cell(text: "", style: style, isContinuation: true)
        }
      }
      column += size
    }
    if truncate, column < width {
      cells[y * width + column] = Cell(text: "…", style: style, isContinuation: false)
      column += 1
    }
    return column - x
  }

  private mutating func appendCombining(_ character: Character, x: Int, y: Int) {
    var index = y * width + x
    while index > y * width && cells[index].isContinuation { index -= 1 }
    cells[index].text += String(character)
  }

  /// Paints `style` over columns `x..<x+count` of row `y`, keeping the text.
  public mutating func paint(_ style: Style, x: Int = 0, y: Int, count: Int? = nil) {
    guard y >= 0, y < height else { return }
    let end = min(width, x + (count ?? width))
    for column in max(0, x)..<max(max(0, x), end) { cells[y * width + column].style = style }
  }

  /// Blanks a rectangle.
  public mutating func clear(x: Int = 0, y: Int, width count: Int? = nil, height rows: Int = 1, style: Style = .plain) {
    for row in y..<min(height, y + rows) where row >= 0 {
      for column in max(0, x)..<min(width, x + (count ?? width)) {
        cells[row * width + column] = Cell(text: " ", style: style, isContinuation: false)
      }
    }
  }

  /// Copies `other` into this buffer with its top-left corner at (x, y).
  public mutating func blit(_ other: ScreenBuffer, x: Int, y: Int) {
    for row in 0..<other.height where y + row >= 0 && y + row < height {
      for column in 0..<other.width where x + column >= 0 && x + column < width {
        cells[(y + row) * width + x + column] = other[column, row]
      }
    }
  }

  /// One row as text (wide characters once, trailing blanks kept).
  public func row(_ y: Int) -> String {
    (0..<width).map { self[$0, y] }.filter { !$0.isContinuation }.map(\.text).joined()
  }

  /// The whole screen as text, trailing blanks trimmed: golden snapshots.
  public var text: String {
    (0..<height).map { y in
      var line = row(y)
      while line.hasSuffix(" ") { line.removeLast() }
      return line
    }.joined(separator: "\n")
  }
}

/// How many columns a character takes: 0 for combining marks, 2 for East
/// Asian wide and most emoji, 1 otherwise. Our own table, so that tests and
/// a terminal under any locale agree.
public enum DisplayWidth {
  public static func of(_ text: String) -> Int {
    text.reduce(0) { $0 + of($1) }
  }

  public static func of(_ character: Character) -> Int {
    guard let scalar = character.unicodeScalars.first else { return 0 }
    let value = scalar.value
    if value < 0x300 { return 1 }
    switch value {
    case 0x0300...0x036F, 0x0483...0x0489, 0x0591...0x05BD, 0x0610...0x061A, 0x064B...0x065F, 0x200B...0x200F,
      0x20D0...0x20FF, 0xFE00...0xFE0F, 0xFE20...0xFE2F:
      return 0
    case 0x1100...0x115F, 0x231A...0x231B, 0x2329...0x232A, 0x23E9...0x23EC, 0x23F0, 0x23F3, 0x25FD...0x25FE,
      0x2614...0x2615, 0x2648...0x2653, 0x267F, 0x2693, 0x26A1, 0x26AA...0x26AB, 0x26BD...0x26BE, 0x26C4...0x26C5,
      0x26CE, 0x26D4, 0x26EA, 0x26F2...0x26F3, 0x26F5, 0x26FA, 0x26FD, 0x2705, 0x270A...0x270B, 0x2728, 0x274C,
      0x274E, 0x2753...0x2755, 0x2757, 0x2795...0x2797, 0x27B0, 0x27BF, 0x2B1B...0x2B1C, 0x2B50, 0x2B55,
      0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF, 0xA960...0xA97F,
      0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE10...0xFE19, 0xFE30...0xFE6F, 0xFF00...0xFF60, 0xFFE0...0xFFE6,
      0x1F004, 0x1F0CF, 0x1F18E, 0x1F191...0x1F19A, 0x1F200...0x1F251, 0x1F300...0x1F64F, 0x1F680...0x1F6FF,
      0x1F7E0...0x1F7EB, 0x1F90C...0x1F9FF, 0x1FA70...0x1FAFF, 0x20000...0x3FFFD:
      return 2
    default:
      return 1
    }
  }
}
