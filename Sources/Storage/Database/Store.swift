import Foundation
import GRDB
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// The one SQLite file every engine and every process shares: a GRDB
/// `DatabasePool` in WAL mode with `synchronous=NORMAL`, a busy timeout and
/// foreign keys on. New files are created with mode 0600.
public final class Store: Sendable {
  public enum Access: Sendable {
    /// Open for reading and writing; fail if the file cannot be written.
    case readWrite
    /// Open for viewing only.
    case readOnly
    /// Read-write when the file allows it, otherwise read-only (for viewing).
    case readWriteIfPossible
  }

  /// `PRAGMA application_id` of every opsdeck database: "OPSD".
  public static let applicationID: Int32 = 0x4F50_5344
  public static let defaultBusyTimeout: Duration = .seconds(5)

  public let path: String
  public let pool: DatabasePool
  private let rawStatements = Mutex<[RawStatement]>([])
  public let isReadOnly: Bool
  /// True when this open created the file.
  public let created: Bool

  private let rawTransaction: (begin: RawStatement, commit: RawStatement)

  private init(path: String, pool: DatabasePool, isReadOnly: Bool, created: Bool) {
    self.path = path
    self.pool = pool
    self.isReadOnly = isReadOnly
    self.created = created
    let begin = RawStatement("BEGIN IMMEDIATE")
    let commit = RawStatement("COMMIT")
    rawTransaction = (begin, commit)
    rawStatements.withLock { $0 = [begin, commit] }
  }

  /// Opens (and with `create`, creates) the database at `path`. Nothing is
  /// written to a file that is not an SQLite database.
  public static func open(
    path: String,
    access: Access = .readWrite,
    create: Bool = false,
    busyTimeout: Duration = defaultBusyTimeout
  ) throws(StoreError) -> Store {
    var created = false
    switch try inspect(path) {
    case .missing:
      guard create else { throw .missing(path: path) }
      guard access != .readOnly else { throw .missing(path: path) }
      try createEmptyFile(path)
      created = true
    case .empty, .sqlite:
      break
    }
    let readOnly: Bool
    switch access {
    case .readOnly: readOnly = true
    case .readWrite:
      if let reason = unwritableReason(path) { throw .readOnly(path: path, reason: reason) }
      readOnly = false
    case .readWriteIfPossible:
      readOnly = unwritableReason(path) != nil
    }

    var configuration = Configuration()
    configuration.readonly = readOnly
    configuration.foreignKeysEnabled = true
    configuration.busyMode = .timeout(busyTimeout.timeInterval)
    configuration.label = "opsdeck"
    configuration.prepareDatabase { db in
      if !db.configuration.readonly {
        try db.execute(sql: "PRAGMA synchronous = NORMAL")
      }
    }
    // A viewer that may not create the -shm file next to a file no process
    // has open (no -wal file) reads it as immutable: nothing can change it.
    var sqlitePath = path
    if readOnly && unwritableReason(path) != nil && Glibc.access(path + "-wal", F_OK) != 0
      && Glibc.access(path + "-shm", R_OK) != 0
    {
      sqlitePath = "file:" + uriEscaped(path) + "?immutable=1"
    }
    // Switching a new file to WAL needs an exclusive lock, and SQLite does
    // not call the busy handler for it: when two processes open a new file
    // at once, one gets SQLITE_BUSY at once. Retry that, within the timeout.
    let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(max(busyTimeout.milliseconds, 0)) * 1_000_000
    var pause: UInt32 = 2_000
    while true {
      do {
        let pool = try DatabasePool(path: sqlitePath, configuration: configuration)
        // Touch the file so that a damaged header is reported here, not later.
        _ = try pool.read { db in try Int.fetchOne(db, sql: "PRAGMA schema_version") }
        return Store(path: path, pool: pool, isReadOnly: readOnly, created: created)
      } catch let error as DatabaseError
        where error.resultCode == .SQLITE_BUSY && DispatchTime.now().uptimeNanoseconds < deadline
      {
        usleep(pause)
        pause = min(pause * 2, 50_000)
      } catch {
        throw translate(error, path: path)
      }
    }
  }

  deinit {
    // Raw statements must be finalised while the connection is open.
    let statements = rawStatements.withLock { $0 }
    if !statements.isEmpty {
      try? pool.writeWithoutTransaction { _ in for statement in statements { statement.finalize() } }
    }
  }

  /// A statement for ``RawStatement``'s fast path, finalised with the store.
  public func rawStatement(_ sql: String) -> RawStatement {
    let statement = RawStatement(sql)
    rawStatements.withLock { $0.append(statement) }
    return statement
  }

  // MARK: - Transactions

  /// Runs `body` in one `BEGIN IMMEDIATE` transaction on the writer:
  /// committed when it returns, rolled back when it throws. The engines'
  /// writes use it rather than `pool.write`, whose bookkeeping costs a third
  /// of a one-row transaction; BEGIN and COMMIT are ``RawStatement``s for the
  /// same reason (see `make bench`).
  public func writeTransaction<T>(_ body: (GRDB.Database) throws -> T) throws -> T {
    try pool.writeWithoutTransaction { db in
      try rawTransaction.begin.run(db)
      let result: T
      do {
        result = try body(db)
        try rawTransaction.commit.run(db)
      } catch {
        if !db.isInsideTransaction { throw error }
        try? db.execute(sql: "ROLLBACK")
        throw error
      }
      return result
    }
  }

  // MARK: - Schema

  public func schemaStatus(_ migrations: Migrations) throws(StoreError) -> SchemaStatus {
    do {
      return try pool.read { db in try migrations.status(db) }
    } catch {
      throw Self.translate(error, path: path)
    }
  }

  /// Fails unless every migration this binary knows is applied and none it
  /// does not know is: what a command that reads or writes engine tables needs.
  public func requireCurrentSchema(_ migrations: Migrations) throws(StoreError) {
    let status = try schemaStatus(migrations)
    if !status.unknown.isEmpty { throw .newerSchema(path: path, unknownMigrations: status.unknown) }
    if !status.pending.isEmpty { throw .needsMigration(path: path, pending: status.pending.count) }
  }

  /// Applies pending migrations in one immediate transaction and returns the
  /// ids applied (empty when the file was already current).
  @discardableResult
  public func migrate(_ migrations: Migrations, now: Date, version: String) throws(StoreError) -> [String] {
    let status = try schemaStatus(migrations)
    if !status.unknown.isEmpty { throw .newerSchema(path: path, unknownMigrations: status.unknown) }
    if status.pending.isEmpty { return [] }
    if isReadOnly { throw .readOnly(path: path, reason: "opened read-only") }
    do {
      return try pool.writeWithoutTransaction { db in
        var applied: [String] = []
        try db.inTransaction(.immediate) {
          try Self.claimForOpsDeck(db, path: path)
          applied = try migrations.apply(db, path: path, at: now, version: version)
          return .commit
        }
        return applied
      }
    } catch {
      throw Self.translate(error, path: path)
    }
  }

  /// Refuses a file that another application made; marks ours.
  private static func claimForOpsDeck(_ db: GRDB.Database, path: String) throws {
    let id = try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0
    if id == applicationID { return }
    let tables = try String.fetchAll(
      db,
      sql: """
        SELECT name FROM sqlite_master
        WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> ?
        ORDER BY name
        """,
      arguments: [Migrations.table])
    let ours = try db.tableExists(Migrations.table)
    if id != 0 || (!tables.isEmpty && !ours) {
      throw StoreError.foreignDatabase(path: path, tables: tables.isEmpty ? ["application_id \(id)"] : tables)
    }
    try db.execute(sql: "PRAGMA application_id = \(applicationID)")
  }

  // MARK: - Files

  private enum FileState { case missing, empty, sqlite }

  private static let sqliteHeader = Array("SQLite format 3\0".utf8)

  /// Looks at the file before SQLite does, so that a text file handed in by
  /// mistake (`--db /etc/passwd`) is refused without being touched.
  private static func inspect(_ path: String) throws(StoreError) -> FileState {
    var info = stat()
    guard stat(path, &info) == 0 else {
      let code = errno
      if code == ENOENT {
        let directory = (path as NSString).deletingLastPathComponent
        let parent = directory.isEmpty ? "." : directory
        var parentInfo = stat()
        if stat(parent, &parentInfo) != 0 { throw .directoryMissing(path: path, directory: parent) }
        return .missing
      }
      throw .unreadable(path: path, reason: String(cString: strerror(code)))
    }
    guard (info.st_mode & S_IFMT) == S_IFREG else { throw .notAFile(path: path) }
    if info.st_size == 0 { return .empty }
    let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
    defer { close(fd) }
    var header = [UInt8](repeating: 0, count: 16)
    let count = read(fd, &header, 16)
    guard count == 16, header == sqliteHeader else { throw .notADatabase(path: path) }
    return .sqlite
  }

  private static func createEmptyFile(_ path: String) throws(StoreError) {
    let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
    guard fd >= 0 else {
      let code = errno
      if code == EEXIST { return }  // another process won the race: fine
      throw .readOnly(path: path, reason: String(cString: strerror(code)))
    }
    close(fd)
  }

  /// Why the file cannot be written in WAL mode, or nil when it can: the
  /// file itself and its directory (for the -wal and -shm files).
  private static func unwritableReason(_ path: String) -> String? {
    if access(path, W_OK) != 0 { return String(cString: strerror(errno)) }
    let directory = (path as NSString).deletingLastPathComponent
    let parent = directory.isEmpty ? "." : directory
    if access(parent, W_OK) != 0 {
      let walExists = access(path + "-wal", W_OK) == 0 && access(path + "-shm", W_OK) == 0
      if !walExists { return "directory \(parent) is not writable (\(String(cString: strerror(errno))))" }
    }
    return nil
  }

  /// A path as the path part of an SQLite `file:` URI.
  private static func uriEscaped(_ path: String) -> String {
    var allowed = CharacterSet.urlPathAllowed
    allowed.remove(charactersIn: "?#%")
    let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    return absolute.addingPercentEncoding(withAllowedCharacters: allowed) ?? absolute
  }

  public static func translate(_ error: any Error, path: String) -> StoreError {
    if let error = error as? StoreError { return error }
    guard let error = error as? DatabaseError else {
      return .sqlite(path: path, reason: "\(error)")
    }
    let message = error.message ?? "\(error.resultCode)"
    switch error.resultCode {
    case .SQLITE_NOTADB: return .notADatabase(path: path)
    case .SQLITE_CORRUPT: return .corrupt(path: path, reason: message)
    case .SQLITE_READONLY, .SQLITE_PERM: return .readOnly(path: path, reason: message)
    case .SQLITE_CANTOPEN: return .unreadable(path: path, reason: message)
    case .SQLITE_BUSY: return .sqlite(path: path, reason: "database is locked by another process")
    default: return .sqlite(path: path, reason: message)
    }
  }
}
