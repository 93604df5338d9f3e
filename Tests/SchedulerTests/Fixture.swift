import Foundation
import GRDB
import Scheduler
import Storage

/// A fresh database with the Scheduler's tables and a manual clock.
final class Fixture {
  let directory: URL
  let store: Store
  let clock = ManualClock(Date(timeIntervalSince1970: 1_767_225_600))  // 2026-01-01T00:00:00Z
  let jobs: JobStore

  init() throws {
    directory = FileManager.default.temporaryDirectory.appendingPathComponent("opsdeck-scheduler-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    store = try Store.open(path: directory.appendingPathComponent("ops.db").path, create: true)
    try store.migrate(StorageSchema.migrations + SchedulerSchema.migrations, now: clock.now(), version: "test")
    jobs = JobStore(store: store, clock: clock)
  }

  deinit { try? FileManager.default.removeItem(at: directory) }

  func claim(_ queue: String = "q", limit: Int = 100, lock: Int64 = 30_000) throws -> [ClaimedJob] {
    try jobs.claim(queue: queue, limit: limit, lockDuration: lock).jobs
  }

  func state(_ id: String) throws -> JobState { try jobs.job(id).summary.state }

  /// The kept counters against a count of the table itself.
  func countersMatchTable() throws -> Bool {
    try store.pool.read { db in
      let kept = try Row.fetchAll(db, sql: "SELECT name, waiting, delayed, active, completed, failed FROM queues")
      for row in kept {
        let name: String = row[0]
        for state in 0...4 {
          let counted =
            try Int.fetchOne(
              db, sql: "SELECT count(*) FROM jobs WHERE queue = ? AND state = ?", arguments: [name, state])
            ?? 0
          if counted != (row[state + 1] as Int) { return false }
        }
      }
      return true
    }
  }
}

extension JobOptions {
  static func with(_ change: (inout JobOptions) -> Void) -> JobOptions {
    var options = JobOptions()
    change(&options)
    return options
  }
}
