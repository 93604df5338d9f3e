import Foundation
import GRDB

/// One schema change, owned by the module whose tables it touches. Ids are
/// `module.NNN_what` (`storage.001_meta`, `scheduler.001_jobs`) and are never
/// renamed once released: the ids applied to a file are how a newer schema is
/// recognised.
public struct Migration: Sendable {
  public let id: String
  public let apply: @Sendable (GRDB.Database) throws -> Void

  public init(_ id: String, apply: @escaping @Sendable (GRDB.Database) throws -> Void) {
    self.id = id
    self.apply = apply
  }
}

/// Where a database stands against the migrations this binary knows.
public struct SchemaStatus: Sendable, Equatable {
  public var applied: [String]
  public var pending: [String]
  /// Applied to the file, unknown to this binary: a newer opsdeck wrote them.
  public var unknown: [String]
}

/// The ordered migrations of every module. Each module contributes its own
/// list; the runtime concatenates them in dependency order.
///
/// Not GRDB's `DatabaseMigrator`: that applies each migration in its own
/// transaction, so two processes starting on a fresh file can both try the
/// same migration. Here the whole run holds one `BEGIN IMMEDIATE`
/// transaction, so the second process waits and then finds nothing to do.
public struct Migrations: Sendable {
  public static let table = "opsdeck_migrations"
  public let all: [Migration]

  public init(_ all: [Migration]) {
    var seen = Set<String>()
    for migration in all {
      precondition(seen.insert(migration.id).inserted, "duplicate migration id \(migration.id)")
    }
    self.all = all
  }

  public static func + (lhs: Migrations, rhs: Migrations) -> Migrations {
    Migrations(lhs.all + rhs.all)
  }

  func status(_ db: GRDB.Database) throws -> SchemaStatus {
    let applied: [String]
    if try db.tableExists(Self.table) {
      applied = try String.fetchAll(db, sql: "SELECT id FROM \(Self.table) ORDER BY rowid")
    } else {
      applied = []
    }
    let known = Set(all.map(\.id))
    let appliedSet = Set(applied)
    return SchemaStatus(
      applied: applied.filter(known.contains),
      pending: all.map(\.id).filter { !appliedSet.contains($0) },
      unknown: applied.filter { !known.contains($0) }
    )
  }

  /// Applies what is pending inside the caller's write transaction and
  /// returns the ids applied, in order.
  func apply(_ db: GRDB.Database, path: String, at now: Date, version: String) throws -> [String] {
    try db.execute(
      sql: """
        CREATE TABLE IF NOT EXISTS \(Self.table) (
          id TEXT PRIMARY KEY NOT NULL,
          applied_at TEXT NOT NULL,
          opsdeck_version TEXT NOT NULL
        )
        """)
    let current = try status(db)
    if !current.unknown.isEmpty {
      throw StoreError.newerSchema(path: path, unknownMigrations: current.unknown)
    }
    let pending = Set(current.pending)
    var done: [String] = []
    for migration in all where pending.contains(migration.id) {
      try migration.apply(db)
      try db.execute(
        sql: "INSERT INTO \(Self.table) (id, applied_at, opsdeck_version) VALUES (?, ?, ?)",
        arguments: [migration.id, Timestamp.format(now), version])
      done.append(migration.id)
    }
    return done
  }
}
