import GRDB
import GRDBSQLite

/// A statement driven through SQLite's C API on the writer connection of a
/// `Store`: the one place opsdeck calls that API. It exists for the job
/// added one at a time, where GRDB's per-statement bookkeeping is a sixth
/// of the whole transaction (`make bench` prints both figures). Everything
/// else goes through GRDB.
///
/// Make it with ``Store/rawStatement(_:)`` and use it only inside that
/// store's writes: the writer serialises them, which is what makes the
/// unchecked `Sendable` sound. The store finalises it before it closes.
public final class RawStatement: @unchecked Sendable {
  public let sql: String
  private var handle: OpaquePointer?
  private var connection: OpaquePointer?
  private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

  init(_ sql: String) {
    self.sql = sql
  }

  private func prepared(_ db: GRDB.Database) throws -> OpaquePointer {
    if let handle, connection == db.sqliteConnection { return handle }
    finalize()
    var made: OpaquePointer?
    let code = sqlite3_prepare_v3(db.sqliteConnection, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &made, nil)
    guard code == SQLITE_OK, let made else { throw Self.error(db, code) }
    handle = made
    connection = db.sqliteConnection
    return made
  }

  /// Binds parameter `index` (1-based) for the next ``run(_:)``.
  public func bind(_ db: GRDB.Database, _ index: Int32, _ value: Int64) throws {
    sqlite3_bind_int64(try prepared(db), index, value)
  }

  public func bind(_ db: GRDB.Database, _ index: Int32, _ value: Int64?) throws {
    let statement = try prepared(db)
    if let value { sqlite3_bind_int64(statement, index, value) } else { sqlite3_bind_null(statement, index) }
  }

  public func bind(_ db: GRDB.Database, _ index: Int32, _ value: String?) throws {
    let statement = try prepared(db)
    if let value {
      sqlite3_bind_text(statement, index, value, -1, Self.transient)
    } else {
      sqlite3_bind_null(statement, index)
    }
  }

  /// Runs the statement with what is bound, to its end; then clears the
  /// bindings.
  public func run(_ db: GRDB.Database) throws {
    let statement = try prepared(db)
    defer {
      sqlite3_reset(statement)
      sqlite3_clear_bindings(statement)
    }
    var code = sqlite3_step(statement)
    while code == SQLITE_ROW { code = sqlite3_step(statement) }
    guard code == SQLITE_DONE else { throw Self.error(db, code) }
  }

  /// Runs the statement and returns the first row's first column as an
  /// integer (nil without a row); then clears the bindings.
  public func firstInt64(_ db: GRDB.Database) throws -> Int64? {
    let statement = try prepared(db)
    defer {
      sqlite3_reset(statement)
      sqlite3_clear_bindings(statement)
    }
    let code = sqlite3_step(statement)
    if code == SQLITE_ROW { return sqlite3_column_int64(statement, 0) }
    guard code == SQLITE_DONE else { throw Self.error(db, code) }
    return nil
  }

  func finalize() {
    if let handle { sqlite3_finalize(handle) }
    handle = nil
    connection = nil
  }

  static func error(_ db: GRDB.Database, _ code: Int32) -> DatabaseError {
    let extended = sqlite3_extended_errcode(db.sqliteConnection)
    let message = sqlite3_errmsg(db.sqliteConnection).map { String(cString: $0) }
    return DatabaseError(resultCode: ResultCode(rawValue: extended == 0 ? code : extended), message: message)
  }
}

extension RawStatement {
  /// Runs `sql` on any connection (a reader's too) and hands each row's
  /// first `columns` columns, as integers, to `body`: for scans of millions
  /// of rows, where a row object per row would cost more than the scan.
  public static func scanIntegers(
    _ db: GRDB.Database, sql: String, arguments: StatementArguments = [], columns: Int32,
    _ body: (UnsafeBufferPointer<Int64>) -> Void
  ) throws {
    try scanBlobs(db, sql: sql, arguments: arguments, integers: columns, blobs: 0) { values, _ in body(values) }
  }
}

extension RawStatement {
  /// Binds text straight from bytes, without a copy: they must stay where
  /// they are, unchanged, until the next ``run(_:)`` (which clears them).
  public func bind(_ db: GRDB.Database, _ index: Int32, text bytes: UnsafeBufferPointer<UInt8>) throws {
    let statement = try prepared(db)
    // A zero-length text is still text, not NULL: SQLite wants a non-null pointer for it.
    guard let base = bytes.baseAddress, bytes.count > 0 else {
      sqlite3_bind_text(statement, index, "", 0, nil)
      return
    }
    sqlite3_bind_text(
      statement, index, UnsafeRawPointer(base).assumingMemoryBound(to: CChar.self), Int32(bytes.count), nil)
  }

  public func bindNull(_ db: GRDB.Database, _ index: Int32) throws {
    sqlite3_bind_null(try prepared(db), index)
  }
}

extension RawStatement {
  /// Runs `sql` on any connection and hands each row's columns to `body`
  /// without copying them: the first `integers` as integers, the next
  /// `blobs` as the bytes SQLite holds (valid only during the call). For
  /// reading column blocks of millions of values.
  public static func scanBlobs(
    _ db: GRDB.Database, sql: String, arguments: StatementArguments = [], integers: Int32, blobs: Int32,
    _ body: (UnsafeBufferPointer<Int64>, [UnsafeRawBufferPointer]) throws -> Void
  ) throws {
    let statement = try db.makeStatement(sql: sql)
    try statement.setArguments(arguments)
    let handle = statement.sqliteStatement
    defer { sqlite3_reset(handle) }
    var values = [Int64](repeating: 0, count: Int(integers))
    var bytes = [UnsafeRawBufferPointer](repeating: UnsafeRawBufferPointer(start: nil, count: 0), count: Int(blobs))
    var code = sqlite3_step(handle)
    while code == SQLITE_ROW {
      for column in 0..<integers { values[Int(column)] = sqlite3_column_int64(handle, column) }
      for blob in 0..<blobs {
        let column = integers + blob
        let start = sqlite3_column_blob(handle, column)
        let count = Int(sqlite3_column_bytes(handle, column))
        bytes[Int(blob)] = UnsafeRawBufferPointer(start: start, count: start == nil ? 0 : count)
      }
      try values.withUnsafeBufferPointer { try body($0, bytes) }
      code = sqlite3_step(handle)
    }
    guard code == SQLITE_DONE else { throw error(db, code) }
  }
}
