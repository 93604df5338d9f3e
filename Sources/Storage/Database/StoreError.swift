/// Why a database file could not be opened or brought up to date. Each case
/// names the path, so the one line the CLI prints is enough to act on.
public enum StoreError: ReportableError, Equatable {
  case missing(path: String)
  case directoryMissing(path: String, directory: String)
  case notAFile(path: String)
  case notADatabase(path: String)
  case foreignDatabase(path: String, tables: [String])
  case unreadable(path: String, reason: String)
  case readOnly(path: String, reason: String)
  case newerSchema(path: String, unknownMigrations: [String])
  case needsMigration(path: String, pending: Int)
  case corrupt(path: String, reason: String)
  case sqlite(path: String, reason: String)

  public var description: String {
    switch self {
    case .missing(let path):
      return "no database at \(path) (run 'opsdeck --db \(path) init' to create one)"
    case .directoryMissing(let path, let directory):
      return "cannot create database \(path): directory \(directory) does not exist"
    case .notAFile(let path):
      return "\(path) is not a regular file"
    case .notADatabase(let path):
      return "\(path) is not an SQLite database"
    case .foreignDatabase(let path, let tables):
      let shown = tables.prefix(3).joined(separator: ", ") + (tables.count > 3 ? ", …" : "")
      return "\(path) is an SQLite database that opsdeck did not create (tables: \(shown)); refusing to change it"
    case .unreadable(let path, let reason):
      return "cannot read \(path): \(reason)"
    case .readOnly(let path, let reason):
      return "cannot write \(path): \(reason)"
    case .newerSchema(let path, let unknown):
      let shown = unknown.prefix(3).joined(separator: ", ") + (unknown.count > 3 ? ", …" : "")
      return "\(path) was migrated by a newer opsdeck (unknown migrations: \(shown)); upgrade opsdeck to use it"
    case .needsMigration(let path, let pending):
      return "\(path) needs \(pending) migration\(pending == 1 ? "" : "s") (run 'opsdeck --db \(path) migrate')"
    case .corrupt(let path, let reason):
      return "\(path) is damaged: \(reason)"
    case .sqlite(let path, let reason):
      return "\(path): \(reason)"
    }
  }

  public var isBadInput: Bool {
    switch self {
    case .missing, .directoryMissing, .notAFile, .notADatabase, .foreignDatabase: return true
    default: return false
    }
  }
}
