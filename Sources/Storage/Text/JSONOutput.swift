import Foundation

/// How every `--json` listing is written: UTC ISO-8601 times with `Z`,
/// keys sorted so output diffs cleanly. Keys are snake_case through each
/// type's `CodingKeys`, not a key strategy: a strategy would also rewrite
/// the keys inside a job's data.
public enum JSONOutput {
  public static func encoder(pretty: Bool = false) -> JSONEncoder {
    let encoder = JSONEncoder()
    encoder.dateEncodingStrategy = .custom { date, encoder in
      var container = encoder.singleValueContainer()
      try container.encode(Timestamp.format(date))
    }
    encoder.outputFormatting =
      pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
    return encoder
  }

  public static func string<T: Encodable>(_ value: T, pretty: Bool = false) throws -> String {
    String(decoding: try encoder(pretty: pretty).encode(value), as: UTF8.self)
  }
}

extension JSONOutput {
  /// A string-to-string object as compact JSON with sorted keys: what
  /// `string(_:)` writes for it, without JSONEncoder's cost (label sets on
  /// hot paths).
  public static func object(_ members: [String: String]) -> String {
    var text = "{"
    for (index, key) in members.keys.sorted().enumerated() {
      if index > 0 { text += "," }
      quote(key, into: &text)
      text += ":"
      quote(members[key]!, into: &text)
    }
    return text + "}"
  }

  static func quote(_ value: String, into text: inout String) {
    text += "\""
    for scalar in value.unicodeScalars {
      switch scalar {
      case "\"": text += "\\\""
      case "\\": text += "\\\\"
      case "\n": text += "\\n"
      case "\r": text += "\\r"
      case "\t": text += "\\t"
      case _ where scalar.value < 0x20:
        let hex = String(scalar.value, radix: 16)
        text += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
      default: text.unicodeScalars.append(scalar)
      }
    }
    text += "\""
  }
}

extension JSONOutput {
  /// Reads back a flat string-to-string object (what ``object(_:)``
  /// writes) without JSONSerialization's cost; anything else goes to
  /// JSONSerialization. Nil when it is not such an object.
  public static func parseObject(_ text: String) -> [String: String]? {
    var result: [String: String] = [:]
    var scalars = text.unicodeScalars[...]
    func skipSpace() {
      while let first = scalars.first, first == " " || first == "\n" || first == "\t" || first == "\r" {
        scalars.removeFirst()
      }
    }
    func string() -> String? {
      guard scalars.first == "\"" else { return nil }
      scalars.removeFirst()
      var value = String.UnicodeScalarView()
      while let scalar = scalars.popFirst() {
        switch scalar {
        case "\"": return String(value)
        case "\\":
          guard let escaped = scalars.popFirst() else { return nil }
          switch escaped {
          case "\"", "\\", "/": value.append(escaped)
          case "n": value.append("\n")
          case "r": value.append("\r")
          case "t": value.append("\t")
          default: return nil  // \u and the rest: the slow path
          }
        default: value.append(scalar)
        }
      }
      return nil
    }
    skipSpace()
    guard scalars.popFirst() == "{" else { return fallback(text) }
    skipSpace()
    if scalars.first == "}" { return [:] }
    while true {
      skipSpace()
      guard let key = string() else { return fallback(text) }
      skipSpace()
      guard scalars.popFirst() == ":" else { return fallback(text) }
      skipSpace()
      guard let value = string() else { return fallback(text) }
      result[key] = value
      skipSpace()
      switch scalars.popFirst() {
      case ",": continue
      case "}": return result
      default: return fallback(text)
      }
    }
  }

  private static func fallback(_ text: String) -> [String: String]? {
    (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: String]
  }
}
