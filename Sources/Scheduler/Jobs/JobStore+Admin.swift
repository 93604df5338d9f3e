import Foundation
import GRDB
import Storage

extension JobStore {
  static let summaryColumns = """
    id, custom_id, queue, name, state, priority, attempts_made, attempts, created_at, ready_at, processed_at,
    finished_at, failed_reason
    """

  static func summary(_ row: Row) -> JobSummary {
    let rowID: Int64 = row["id"]
    let state = JobState(rawValue: row["state"]) ?? .waiting
    return JobSummary(
      id: (row["custom_id"] as String?) ?? String(rowID), queue: row["queue"], name: row["name"], state: state,
      priority: row["priority"], attemptsMade: row["attempts_made"], attempts: row["attempts"],
      createdAt: date(row["created_at"]), runAt: state == .delayed ? date(row["ready_at"]) : nil,
      processedAt: (row["processed_at"] as Int64?).map(date), finishedAt: (row["finished_at"] as Int64?).map(date),
      failedReason: row["failed_reason"])
  }

  /// The row id of `id` (opsdeck's number or the caller's job id).
  func rowID(_ db: GRDB.Database, _ id: String) throws -> Int64 {
    let found: Int64?
    if let number = Int64(id), id.allSatisfy(\.isNumber) {
      found = try Int64.fetchOne(db, sql: "SELECT id FROM jobs WHERE id = ?", arguments: [number])
    } else {
      found = try Int64.fetchOne(db, sql: "SELECT id FROM jobs WHERE custom_id = ?", arguments: [id])
    }
    guard let found else { throw JobError("no job with id '\(id)'") }
    return found
  }

  /// The row id, queue and state of job `id`.
  func located(_ db: GRDB.Database, _ id: String) throws -> (rowID: Int64, queue: String, state: JobState) {
    let rowID = try rowID(db, id)
    guard
      let row = try Row.fetchOne(db, sql: "SELECT queue, state FROM jobs WHERE id = ?", arguments: [rowID]),
      let state = JobState(rawValue: row[1])
    else { throw JobError("no job with id '\(id)'") }
    return (rowID, row[0], state)
  }

  /// Jobs in one state (or all), newest activity first for finished jobs,
  /// in claim order for waiting ones, by due time for delayed ones.
  public func list(queue: String? = nil, state: JobState? = nil, limit: Int = 50, offset: Int = 0) throws
    -> [JobSummary]
  {
    try read { db in
      var conditions: [String] = []
      var arguments: [any DatabaseValueConvertible] = []
      if let state {
        // A literal, not a parameter: SQLite uses a partial index
        // (`WHERE state >= 3`, …) only when it can see the state.
        conditions.append("state = \(state.rawValue)")
        if state.isFinished { conditions.append(JobState.finishedCondition) }
      }
      if let queue {
        conditions.append("queue = ?")
        arguments.append(queue)
      }
      var order = "id DESC"
      if let state {
        let (columns, descending) = Self.listOrder(state)
        order = columns.map { descending ? $0 + " DESC" : $0 }.joined(separator: ", ")
      }
      let condition = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
      arguments.append(limit)
      arguments.append(max(0, offset))
      return try Row.fetchAll(
        db, sql: "SELECT \(Self.summaryColumns) FROM jobs \(condition) ORDER BY \(order) LIMIT ? OFFSET ?",
        arguments: StatementArguments(arguments)
      ).map(Self.summary)
    }
  }

  public func job(_ id: String) throws -> JobDetail {
    try read { db in
      let rowID = try rowID(db, id)
      guard
        let row = try Row.fetchOne(
          db,
          sql: """
            SELECT \(Self.summaryColumns), data, backoff, timeout_ms, stalled_count, progress, return_value, schedule_id
            FROM jobs WHERE id = ?
            """, arguments: [rowID])
      else { throw JobError("no job with id '\(id)'") }
      let errors = try Row.fetchAll(
        db, sql: "SELECT attempt, at, error FROM job_errors WHERE job_id = ? ORDER BY attempt", arguments: [rowID]
      ).map { JobAttemptError(attempt: $0[0], at: Self.date($0[1]), error: $0[2]) }
      let logs = try Row.fetchAll(
        db, sql: "SELECT at, line FROM job_logs WHERE job_id = ? ORDER BY seq", arguments: [rowID]
      ).map { JobLogLine(at: Self.date($0[0]), line: $0[1]) }
      return JobDetail(
        summary: Self.summary(row), data: row["data"], backoff: row["backoff"], timeoutMilliseconds: row["timeout_ms"],
        stalledCount: row["stalled_count"], progress: row["progress"], returnValue: row["return_value"],
        scheduleID: row["schedule_id"], errors: errors, logs: logs,
        audit: try AuditLog.entries(db, target: "job:\(rowID)", limit: 20))
    }
  }

  /// A failed (or completed) job goes back to waiting for one more go;
  /// its attempts made and its error history are kept, as in BullMQ.
  public func retry(_ id: String) throws {
    try write { db in
      let (rowID, queue, state) = try located(db, id)
      guard state == .failed || state == .completed else {
        throw JobError("job \(id) is \(state.name); only failed or completed jobs can be retried")
      }
      try db.execute(
        sql: """
          UPDATE jobs SET state = 0, ready_at = ?, finished_at = NULL, processed_at = NULL, failed_reason = NULL,
            return_value = NULL, stalled_count = 0, attempts = max(attempts, attempts_made + 1)
          WHERE id = ?
          """, arguments: [now, rowID])
      try bump(db, queue: queue, [state: -1, .waiting: 1])
      try audit(db, "job.retry", "job:\(rowID)", "was \(state.name)")
    }
    activity.notify()
  }

  /// Every failed job of `queue` back to waiting. Returns how many.
  @discardableResult
  public func retryAllFailed(queue: String) throws -> Int {
    let count = try write { db in
      try db.execute(
        sql: """
          UPDATE jobs SET state = 0, ready_at = ?, finished_at = NULL, processed_at = NULL, failed_reason = NULL,
            stalled_count = 0, attempts = max(attempts, attempts_made + 1)
          WHERE state = 4 AND queue = ?
          """, arguments: [now, queue])
      let count = db.changesCount
      try bump(db, queue: queue, [.failed: -count, .waiting: count])
      try audit(db, "queue.retry_failed", "queue:\(queue)", "\(count) jobs")
      return count
    }
    if count > 0 { activity.notify() }
    return count
  }

  /// Deletes a job that no worker holds.
  public func remove(_ id: String) throws {
    try write { db in
      let (rowID, queue, state) = try located(db, id)
      if state == .active { throw JobError("job \(id) is active; it can be removed once its attempt ends") }
      try db.execute(sql: "DELETE FROM jobs WHERE id = ?", arguments: [rowID])
      try bump(db, queue: queue, [state: -1])
      try audit(db, "job.remove", "job:\(rowID)", "was \(state.name) in \(queue)")
    }
  }

  /// A delayed job runs now.
  public func promote(_ id: String) throws {
    try write { db in
      let (rowID, queue, state) = try located(db, id)
      guard state == .delayed else { throw JobError("job \(id) is \(state.name); only delayed jobs can be promoted") }
      try db.execute(
        sql: "UPDATE jobs SET state = 0, ready_at = ?, retry_pending = 0 WHERE id = ?", arguments: [now, rowID])
      try bump(db, queue: queue, [.delayed: -1, .waiting: 1])
      try audit(db, "job.promote", "job:\(rowID)")
    }
    activity.notify()
  }

  /// Paused queues start nothing new; active jobs finish.
  public func setPaused(_ queue: String, _ paused: Bool) throws {
    try Self.validate(queue: queue)
    try write { db in
      try db.execute(
        sql: "INSERT INTO queues (name, paused) VALUES (?1, ?2) ON CONFLICT(name) DO UPDATE SET paused = ?2",
        arguments: [queue, paused ? 1 : 0])
      try audit(db, paused ? "queue.pause" : "queue.resume", "queue:\(queue)")
    }
    if !paused { activity.notify() }
  }

  /// At most `max` jobs start per `duration` across every worker; nil
  /// removes the limit.
  public func setRateLimit(_ queue: String, max: Int?, durationMilliseconds: Int64?) throws {
    try Self.validate(queue: queue)
    if let max, max < 1 { throw JobInputError("invalid rate limit: max must be 1 or more") }
    try write { db in
      try db.execute(
        sql: """
          INSERT INTO queues (name, rate_max, rate_duration_ms) VALUES (?1, ?2, ?3)
          ON CONFLICT(name) DO UPDATE SET rate_max = ?2, rate_duration_ms = ?3
          """, arguments: [queue, max, durationMilliseconds])
      let limit = max.map { "\($0) per \(Duration.milliseconds(durationMilliseconds ?? 0).compactText)" }
      try audit(db, "queue.rate_limit", "queue:\(queue)", limit ?? "none")
    }
  }

  /// Removes the waiting and delayed jobs of `queue`. Returns how many.
  @discardableResult
  public func drain(_ queue: String) throws -> Int {
    try write { db in
      let states = try Int.fetchAll(
        db, sql: "DELETE FROM jobs WHERE queue = ? AND state IN (0, 1) RETURNING state", arguments: [queue])
      let waiting = states.filter { $0 == 0 }.count
      try bump(db, queue: queue, [.waiting: -waiting, .delayed: -(states.count - waiting)])
      try audit(db, "queue.drain", "queue:\(queue)", "\(states.count) jobs")
      return states.count
    }
  }

  /// Removes jobs of `queue` in `state` older than `olderThan`: finished
  /// jobs by when they finished, waiting and delayed ones by when they were
  /// added. Active jobs are never cleaned. Returns how many.
  @discardableResult
  public func clean(_ queue: String, state: JobState, olderThan: Int64) throws -> Int {
    guard state != .active else { throw JobInputError("invalid state 'active': active jobs cannot be cleaned") }
    return try write { db in
      let column = state == .completed || state == .failed ? "finished_at" : "created_at"
      try db.execute(
        sql: """
          DELETE FROM jobs WHERE queue = ? AND state = \(state.rawValue)
            \(state.isFinished ? "AND " + JobState.finishedCondition : "") AND \(column) < ?
          """,
        arguments: [queue, now - olderThan])
      let count = db.changesCount
      try bump(db, queue: queue, [state: -count])
      try audit(db, "queue.clean", "queue:\(queue)", "\(count) \(state.name) jobs")
      return count
    }
  }

  /// Every queue with its counters and the last full minute's throughput.
  public func queues() throws -> [QueueStatus] {
    try read { db in
      let lastMinute = now / 60_000 - 1
      return try Row.fetchAll(
        db,
        sql: """
          SELECT q.name, q.paused, q.waiting, q.delayed, q.active, q.completed, q.failed, q.rate_max,
            q.rate_duration_ms, coalesce(m.completed, 0), coalesce(m.failed, 0)
          FROM queues q LEFT JOIN queue_metrics m ON m.queue = q.name AND m.minute = ?
          ORDER BY q.name
          """, arguments: [lastMinute]
      ).map { row in
        let rate = (row[7] as Int?).flatMap { max in
          (row[8] as Int64?).map { "\(max) per \(Duration.milliseconds($0).compactText)" }
        }
        return QueueStatus(
          name: row[0], paused: (row[1] as Int) != 0,
          counts: .init(waiting: row[2], delayed: row[3], active: row[4], completed: row[5], failed: row[6]),
          completedLastMinute: row[9], failedLastMinute: row[10], rateLimit: rate)
      }
    }
  }

  /// Completed and failed jobs per minute of `queue` from `since`, oldest
  /// first: the console's throughput graph.
  public func throughput(queue: String, since: Date) throws -> [(minute: Date, completed: Int, failed: Int)] {
    try throughput(since: since, queue: queue)[queue] ?? []
  }

  /// The same for every queue (or one), in one query.
  public func throughput(since: Date, queue: String? = nil) throws -> [String: [(
    minute: Date, completed: Int, failed: Int
  )]] {
    try read { db in
      let rows = try Row.fetchAll(
        db,
        sql: """
          SELECT queue, minute, completed, failed FROM queue_metrics
          WHERE minute >= ?1 AND (?2 IS NULL OR queue = ?2) ORDER BY queue, minute
          """,
        arguments: [Self.milliseconds(since) / 60_000, queue])
      var series: [String: [(minute: Date, completed: Int, failed: Int)]] = [:]
      for row in rows {
        series[row[0], default: []].append((Self.date((row[1] as Int64) * 60_000), row[2], row[3]))
      }
      return series
    }
  }

  /// Drops metrics older than `keep` (at least a day is always kept).
  public func pruneMetrics(keep: Int64 = 48 * 3_600_000) throws {
    try write { db in
      try db.execute(
        sql: "DELETE FROM queue_metrics WHERE minute < ?",
        arguments: [(now - max(keep, 24 * 3_600_000)) / 60_000])
    }
  }
}
