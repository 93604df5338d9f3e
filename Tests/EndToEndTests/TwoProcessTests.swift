import Foundation
import GRDB
import Testing

/// Several processes on one file, for real: separate opsdeck processes, and
/// Python's sqlite3 as an independent writer.
@Suite struct TwoProcessTests {
  @Test func twoProcessesInitialisingOneNewFileBothSucceedAndMigrateOnce() throws {
    for round in 0..<6 {
      let workspace = try Workspace()
      let path = workspace.path("race-\(round).db")
      let processes = try (0..<2).map { _ in
        try Programs.start(Programs.opsdeck, ["--db", path, "init", "--no-config"], in: workspace.url)
      }
      for outcome in try processes.map({ try $0.wait() }) {
        #expect(outcome.status == 0, "round \(round): \(outcome.stderr)")
      }
      let ids = try DatabaseQueue(path: path).read { db in
        try String.fetchAll(db, sql: "SELECT id FROM opsdeck_migrations ORDER BY rowid")
      }
      let total = try jsonField(try workspace.opsdeck(["--db", path, "migrate", "--json"]).stdout, "total")
      #expect(ids.count == Set(ids).count)
      #expect("\(ids.count)" == total)
      #expect(ids.first == "storage.001_meta")
      #expect(try workspace.mode("race-\(round).db") == 0o600)
    }
  }

  @Test func aWriterInAnotherProcessIsWaitedForNotFailedOn() throws {
    let workspace = try Workspace()
    let path = workspace.path("busy.db")
    // Python creates the file and holds the write lock for a moment.
    let holder = try lockHolder(path, seconds: 1.0, in: workspace)
    #expect(try holder.waitForOutput(containing: "locked"))
    let migrate = try workspace.opsdeck(["--db", path, "migrate"])
    #expect(try holder.wait().status == 0)
    #expect(migrate.status == 0, "\(migrate.stderr)")
    #expect(migrate.stdout.contains("applied storage.001_meta"))
  }

  @Test func aWriterLongerThanTheBusyTimeoutFailsWithOneLine() throws {
    let workspace = try Workspace()
    let path = workspace.path("busy.db")
    try workspace.write("ops.toml", "[database]\nbusy_timeout = \"200ms\"\n")
    let holder = try lockHolder(path, seconds: 3.0, in: workspace)
    #expect(try holder.waitForOutput(containing: "locked"))
    let migrate = try workspace.opsdeck(["--db", path, "--config", "ops.toml", "migrate"])
    #expect(migrate.status == 1)
    #expect(migrate.stderr == "opsdeck: \(path): database is locked by another process\n")
    #expect(try holder.wait().status == 0)
    let ids = try DatabaseQueue(path: path).read { db in try db.tableExists("opsdeck_migrations") }
    #expect(!ids)
  }
}
