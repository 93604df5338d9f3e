import Foundation
import Storage

/// Everything a command prints to stdout goes through here; errors go
/// through `main.swift`'s reporter to stderr.
enum Output {
  static func line(_ text: String) {
    print(text)
  }

  static func text(_ text: String) {
    FileHandle.standardOutput.write(Data(text.utf8))
  }

  static func json<T: Encodable>(_ value: T) throws {
    print(try JSONOutput.string(value))
  }

  /// Two aligned columns; values are sanitised for the terminal.
  static func table(_ rows: [(String, String)]) {
    let width = rows.map(\.0.count).max() ?? 0
    for (label, value) in rows {
      print(label.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + TerminalText.sanitize(value))
    }
  }
}
