import Foundation
import GRDB
import Storage
import Testing

struct StoreTests {
  let now = Date(timeIntervalSince1970: 1_767_225_600)

  func migrations(_ log: LogBox? = nil) -> Migrations {
    StorageSchema.migrations
      + Migrations([
        Migration("test.001_accounts") { db in
          log?.append("accounts")
          try db.execute(sql: "CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
        },
        Migration("test.002_invoices") { db in
          log?.append("invoices")
          try db.execute(
            sql: "CREATE TABLE invoices (id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL REFERENCES accounts(id))")
        },
      ])
  }

  @Test func newFileIsPrivateWALWithNormalSyncForeignKeysAndBusyTimeout() throws {
    let directory = try TemporaryDirectory()
    let path = directory.path("ops.db")
    let store = try Store.open(path: path, access: .readWrite, create: true, busyTimeout: .seconds(3))
    #expect(store.created)
    let attributes = try FileManager.default.attributesOfItem(atPath: path)
    #expect((attributes[.posixPermissions] as? Int) == 0o600)
    let pragmas = try store.pool.read { db in
      try ["journal_mode", "foreign_keys"].map { try String.fetchOne(db, sql: "PRAGMA \($0)") }
    }
    #expect(pragmas == ["wal", "1"])
    let writer = try store.pool.write { db in
      try ["synchronous", "busy_timeout"].map { try Int.fetchOne(db, sql: "PRAGMA \($0)") }
    }
    #expect(writer == [1, 3000])  // synchronous=NORMAL; the writer waits the configured time
  }

  @Test func aTextFileIsRefusedAndLeftByteForByte() throws {
    let directory = try TemporaryDirectory()
    let path = directory.path("passwd")
    let contents = "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
    try contents.write(toFile: path, atomically: true, encoding: .utf8)
    #expect(throws: StoreError.notADatabase(path: path)) {
      _ = try Store.open(path: path, access: .readWrite, create: true)
    }
    #expect(try String(contentsOfFile: path, encoding: .utf8) == contents)
    #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
    #expect(!FileManager.default.fileExists(atPath: path + "-shm"))
  }

  @Test func missingFilesAndDirectoriesAreNamed() throws {
    let directory = try TemporaryDirectory()
    let missing = directory.path("none.db")
    #expect(throws: StoreError.missing(path: missing)) { _ = try Store.open(path: missing) }
    #expect(!FileManager.default.fileExists(atPath: missing))
    let nested = directory.path("no/such/dir/ops.db")
    #expect(throws: StoreError.directoryMissing(path: nested, directory: directory.path("no/such/dir"))) {
      _ = try Store.open(path: nested, create: true)
    }
    #expect(throws: StoreError.notAFile(path: directory.url.path)) { _ = try Store.open(path: directory.url.path) }
  }

  @Test func migrationsApplyInOrderExactlyOnce() throws {
    let directory = try TemporaryDirectory()
    let log = LogBox()
    let store = try Store.open(path: directory.path("ops.db"), create: true)
    let applied = try store.migrate(migrations(log), now: now, version: "test")
    #expect(applied == ["storage.001_meta", "storage.002_audit", "test.001_accounts", "test.002_invoices"])
    #expect(log.entries == ["accounts", "invoices"])
    #expect(try store.migrate(migrations(log), now: now, version: "test").isEmpty)
    #expect(log.entries == ["accounts", "invoices"])
    let status = try store.schemaStatus(migrations())
    #expect(status.pending.isEmpty && status.unknown.isEmpty && status.applied.count == 4)
    let (applicationID, appliedAt) = try store.pool.read { db in
      (
        try Int32.fetchOne(db, sql: "PRAGMA application_id"),
        try String.fetchOne(db, sql: "SELECT applied_at FROM opsdeck_migrations LIMIT 1")
      )
    }
    #expect(applicationID == Store.applicationID)
    #expect(appliedAt == "2026-01-01T00:00:00Z")
  }

  @Test func aFailingMigrationLeavesNoHalfWrittenSchema() throws {
    let directory = try TemporaryDirectory()
    let store = try Store.open(path: directory.path("ops.db"), create: true)
    let broken =
      migrations()
      + Migrations([
        Migration("test.003_broken") { db in try db.execute(sql: "CREATE TABLE broken (id INTEGER PRIMARY KEY, x)") },
        Migration("test.004_typo") { db in try db.execute(sql: "CREATE TABLE oops (") },
      ])
    #expect(throws: StoreError.self) { try store.migrate(broken, now: now, version: "test") }
    let leftovers = try store.pool.read { db in
      try ["accounts", "broken", "opsdeck_migrations"].filter { try db.tableExists($0) }
    }
    #expect(leftovers.isEmpty)
    #expect(try store.migrate(migrations(), now: now, version: "test").count == 4)
  }

  @Test func aDatabaseFromANewerOpsDeckIsRefusedNotGuessedAt() throws {
    let directory = try TemporaryDirectory()
    let path = directory.path("ops.db")
    let store = try Store.open(path: path, create: true)
    try store.migrate(migrations(), now: now, version: "test")
    try store.pool.write { db in
      try db.execute(
        sql: "INSERT INTO opsdeck_migrations (id, applied_at, opsdeck_version) VALUES ('test.099_future', 'x', '9.9')")
    }
    let expected = StoreError.newerSchema(path: path, unknownMigrations: ["test.099_future"])
    #expect(throws: expected) { try store.migrate(migrations(), now: now, version: "test") }
    #expect(throws: expected) { try store.requireCurrentSchema(migrations()) }
    #expect(expected.description.contains("newer opsdeck"))
  }

  @Test func pendingMigrationsAreReportedToViewers() throws {
    let directory = try TemporaryDirectory()
    let path = directory.path("ops.db")
    let store = try Store.open(path: path, create: true)
    try store.migrate(StorageSchema.migrations, now: now, version: "test")
    #expect(throws: StoreError.needsMigration(path: path, pending: 2)) { try store.requireCurrentSchema(migrations()) }
  }

  @Test func anotherApplicationsDatabaseIsNotTouched() throws {
    let directory = try TemporaryDirectory()
    let path = directory.path("crm.db")
    try DatabaseQueue(path: path).write { db in
      try db.execute(sql: "CREATE TABLE customers (id INTEGER PRIMARY KEY)")
    }
    let store = try Store.open(path: path)
    #expect(throws: StoreError.foreignDatabase(path: path, tables: ["customers"])) {
      try store.migrate(migrations(), now: now, version: "test")
    }
    let (marked, applicationID) = try store.pool.read { db in
      (try db.tableExists("opsdeck_migrations"), try Int32.fetchOne(db, sql: "PRAGMA application_id"))
    }
    #expect(!marked)
    #expect(applicationID == 0)
  }

  @Test func readOnlyAccessReadsButCannotWrite() throws {
    let directory = try TemporaryDirectory()
    let path = directory.path("ops.db")
    try Store.open(path: path, create: true).migrate(migrations(), now: now, version: "test")
    let viewer = try Store.open(path: path, access: .readOnly)
    #expect(viewer.isReadOnly)
    try viewer.requireCurrentSchema(migrations())
    #expect(throws: (any Error).self) {
      try viewer.pool.write { db in try db.execute(sql: "INSERT INTO accounts (name) VALUES ('x')") }
    }
    #expect(throws: StoreError.readOnly(path: path, reason: "opened read-only")) {
      try viewer.migrate(migrations() + Migrations([Migration("test.005_more") { _ in }]), now: now, version: "t")
    }
  }
}

/// Records which migrations ran, from inside their `@Sendable` closures.
final class LogBox: @unchecked Sendable {
  private let lock = NSLock()
  private var items: [String] = []
  func append(_ item: String) { lock.withLock { items.append(item) } }
  var entries: [String] { lock.withLock { items } }
}
