import Foundation
import GRDB
import Testing

@Suite struct InitAndMigrateTests {
  @Test func initCreatesAPrivateDatabaseAndTheExampleConfig() throws {
    let workspace = try Workspace()
    let outcome = try workspace.opsdeck(["--db", workspace.path("x.db"), "init"])
    #expect(outcome.status == 0, "\(outcome.stderr)")
    #expect(outcome.stderr.isEmpty)
    #expect(outcome.stdout.contains("created database \(workspace.path("x.db"))"))
    #expect(try workspace.mode("x.db") == 0o600)
    #expect(try workspace.mode("opsdeck.toml") == 0o600)
    let check = try workspace.opsdeck(["config", "check"])
    #expect(check.status == 0, "\(check.stderr)")
    #expect(check.stdout.contains("# effective configuration from opsdeck.toml"))
  }

  @Test func aSecondInitIsHarmless() throws {
    let workspace = try Workspace()
    #expect(try workspace.opsdeck(["--db", "x.db", "init"]).status == 0)
    try workspace.write("opsdeck.toml", "[log]\nlevel = \"debug\"\n")
    let database = try workspace.opsdeck(["--db", "x.db", "status", "--json"])
    let second = try workspace.opsdeck(["--db", "x.db", "init"])
    #expect(second.status == 0, "\(second.stderr)")
    #expect(second.stdout.contains("already exists and is up to date"))
    #expect(second.stdout.contains("config opsdeck.toml already exists; left unchanged"))
    #expect(try workspace.read("opsdeck.toml") == "[log]\nlevel = \"debug\"\n")
    let after = try workspace.opsdeck(["--db", "x.db", "status", "--json"])
    #expect(try jsonField(database.stdout, "created_at") == jsonField(after.stdout, "created_at"))
  }

  @Test func etcPasswdIsRefusedInOneLineAndLeftAlone() throws {
    let workspace = try Workspace()
    let before = try Data(contentsOf: URL(fileURLWithPath: "/etc/passwd"))
    let outcome = try workspace.opsdeck(["--db", "/etc/passwd", "migrate"])
    #expect(outcome.status == 2)
    #expect(outcome.stdout.isEmpty)
    #expect(outcome.stderr == "opsdeck: /etc/passwd is not an SQLite database\n")
    #expect(try Data(contentsOf: URL(fileURLWithPath: "/etc/passwd")) == before)
    #expect(!FileManager.default.fileExists(atPath: "/etc/passwd-wal"))
  }

  @Test func migrateAppliesWhatIsPendingAndReportsIt() throws {
    let workspace = try Workspace()
    let path = workspace.path("x.db")
    // A file made by hand with no opsdeck table yet is adopted.
    try DatabaseQueue(path: path).write { db in try db.execute(sql: "PRAGMA user_version = 0") }
    let first = try workspace.opsdeck(["--db", path, "migrate", "--json"])
    #expect(first.status == 0, "\(first.stderr)")
    #expect(first.stdout.contains("\"applied\":[\"storage.001_meta\",\"storage.002_audit\",\"scheduler.001_jobs\""))
    let total = try jsonField(first.stdout, "total") ?? "?"
    let second = try workspace.opsdeck(["--db", path, "migrate"])
    #expect(second.stdout == "\(path) is up to date (\(total) migrations)\n")
  }

  @Test func aDatabaseFromANewerOpsDeckFailsWithExitOne() throws {
    let workspace = try Workspace()
    let path = workspace.path("x.db")
    #expect(try workspace.opsdeck(["--db", path, "init", "--no-config"]).status == 0)
    try DatabaseQueue(path: path).write { db in
      try db.execute(sql: "INSERT INTO opsdeck_migrations VALUES ('scheduler.900_future', 'x', '9.0.0')")
    }
    for command in [["migrate"], ["status"], ["init", "--no-config"]] {
      let outcome = try workspace.opsdeck(["--db", path] + command)
      #expect(outcome.status == 1)
      #expect(
        outcome.stderr
          == "opsdeck: \(path) was migrated by a newer opsdeck (unknown migrations: scheduler.900_future); upgrade opsdeck to use it\n"
      )
    }
  }

  @Test func anotherApplicationsDatabaseIsNotMigrated() throws {
    let workspace = try Workspace()
    let path = workspace.path("crm.db")
    try DatabaseQueue(path: path).write { db in try db.execute(sql: "CREATE TABLE customers (id INTEGER)") }
    let outcome = try workspace.opsdeck(["--db", path, "migrate"])
    #expect(outcome.status == 2)
    #expect(outcome.stderr.contains("opsdeck did not create (tables: customers)"))
    let tables = try DatabaseQueue(path: path).read { db in
      try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'")
    }
    #expect(tables == ["customers"])
  }
}

func jsonField(_ text: String, _ key: String) throws -> String? {
  let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
  return object?[key].map { "\($0)" }
}
