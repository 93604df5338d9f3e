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

extension Output {
  /// Aligned columns under a header; every cell is sanitised and cut to
  /// `maxWidth` characters.
  static func columns(_ headers: [String], _ rows: [[String]], maxWidth: Int = 48) {
    let cells = rows.map { row in
      row.map { cell -> String in
        let clean = TerminalText.sanitize(cell)
        return clean.count > maxWidth ? String(clean.prefix(maxWidth - 1)) + "…" : clean
      }
    }
    var widths = headers.map(\.count)
    for row in cells {
      for (index, cell) in row.enumerated() where index < widths.count {
        widths[index] = max(widths[index], cell.count)
      }
    }
    func render(_ row: [String]) -> String {
      row.enumerated().map { index, cell in
        index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
      }.joined(separator: "  ")
    }
    print(render(headers))
    for row in cells { print(render(row)) }
  }

  /// `3m ago`, `in 2h`: for people reading a list.
  static func relative(_ date: Date?, now: Date) -> String {
    guard let date else { return "-" }
    let span = Timestamp.span(from: now, to: date)
    return span.future ? "in \(span.text)" : "\(span.text) ago"
  }
}

/// Parses the option texts that engines take as numbers, naming the flag.
enum Parse {
  /// A file's bytes, or standard input's for `-`.
  static func input(_ file: String) throws -> Data {
    if file == "-" { return FileHandle.standardInput.readDataToEndOfFile() }
    guard let data = FileManager.default.contents(atPath: file) else {
      throw UsageError("\(file): cannot read the file")
    }
    return data
  }

  static func milliseconds(_ text: String?, flag: String) throws -> Int64? {
    guard let text else { return nil }
    do {
      return try Duration(parsing: text).milliseconds
    } catch {
      throw UsageError("\(flag): \(error.description)")
    }
  }

  static func json(_ text: String, flag: String) throws -> String {
    do {
      _ = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
      return text
    } catch {
      throw UsageError("\(flag): not valid JSON: \(text.prefix(80))")
    }
  }

  static func time(_ text: String?, flag: String) throws -> Date? {
    guard let text else { return nil }
    do {
      return try Timestamp.parse(text)
    } catch {
      throw UsageError("\(flag): \(error.description)")
    }
  }
}

/// A flag or argument the user can fix: exit code 2.
struct UsageError: ReportableError {
  let message: String
  init(_ message: String) { self.message = message }
  var description: String { TerminalText.sanitize(message) }
  var isBadInput: Bool { true }
}
