import GRDB

/// A statement prepared once for the writer connection and reused, for the
/// few statements that run once per job. `db.cachedStatement(sql:)` hashes
/// the whole SQL text on every call; on a one-row transaction that is
/// measurable (see `make bench`).
///
/// Use one instance per `Store` and only inside that store's writes: the
/// writer serialises them, which is what makes the unchecked `Sendable`
/// sound.
public final class PreparedStatement: @unchecked Sendable {
  public let sql: String
  private var connection: OpaquePointer?
  private var statement: Statement?

  public init(_ sql: String) {
    self.sql = sql
  }

  public func statement(_ db: GRDB.Database) throws -> Statement {
    if let statement, connection == db.sqliteConnection { return statement }
    let made = try db.makeStatement(sql: sql)
    statement = made
    connection = db.sqliteConnection
    return made
  }
}
