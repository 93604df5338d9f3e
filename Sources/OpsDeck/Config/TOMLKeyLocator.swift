/// Finds the line on which a key of a TOML document is set. TOMLKit does not
/// keep source positions for values, and an error that says "line 14" gets
/// fixed faster than one that only names the key.
///
/// A line scanner, not a parser: it follows table headers (`[a.b]`,
/// `[[a]]`), dotted and quoted keys, and skips multi-line strings and arrays.
/// The document has already parsed, so it only has to be right for valid TOML.
struct TOMLKeyLocator {
  private var lines: [String: Int] = [:]

  init(_ text: String) {
    var prefix: [String] = []
    var arrayCounts: [String: Int] = [:]
    var openMultiline: String? = nil
    var bracketDepth = 0
    for (offset, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      let number = offset + 1
      var line = Substring(rawLine)
      if let delimiter = openMultiline {
        guard let end = line.range(of: delimiter) else { continue }
        line = line[end.upperBound...]
        openMultiline = nil
      }
      if bracketDepth > 0 {
        bracketDepth += Self.bracketBalance(line, openMultiline: &openMultiline)
        continue
      }
      let trimmed = line.drop { $0 == " " || $0 == "\t" }
      if trimmed.hasPrefix("[[") {
        let path = Self.keyPath(trimmed.dropFirst(2))
        let joined = path.joined(separator: ".")
        let index = arrayCounts[joined, default: 0]
        arrayCounts[joined] = index + 1
        prefix = path.dropLast() + ["\(path.last ?? "")[\(index)]"]
        record(prefix, number)
        continue
      }
      if trimmed.hasPrefix("[") {
        var path = Self.keyPath(trimmed.dropFirst())
        // A sub-table of an array of tables belongs to its last element.
        for length in stride(from: path.count, through: 1, by: -1) {
          let head = path[0..<length].joined(separator: ".")
          if let count = arrayCounts[head] {
            path[length - 1] += "[\(count - 1)]"
            break
          }
        }
        prefix = path
        record(prefix, number)
        continue
      }
      guard let equals = Self.assignment(trimmed) else { continue }
      let key = Self.keyPath(trimmed[..<equals])
      if key.isEmpty { continue }
      record(prefix + key, number)
      let value = trimmed[trimmed.index(after: equals)...]
      let valueStart = value.drop { $0 == " " || $0 == "\t" }
      if valueStart.hasPrefix("\"\"\"") || valueStart.hasPrefix("'''") {
        let delimiter = String(valueStart.prefix(3))
        if !valueStart.dropFirst(3).contains(delimiter) { openMultiline = delimiter }
      } else {
        bracketDepth = Self.bracketBalance(value, openMultiline: &openMultiline)
      }
    }
  }

  /// The line of `path` (`smtp.password`, `schedules[1].cron`), or of the
  /// nearest enclosing table that the document names.
  func line(of path: [String]) -> Int? {
    var path = path
    while !path.isEmpty {
      if let line = lines[path.joined(separator: ".")] { return line }
      path.removeLast()
    }
    return nil
  }

  private mutating func record(_ path: [String], _ line: Int) {
    for length in 1...max(path.count, 1) where length <= path.count {
      let key = path[0..<length].joined(separator: ".")
      if lines[key] == nil { lines[key] = line }
    }
  }

  /// The index of the `=` of a `key = value` line, outside quotes.
  private static func assignment(_ line: Substring) -> Substring.Index? {
    var quote: Character? = nil
    for index in line.indices {
      let character = line[index]
      if let open = quote {
        if character == open { quote = nil }
      } else if character == "\"" || character == "'" {
        quote = character
      } else if character == "=" {
        return index
      } else if character == "#" {
        return nil
      }
    }
    return nil
  }

  /// `a."b.c".d` → ["a", "b.c", "d"]; stops at `]`, `=` or a comment.
  private static func keyPath(_ text: Substring) -> [String] {
    var parts: [String] = []
    var current = ""
    var quote: Character? = nil
    for character in text {
      if let open = quote {
        if character == open { quote = nil } else { current.append(character) }
        continue
      }
      switch character {
      case "\"", "'": quote = character
      case ".":
        parts.append(current)
        current = ""
      case " ", "\t": continue
      case "]", "=", "#":
        parts.append(current)
        return parts.filter { !$0.isEmpty }
      default: current.append(character)
      }
    }
    parts.append(current)
    return parts.filter { !$0.isEmpty }
  }

  /// `[` minus `]` outside strings and comments, for multi-line arrays.
  private static func bracketBalance(_ text: Substring, openMultiline: inout String?) -> Int {
    var depth = 0
    var quote: Character? = nil
    for character in text {
      if let open = quote {
        if character == open { quote = nil }
        continue
      }
      switch character {
      case "\"", "'": quote = character
      case "[": depth += 1
      case "]": depth -= 1
      case "#": return depth
      default: continue
      }
    }
    return depth
  }
}
