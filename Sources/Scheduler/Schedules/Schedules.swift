import Foundation
import GRDB
import Storage

/// When a schedule fires: a cron pattern in a time zone, or a fixed interval.
public enum Repeat: Sendable, Equatable {
  case cron(CronExpression, timeZone: String)
  case every(milliseconds: Int64)
}

/// A repeatable job, as `schedules add` and `[[schedules]]` define it.
public struct ScheduleSpec: Sendable, Equatable {
  public var id: String
  public var queue: String
  public var name: String
  public var repeats: Repeat
  public var data: String
  public var limit: Int?
  public var start: Date?
  public var end: Date?

  public init(
    id: String, queue: String, name: String, repeats: Repeat, data: String = "{}", limit: Int? = nil,
    start: Date? = nil, end: Date? = nil
  ) {
    self.id = id
    self.queue = queue
    self.name = name
    self.repeats = repeats
    self.data = data
    self.limit = limit
    self.start = start
    self.end = end
  }
}

/// A schedule as `schedules list` shows it.
public struct ScheduleInfo: Sendable, Encodable, Equatable {
  public var id: String
  public var queue: String
  public var name: String
  public var cron: String?
  public var every: String?
  public var tz: String
  public var nextRunAt: Date?
  public var limit: Int?
  public var fired: Int
  public var source: String
  /// The schedule's pending job (delayed until its run, or waiting).
  public var pendingJobID: String? = nil
}

/// Repeatable jobs. Each schedule has exactly one pending (delayed or
/// waiting) job at a time: the next one is created in the same transaction
/// that finds none, and SQLite runs one writer at a time, so any number of
/// processes may call ``materialize()`` at once. After downtime the next
/// run is computed from now: no burst of missed runs.
public final class Schedules: Sendable {
  public let jobs: JobStore

  public init(jobs: JobStore) {
    self.jobs = jobs
  }

  /// Validates a time zone name.
  public static func timeZone(_ identifier: String) throws(JobInputError) -> TimeZone {
    guard let zone = TimeZone(identifier: identifier) else {
      throw JobInputError("unknown time zone '\(identifier)' (expected an IANA name such as Europe/Berlin or UTC)")
    }
    return zone
  }

  /// Creates or replaces a schedule. An unchanged definition keeps its
  /// pending job; a changed one gets a new next run.
  public func upsert(_ spec: ScheduleSpec, source: String = "cli") throws {
    try JobStore.validateName(spec.id, what: "schedule id")
    try JobStore.validate(queue: spec.queue)
    try JobStore.validateName(spec.name, what: "job name")
    try JobStore.validate(data: spec.data)
    if let limit = spec.limit, limit < 1 { throw JobInputError("invalid limit \(limit): expected 1 or more") }
    var cron: String? = nil
    var every: Int64? = nil
    var zone = "UTC"
    switch spec.repeats {
    case .cron(let expression, let timeZone):
      let tz = try Self.timeZone(timeZone)
      if expression.next(after: jobs.clock.now(), in: tz) == nil {
        throw JobInputError("cron expression '\(expression.text)' never fires")
      }
      cron = expression.text
      zone = timeZone
    case .every(let milliseconds):
      guard milliseconds >= 1 else { throw JobInputError("invalid interval: every must be at least 1ms") }
      every = milliseconds
    }
    let start = spec.start.map(JobStore.milliseconds)
    let end = spec.end.map(JobStore.milliseconds)
    try jobs.write { db in
      let now = jobs.now
      if let row = try Row.fetchOne(
        db,
        sql: "SELECT queue, name, cron, every_ms, tz, data, repeat_limit, start_at, end_at FROM schedules WHERE id = ?",
        arguments: [spec.id])
      {
        let wanted: [any DatabaseValueConvertible & Sendable] = [
          spec.queue, spec.name, cron, every, zone, spec.data, spec.limit, start, end,
        ]
        if Array(row.databaseValues) == wanted.map(\.databaseValue) {
          try db.execute(sql: "UPDATE schedules SET source = ? WHERE id = ?", arguments: [source, spec.id])
          return
        }
        try removePending(db, scheduleID: spec.id)
        try db.execute(
          sql: """
            UPDATE schedules SET queue = ?, name = ?, cron = ?, every_ms = ?, tz = ?, data = ?, repeat_limit = ?,
              start_at = ?, end_at = ?, source = ?, fired = 0, next_run_at = NULL, created_at = ?
            WHERE id = ?
            """,
          arguments: [
            spec.queue, spec.name, cron, every, zone, spec.data, spec.limit, start, end, source, now, spec.id,
          ])
      } else {
        try db.execute(
          sql: """
            INSERT INTO schedules (id, queue, name, cron, every_ms, tz, data, repeat_limit, start_at, end_at, source,
              created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
          arguments: [
            spec.id, spec.queue, spec.name, cron, every, zone, spec.data, spec.limit, start, end, source, now,
          ])
      }
      let when = cron.map { "cron \($0) \(zone)" } ?? "every \(Duration.milliseconds(every ?? 0).compactText)"
      try jobs.audit(db, "schedule.set", "schedule:\(spec.id)", "\(when) from \(source)")
      try materialize(db, now: now)
    }
  }

  /// Deletes a schedule and its pending job.
  public func remove(_ id: String) throws {
    try jobs.write { db in
      guard try Bool.fetchOne(db, sql: "SELECT 1 FROM schedules WHERE id = ?", arguments: [id]) != nil else {
        throw JobError("no schedule with id '\(id)'")
      }
      try removePending(db, scheduleID: id)
      try db.execute(sql: "DELETE FROM schedules WHERE id = ?", arguments: [id])
      try jobs.audit(db, "schedule.remove", "schedule:\(id)")
    }
  }

  /// Makes the schedules from `source` exactly `specs`: new ones added,
  /// changed ones replaced, vanished ones removed (the config on reload).
  public func sync(_ specs: [ScheduleSpec], source: String) throws {
    for spec in specs { try upsert(spec, source: source) }
    let keep = Set(specs.map(\.id))
    let existing = try jobs.read { db in
      try String.fetchAll(db, sql: "SELECT id FROM schedules WHERE source = ?", arguments: [source])
    }
    for id in existing where !keep.contains(id) { try remove(id) }
  }

  private func removePending(_ db: GRDB.Database, scheduleID: String) throws {
    let rows = try Row.fetchAll(
      db, sql: "DELETE FROM jobs WHERE schedule_id = ? AND state <= 1 RETURNING queue, state", arguments: [scheduleID])
    for row in rows {
      try jobs.bump(db, queue: row[0], [JobState(rawValue: row[1]) ?? .waiting: -1])
    }
  }

  public func list() throws -> [ScheduleInfo] {
    try jobs.read { db in
      try Row.fetchAll(
        db,
        sql: """
          SELECT id, queue, name, cron, every_ms, tz,
            (SELECT min(ready_at) FROM jobs j WHERE j.schedule_id = s.id AND j.state <= 1),
            repeat_limit, fired, source,
            (SELECT coalesce(custom_id, CAST(id AS TEXT)) FROM jobs j WHERE j.schedule_id = s.id AND j.state <= 1
              ORDER BY ready_at LIMIT 1)
          FROM schedules s ORDER BY id
          """
      ).map { row in
        ScheduleInfo(
          id: row[0], queue: row[1], name: row[2], cron: row[3],
          every: (row[4] as Int64?).map { Duration.milliseconds($0).compactText }, tz: row[5],
          nextRunAt: (row[6] as Int64?).map(JobStore.date), limit: row[7], fired: row[8], source: row[9],
          pendingJobID: row[10])
      }
    }
  }

  /// Creates the next job of every schedule that has none pending.
  /// Returns how many were created.
  @discardableResult
  public func materialize() throws -> Int {
    let created = try jobs.write { db in try materialize(db, now: jobs.now) }
    if created > 0 { jobs.activity.notify() }
    return created
  }

  private func materialize(_ db: GRDB.Database, now: Int64) throws -> Int {
    let due = try Row.fetchAll(
      db,
      sql: """
        SELECT id, queue, name, cron, every_ms, tz, data, repeat_limit, start_at, end_at, fired, last_run_at, created_at
        FROM schedules s
        WHERE (repeat_limit IS NULL OR fired < repeat_limit)
          AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.schedule_id = s.id AND j.state <= 1)
        """)
    var created = 0
    for row in due {
      let id: String = row[0]
      let fired: Int = row[10]
      let lastRun: Int64? = row[11]
      // The first run may be now; later ones are strictly after both now and
      // the last run, so a schedule never runs twice for one slot.
      var from = fired == 0 ? now - 1 : max(now, lastRun ?? now)
      if let start = row[8] as Int64? { from = max(from, start - 1) }
      let next: Int64?
      if let pattern = row[3] as String?, let cron = try? CronExpression(parsing: pattern),
        let zone = TimeZone(identifier: row[5])
      {
        // Cron fires on whole seconds: search from the second before `from + 1ms`.
        let fire = cron.next(after: Date(epochMilliseconds: from), in: zone)
        next = fire.map(JobStore.milliseconds)
      } else if let every = row[4] as Int64? {
        let anchor = (row[8] as Int64?) ?? (row[12] as Int64)
        let slots = from < anchor ? 0 : (from - anchor) / every + 1
        next = anchor + slots * every
      } else {
        next = nil
      }
      guard let next, (row[9] as Int64?).map({ next <= $0 }) ?? true else {
        try db.execute(sql: "UPDATE schedules SET next_run_at = NULL WHERE id = ?", arguments: [id])
        continue
      }
      var options = JobOptions()
      options.delayMilliseconds = max(0, next - now)
      options.jobID = "schedule:\(id):\(next)"
      let added = try jobs.insert(db, queue: row[1], job: NewJob(name: row[2], data: row[6], options: options))
      guard added.created else { continue }
      try db.execute(
        sql: "UPDATE jobs SET schedule_id = ?, ready_at = ? WHERE custom_id = ?",
        arguments: [id, next, options.jobID])
      try db.execute(
        sql: "UPDATE schedules SET fired = ?, next_run_at = ?, last_run_at = ? WHERE id = ?",
        arguments: [fired + 1, next, next, id])
      created += 1
    }
    return created
  }
}
