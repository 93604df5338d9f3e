import Foundation
import Storage
import TOMLKit

/// Reads `opsdeck.toml`: parses it, substitutes `${ENV}` references, checks
/// every key against ``ConfigSchema`` and fills in defaults. The first
/// problem in file order is reported as one ``ConfigError``.
public struct ConfigLoader {
  public let environment: [String: String]
  /// Also check that the lifecycle templates exist and use only known
  /// variables (reads every template file: `config check` and `run`).
  public var checkTemplates = false

  public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
    self.environment = environment
  }

  /// The configuration with every default, for when there is no file.
  public func defaults() -> OpsDeckConfig {
    var table = ConfigTable()
    fillDefaults(ConfigSchema.root, into: &table)
    return OpsDeckConfig(table: table, source: nil)
  }

  public func load(file path: String) throws(ConfigError) -> OpsDeckConfig {
    let data: Data
    do {
      data = try Data(contentsOf: URL(fileURLWithPath: path))
    } catch {
      let reason = (error as NSError).localizedFailureReason ?? (error as NSError).localizedDescription
      throw ConfigError(file: path, message: "cannot read the configuration file: \(reason)")
    }
    guard let text = String(data: data, encoding: .utf8) else {
      throw ConfigError(file: path, message: "the configuration file is not UTF-8 text")
    }
    return try load(text: text, file: path)
  }

  public func load(text: String, file: String) throws(ConfigError) -> OpsDeckConfig {
    let document: TOMLTable
    do {
      document = try TOMLTable(string: text)
    } catch let error as TOMLParseError {
      throw ConfigError(
        file: file, line: error.source.begin.line, column: error.source.begin.column,
        message: "invalid TOML: \(error.description)")
    } catch {
      throw ConfigError(file: file, message: "invalid TOML: \(error)")
    }
    let locator = TOMLKeyLocator(text)
    var validator = Validator(file: file, locator: locator, environment: environment)
    let table = validator.table(document, schema: ConfigSchema.root, path: [])
    if validator.errors.isEmpty {
      for problem in ConfigChecks.problems(in: table, templates: checkTemplates) {
        validator.fail(problem.path, problem.message)
      }
    }
    if let first = validator.errors.min(by: { ($0.line ?? Int.max) < ($1.line ?? Int.max) }) { throw first }
    return OpsDeckConfig(table: table, source: file)
  }

  private func fillDefaults(_ schema: [ConfigKey], into table: inout ConfigTable) {
    for key in schema {
      if case .table(let keys) = key.kind {
        var nested = ConfigTable()
        fillDefaults(keys, into: &nested)
        table[key.name] = .table(nested)
      } else if case .namedTables = key.kind {
        table[key.name] = .namedTables([])
      } else if case .tableList = key.kind {
        table[key.name] = .tableList([])
      } else if let value = key.defaultValue {
        table[key.name] = value
      }
    }
  }
}

/// Walks a parsed document against the schema, collecting every error so
/// the loader can report the first one in the file.
private struct Validator {
  let file: String
  let locator: TOMLKeyLocator
  let environment: [String: String]
  var errors: [ConfigError] = []

  init(file: String, locator: TOMLKeyLocator, environment: [String: String]) {
    self.file = file
    self.locator = locator
    self.environment = environment
  }

  /// Keys the file wrote by an older name: the key's path → that name.
  var written: [String: String] = [:]

  /// An error at `path` (the schema's names), naming the keys as the file wrote them.
  mutating func fail(_ path: [String], _ message: String) {
    let shown = path.indices.map { written[path[...$0].joined(separator: ".")] ?? path[$0] }
    errors.append(
      ConfigError(file: file, line: locator.line(of: shown), key: shown.joined(separator: "."), message: message))
  }

  mutating func table(_ document: TOMLTable, schema: [ConfigKey], path: [String]) -> ConfigTable {
    var result = ConfigTable()
    let names = schema.map(\.name)
    // An older name is read only when the key's own name is not there.
    let known = names + schema.filter { document[$0.name] == nil }.flatMap(\.aliases)
    for name in document.keys where !known.contains(name) {
      var message = "unknown key"
      if let suggestion = Suggestion.closest(to: name, among: names) {
        message += " (did you mean '\(suggestion)'?)"
      } else if path.isEmpty {
        message += " (known sections: \(names.joined(separator: ", ")))"
      } else {
        message += " (known keys: \(names.joined(separator: ", ")))"
      }
      fail(path + [name], message)
    }
    for key in schema {
      let keyPath = path + [key.name]
      let name = ([key.name] + key.aliases).first { document[$0] != nil } ?? key.name
      if name != key.name { written[keyPath.joined(separator: ".")] = name }
      let raw = document[name]
      if case .table(let keys) = key.kind {
        if let raw, raw.type != .table {
          fail(keyPath, "expected a table ([\(keyPath.joined(separator: "."))]), got \(raw.type)")
          continue
        }
        result[key.name] = .table(table(raw?.table ?? TOMLTable(), schema: keys, path: keyPath))
        continue
      }
      if case .namedTables(let keys) = key.kind {
        guard let raw else {
          result[key.name] = .namedTables([])
          continue
        }
        guard raw.type == .table, let tables = raw.table else {
          fail(keyPath, "expected tables such as [\(key.name).NAME], got \(Self.describe(raw))")
          continue
        }
        var entries: [NamedTable] = []
        for name in tables.keys.sorted() {
          guard let entry = tables[name], entry.type == .table, let entryTable = entry.table else {
            fail(keyPath + [name], "expected a table [\(key.name).\(name)]")
            continue
          }
          entries.append(NamedTable(name: name, table: table(entryTable, schema: keys, path: keyPath + [name])))
        }
        result[key.name] = .namedTables(entries)
        continue
      }
      if case .tableList(let keys) = key.kind {
        guard let raw else {
          result[key.name] = .tableList([])
          continue
        }
        guard raw.type == .array, let array = raw.array else {
          fail(keyPath, "expected [[\(key.name)]] entries, got \(Self.describe(raw))")
          continue
        }
        var entries: [ConfigTable] = []
        for (index, element) in array.enumerated() {
          let elementPath = Array(keyPath.dropLast()) + ["\(key.name)[\(index)]"]
          guard element.type == .table, let entryTable = element.table else {
            fail(elementPath, "expected a table")
            continue
          }
          entries.append(table(entryTable, schema: keys, path: elementPath))
        }
        result[key.name] = .tableList(entries)
        continue
      }
      guard let raw else {
        if let value = key.defaultValue { result[key.name] = value }
        continue
      }
      if let value = scalar(raw, kind: key.kind, path: keyPath) {
        result[key.name] = value
      }
    }
    return result
  }

  mutating func scalar(_ raw: TOMLValueConvertible, kind: ConfigKind, path: [String]) -> ConfigValue? {
    func mismatch() -> ConfigValue? {
      fail(path, "expected \(kind.expectation), got \(Self.describe(raw))")
      return nil
    }
    switch kind {
    case .table, .namedTables, .tableList:
      return mismatch()
    case .boolean:
      guard raw.type == .bool, let value = raw.bool else { return mismatch() }
      return .boolean(value)
    case .integer(let range):
      guard raw.type == .int, let value = raw.int else { return mismatch() }
      guard range.contains(value) else {
        fail(path, "expected \(kind.expectation), got \(value)")
        return nil
      }
      return .integer(value)
    case .stringList:
      // A lone string is a list of one (`unless = "bank_connected"`).
      if raw.type == .string, let text = raw.string {
        guard let substituted = substitute(text, path: path) else { return nil }
        return .list([substituted])
      }
      guard raw.type == .array, let array = raw.array else { return mismatch() }
      var values: [String] = []
      for element in array {
        guard element.type == .string, let text = element.string else { return mismatch() }
        guard let substituted = substitute(text, path: path) else { return nil }
        values.append(substituted)
      }
      return .list(values)
    case .string, .secret, .duration, .choice, .url, .mailbox:
      guard raw.type == .string, let text = raw.string else { return mismatch() }
      guard let value = substitute(text, path: path) else { return nil }
      return checkString(value, kind: kind, path: path)
    }
  }

  mutating func substitute(_ text: String, path: [String]) -> String? {
    do {
      return try EnvironmentSubstitution.apply(text, environment: environment)
    } catch {
      fail(path, error.message)
      return nil
    }
  }

  mutating func checkString(_ value: String, kind: ConfigKind, path: [String]) -> ConfigValue? {
    let isSecret: Bool
    if case .secret = kind { isSecret = true } else { isSecret = false }
    let shown = isSecret ? "***" : "\"\(value)\""
    switch kind {
    case .duration:
      do {
        return .duration(try Duration(parsing: value))
      } catch {
        fail(path, "expected \(kind.expectation), got \(shown)")
        return nil
      }
    case .choice(let options):
      guard options.contains(value) else {
        var message = "expected \(kind.expectation), got \(shown)"
        if let suggestion = Suggestion.closest(to: value, among: options) {
          message += " (did you mean \"\(suggestion)\"?)"
        }
        fail(path, message)
        return nil
      }
    case .url(let schemes, let emptyTurnsOff):
      // "" switches off what the URL is for where the key allows it;
      // file:// names a path (no host); every other scheme needs a host.
      if value.isEmpty && emptyTurnsOff { break }
      guard let components = URLComponents(string: value), let scheme = components.scheme?.lowercased(),
        schemes.contains(scheme),
        scheme == "file" ? !components.path.isEmpty : !(components.host ?? "").isEmpty
      else {
        fail(path, "expected \(kind.expectation), got \"\(Redaction.url(value))\"")
        return nil
      }
    case .mailbox:
      guard Self.isMailbox(value) else {
        fail(path, "expected \(kind.expectation), got \(shown)")
        return nil
      }
    default:
      break
    }
    return .string(value)
  }

  static func isMailbox(_ text: String) -> Bool {
    var address = Substring(text.trimmingCharacters(in: .whitespaces))
    if address.hasSuffix(">"), let open = address.lastIndex(of: "<") {
      address = address[address.index(after: open)..<address.index(before: address.endIndex)]
    }
    let parts = address.split(separator: "@", omittingEmptySubsequences: false)
    return parts.count == 2 && !parts[0].isEmpty && !parts[1].isEmpty
      && !address.contains(where: { $0 == " " || $0 == "<" || $0 == ">" || $0.isNewline })
  }

  static func describe(_ raw: TOMLValueConvertible) -> String {
    switch raw.type {
    case .string: return "a string"
    case .int: return "an integer"
    case .double: return "a number"
    case .bool: return "a boolean"
    case .array: return "a list"
    case .table: return "a table"
    default: return "a date or time"
    }
  }
}
