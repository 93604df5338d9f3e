import Storage

/// A validated configuration value, defaults filled in.
public enum ConfigValue: Sendable, Equatable {
  case string(String)
  case integer(Int)
  case boolean(Bool)
  case duration(Duration)
  case list([String])
  case table(ConfigTable)
  case namedTables([NamedTable])
  case tableList([ConfigTable])
}

/// One `[section.NAME]` table.
public struct NamedTable: Sendable, Equatable {
  public var name: String
  public var table: ConfigTable
}

/// A validated table: the schema's keys in the schema's order. Optional keys
/// that the file does not set are absent.
public struct ConfigTable: Sendable, Equatable {
  public var entries: [(key: String, value: ConfigValue)] = []

  public init() {}

  public subscript(key: String) -> ConfigValue? {
    get { entries.first { $0.key == key }?.value }
    set {
      if let index = entries.firstIndex(where: { $0.key == key }) {
        if let newValue { entries[index].value = newValue } else { entries.remove(at: index) }
      } else if let newValue {
        entries.append((key, newValue))
      }
    }
  }

  public func string(_ key: String) -> String? {
    if case .string(let value) = self[key] { return value }
    return nil
  }

  public func integer(_ key: String) -> Int? {
    if case .integer(let value) = self[key] { return value }
    return nil
  }

  public func boolean(_ key: String) -> Bool? {
    if case .boolean(let value) = self[key] { return value }
    return nil
  }

  public func duration(_ key: String) -> Duration? {
    if case .duration(let value) = self[key] { return value }
    return nil
  }

  public func list(_ key: String) -> [String]? {
    if case .list(let value) = self[key] { return value }
    return nil
  }

  public func table(_ key: String) -> ConfigTable {
    if case .table(let value) = self[key] { return value }
    return ConfigTable()
  }

  public func namedTables(_ key: String) -> [NamedTable] {
    if case .namedTables(let value) = self[key] { return value }
    return []
  }

  public func tableList(_ key: String) -> [ConfigTable] {
    if case .tableList(let value) = self[key] { return value }
    return []
  }

  public static func == (lhs: ConfigTable, rhs: ConfigTable) -> Bool {
    lhs.entries.count == rhs.entries.count
      && zip(lhs.entries, rhs.entries).allSatisfy { $0.key == $1.key && $0.value == $1.value }
  }
}
