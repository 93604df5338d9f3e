import Foundation
import Storage

/// Writes configuration as TOML: the effective configuration that `config
/// check` prints (secrets as `***`), and the documented example file that
/// `init` writes and `data/opsdeck.example.toml` holds.
public enum ConfigRendering {
  /// The example file, generated from ``ConfigSchema`` so that it, the
  /// README and the loader can never disagree.
  public static func example() -> String {
    var lines = [
      "# opsdeck configuration. Every key is optional: the values shown are the",
      "# defaults. Strings may use ${ENV_VAR} (or ${ENV_VAR:-fallback}); keep",
      "# secrets in the environment, never in this file. `opsdeck config check`",
      "# validates a file and prints the effective configuration.",
    ]
    for key in ConfigSchema.root { exampleLines(key, path: [], into: &lines) }
    return lines.joined(separator: "\n") + "\n"
  }

  private static func exampleLines(_ key: ConfigKey, path: [String], into lines: inout [String]) {
    let keyPath = path + [key.name]
    if case .namedTables(let keys) = key.kind {
      lines.append("")
      lines.append(contentsOf: wrap(key.doc))
      entryLines(keys, example: key.example, into: &lines)
      return
    }
    if case .tableList(let keys) = key.kind {
      lines.append("")
      lines.append(contentsOf: wrap(key.doc))
      entryLines(keys, example: key.example, into: &lines)
      return
    }
    if case .table(let keys) = key.kind {
      lines.append("")
      lines.append(contentsOf: wrap(key.doc))
      lines.append("[\(keyPath.joined(separator: "."))]")
      for child in keys where !child.isTable { exampleLines(child, path: keyPath, into: &lines) }
      for child in keys where child.isTable { exampleLines(child, path: keyPath, into: &lines) }
      return
    }
    lines.append(contentsOf: wrap(key.doc))
    if let value = key.defaultValue {
      if let example = key.example { lines.append("# for example: \(bareKey(key.name)) = \(example)") }
      lines.append("\(bareKey(key.name)) = \(literal(value))")
    } else {
      lines.append("# \(bareKey(key.name)) = \(key.example ?? "\"\"")")
    }
  }

  /// The keys of each entry, then a commented sample entry.
  private static func entryLines(_ keys: [ConfigKey], example: String?, into lines: inout [String]) {
    for key in keys {
      lines.append(contentsOf: wrap("\(key.name): \(key.doc)", prefix: "#   ", continuation: "#     "))
    }
    lines.append(contentsOf: (example ?? "").split(separator: "\n").map { "# " + $0 })
  }

  private static func wrap(_ text: String, width: Int = 78, prefix: String = "#", continuation: String = "#")
    -> [String]
  {
    var lines: [String] = []
    var current = prefix.hasSuffix(" ") ? String(prefix.dropLast()) : prefix
    for word in text.split(separator: " ") {
      if current.count + 1 + word.count > width {
        lines.append(current)
        current = continuation.hasSuffix(" ") ? String(continuation.dropLast()) : continuation
      }
      current += " " + word
    }
    lines.append(current)
    return lines
  }

  /// The effective configuration; secrets shown as `***`.
  public static func effective(_ config: OpsDeckConfig) -> String {
    var lines: [String] = []
    lines.append(
      "# effective configuration from \(config.source ?? "built-in defaults"); secrets shown as \(Redaction.mask)")
    var scalars: [String] = []
    var sections: [String] = []
    render(config.table, schema: ConfigSchema.root, path: [], scalars: &scalars, sections: &sections)
    lines.append(contentsOf: scalars)
    lines.append(contentsOf: sections)
    return TerminalText.sanitize(lines.joined(separator: "\n"), keepNewlines: true) + "\n"
  }

  private static func render(
    _ table: ConfigTable, schema: [ConfigKey], path: [String], scalars: inout [String], sections: inout [String]
  ) {
    for key in schema {
      guard let value = table[key.name] else { continue }
      if case .namedTables(let keys) = key.kind, case .namedTables(let entries) = value {
        for entry in entries {
          var nestedScalars: [String] = []
          var nestedSections: [String] = []
          render(
            entry.table, schema: keys, path: path + [key.name, entry.name], scalars: &nestedScalars,
            sections: &nestedSections)
          sections.append("")
          sections.append("[\((path + [key.name, entry.name]).map(bareKey).joined(separator: "."))]")
          sections.append(contentsOf: nestedScalars)
          sections.append(contentsOf: nestedSections)
        }
      } else if case .tableList(let keys) = key.kind, case .tableList(let entries) = value {
        for entry in entries {
          var nestedScalars: [String] = []
          var nestedSections: [String] = []
          render(entry, schema: keys, path: path + [key.name], scalars: &nestedScalars, sections: &nestedSections)
          sections.append("")
          sections.append("[[\((path + [key.name]).map(bareKey).joined(separator: "."))]]")
          sections.append(contentsOf: nestedScalars)
          sections.append(contentsOf: nestedSections)
        }
      } else if case .table(let keys) = key.kind, case .table(let nested) = value {
        let keyPath = path + [key.name]
        var nestedScalars: [String] = []
        var nestedSections: [String] = []
        render(nested, schema: keys, path: keyPath, scalars: &nestedScalars, sections: &nestedSections)
        sections.append("")
        sections.append("[\(keyPath.map(bareKey).joined(separator: "."))]")
        sections.append(contentsOf: nestedScalars)
        sections.append(contentsOf: nestedSections)
      } else {
        scalars.append("\(bareKey(key.name)) = \(literal(redacted(value, kind: key.kind)))")
      }
    }
  }

  /// What may be shown of a value of this kind.
  public static func redacted(_ value: ConfigValue, kind: ConfigKind) -> ConfigValue {
    switch (kind, value) {
    case (.secret, .string(let text)): return .string(text.isEmpty ? "" : Redaction.mask)
    case (.url, .string(let text)): return .string(Redaction.url(text))
    default: return value
    }
  }

  static func literal(_ value: ConfigValue) -> String {
    switch value {
    case .string(let text): return quoted(text)
    case .integer(let number): return String(number)
    case .boolean(let flag): return flag ? "true" : "false"
    case .duration(let duration): return quoted(duration.compactText)
    case .list(let items): return "[" + items.map(quoted).joined(separator: ", ") + "]"
    case .table, .namedTables, .tableList: return "{}"
    }
  }

  static func quoted(_ text: String) -> String {
    var output = "\""
    for scalar in text.unicodeScalars {
      switch scalar {
      case "\"": output += "\\\""
      case "\\": output += "\\\\"
      case "\n": output += "\\n"
      case "\t": output += "\\t"
      case "\r": output += "\\r"
      default:
        if scalar.value < 0x20 || scalar.value == 0x7F {
          output += String(format: "\\u%04X", scalar.value)
        } else {
          output.unicodeScalars.append(scalar)
        }
      }
    }
    return output + "\""
  }

  static func bareKey(_ key: String) -> String {
    let isBare = !key.isEmpty && key.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }
    return isBare ? key : quoted(key)
  }
}

extension ConfigKey {
  var isTable: Bool {
    if case .table = kind { return true }
    return false
  }
}

extension ConfigRendering {
  /// The effective configuration as a JSON object, secrets as `***`.
  public static func json(_ config: OpsDeckConfig) throws -> String {
    let object = jsonObject(config.table, schema: ConfigSchema.root)
    let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
    return String(decoding: data, as: UTF8.self)
  }

  private static func jsonObject(_ table: ConfigTable, schema: [ConfigKey]) -> [String: Any] {
    var object: [String: Any] = [:]
    for key in schema {
      guard let value = table[key.name] else { continue }
      switch (key.kind, redacted(value, kind: key.kind)) {
      case (.table(let keys), .table(let nested)): object[key.name] = jsonObject(nested, schema: keys)
      case (.namedTables(let keys), .namedTables(let entries)):
        object[key.name] = Dictionary(
          uniqueKeysWithValues: entries.map { ($0.name, jsonObject($0.table, schema: keys) as Any) })
      case (.tableList(let keys), .tableList(let entries)):
        object[key.name] = entries.map { jsonObject($0, schema: keys) }
      case (_, .string(let text)): object[key.name] = text
      case (_, .integer(let number)): object[key.name] = number
      case (_, .boolean(let flag)): object[key.name] = flag
      case (_, .duration(let duration)): object[key.name] = duration.compactText
      case (_, .list(let items)): object[key.name] = items
      case (_, .table), (_, .namedTables), (_, .tableList): continue
      }
    }
    return object
  }
}
