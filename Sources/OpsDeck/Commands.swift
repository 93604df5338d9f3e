import Console
import Delivery
import Foundation
import GRDB
import Storage

#if canImport(Glibc)
  import Glibc
#endif

/// What `opsdeck init` did.
public struct InitReport: Codable, Sendable {
  public var database: String
  public var databaseCreated: Bool
  public var migrationsApplied: [String]
  public var config: String?
  public var configCreated: Bool

  enum CodingKeys: String, CodingKey {
    case database
    case databaseCreated = "database_created"
    case migrationsApplied = "migrations_applied"
    case config
    case configCreated = "config_created"
  }
}

/// What `opsdeck migrate` did.
public struct MigrateReport: Codable, Sendable {
  public var database: String
  public var applied: [String]
  public var total: Int

  enum CodingKeys: String, CodingKey {
    case database
    case applied
    case total
  }
}

/// `opsdeck status`: the database file and its schema.
public struct DatabaseStatus: Codable, Sendable {
  public var database: String
  public var sizeBytes: Int64
  public var mode: String
  public var readOnly: Bool
  public var journalMode: String
  public var migrationsApplied: Int
  public var migrationsPending: [String]
  public var createdAt: String?
  public var createdBy: String?
  public var config: String
  public var now: Date

  enum CodingKeys: String, CodingKey {
    case database
    case sizeBytes = "size_bytes"
    case mode
    case readOnly = "read_only"
    case journalMode = "journal_mode"
    case migrationsApplied = "migrations_applied"
    case migrationsPending = "migrations_pending"
    case createdAt = "created_at"
    case createdBy = "created_by"
    case config
    case now
  }
}

/// `opsdeck version`: this binary and the libraries it runs on.
public struct VersionInfo: Codable, Sendable {
  public var opsdeck: String
  public var sqlite: String
  public var libcurl: String
  public var ncurses: String
}

extension Runtime {
  /// Creates (or reuses) the database and, unless told not to, writes the
  /// example configuration where the config is looked for. Running it twice
  /// changes nothing.
  public func initialize(writeConfig: Bool) throws -> InitReport {
    let store = try Store.open(
      path: databasePath, access: .readWrite, create: true, busyTimeout: config.database.busyTimeout)
    let applied = try store.migrate(Self.migrations, now: clock.now(), version: Self.version)
    try store.recordMetaOnce("created_at", Timestamp.format(clock.now()))
    try store.recordMetaOnce("created_by", "opsdeck \(Self.version)")
    var configCreated = false
    if writeConfig && !FileManager.default.fileExists(atPath: configPath) {
      configCreated = try Self.writeNewFile(configPath, contents: ConfigRendering.example())
    }
    return InitReport(
      database: databasePath, databaseCreated: store.created,
      migrationsApplied: applied,
      config: writeConfig ? configPath : nil, configCreated: configCreated)
  }

  public func migrate() throws -> MigrateReport {
    let store = try Store.open(path: databasePath, access: .readWrite, busyTimeout: config.database.busyTimeout)
    let applied = try store.migrate(Self.migrations, now: clock.now(), version: Self.version)
    return MigrateReport(database: databasePath, applied: applied, total: Self.migrations.all.count)
  }

  public func status() throws -> DatabaseStatus {
    let store = try Store.open(
      path: databasePath, access: .readWriteIfPossible, busyTimeout: config.database.busyTimeout)
    let schema = try store.schemaStatus(Self.migrations)
    if !schema.unknown.isEmpty { throw StoreError.newerSchema(path: databasePath, unknownMigrations: schema.unknown) }
    let meta = try store.meta()
    var info = stat()
    _ = stat(databasePath, &info)
    let journal = try store.pool.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") } ?? "?"
    return DatabaseStatus(
      database: databasePath, sizeBytes: Int64(info.st_size),
      mode: String(info.st_mode & 0o777, radix: 8), readOnly: store.isReadOnly, journalMode: journal,
      migrationsApplied: schema.applied.count, migrationsPending: schema.pending,
      createdAt: meta["created_at"], createdBy: meta["created_by"],
      config: FileManager.default.fileExists(atPath: configPath) ? configPath : "built-in defaults",
      now: clock.now())
  }

  public static func versionInfo() throws -> VersionInfo {
    let sqlite = try DatabaseQueue().read { db in try String.fetchOne(db, sql: "SELECT sqlite_version()") } ?? "?"
    return VersionInfo(
      opsdeck: version, sqlite: sqlite, libcurl: CurlLibrary.version, ncurses: NCursesLibrary.version)
  }

  /// Writes a file that must not exist yet, mode 0600; false when another
  /// process created it first.
  static func writeNewFile(_ path: String, contents: String) throws -> Bool {
    let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
    guard fd >= 0 else {
      if errno == EEXIST { return false }
      throw OptionError(message: "cannot create \(path): \(String(cString: strerror(errno)))")
    }
    defer { close(fd) }
    let bytes = Array(contents.utf8)
    var written = 0
    while written < bytes.count {
      let count = bytes[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
      guard count > 0 else { throw OptionError(message: "cannot write \(path): \(String(cString: strerror(errno)))") }
      written += count
    }
    return true
  }
}
