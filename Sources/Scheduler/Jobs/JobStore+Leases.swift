import Foundation
import GRDB
import Storage

extension JobStore {
  public static let stalledMessage = "job stalled more than allowable limit"

  /// What a claim found besides jobs: why it may have found none.
  public struct ClaimResult: Sendable {
    public var jobs: [ClaimedJob]
    public var paused: Bool
    /// When the rate limit allows the next job, if it stopped this claim.
    public var rateLimitedUntil: Int64?
  }

  /// Moves up to `limit` waiting jobs of `queue` to active under a lease
  /// that expires `lockDuration` from now: priority order (no priority
  /// first, then 1, 2, …), FIFO within a priority. Honours pause and the
  /// queue's rate limit across every worker of every process.
  public func claim(queue: String, limit: Int, lockDuration: Int64, token: Int64 = Int64.random(in: 1...Int64.max))
    throws -> ClaimResult
  {
    guard limit > 0 else { return ClaimResult(jobs: [], paused: false) }
    return try write { db in
      let now = self.now
      var allowed = limit
      var windowStart: Int64 = 0
      var windowCount = 0
      var rate: (max: Int, duration: Int64)? = nil
      if let row = try Row.fetchOne(
        db.cachedStatement(
          sql: """
            SELECT paused, rate_max, rate_duration_ms, rate_window_start, rate_window_count
            FROM queues WHERE name = ?
            """), arguments: [queue])
      {
        if (row[0] as Int) != 0 { return ClaimResult(jobs: [], paused: true) }
        if let max = row[1] as Int?, let duration = row[2] as Int64?, max > 0, duration > 0 {
          rate = (max, duration)
          windowStart = row[3]
          windowCount = row[4]
          if now >= windowStart + duration {
            windowStart = now
            windowCount = 0
          }
          allowed = min(allowed, max - windowCount)
          if allowed <= 0 {
            return ClaimResult(jobs: [], paused: false, rateLimitedUntil: windowStart + duration)
          }
        }
      }
      let rows = try Row.fetchAll(
        db.cachedStatement(
          sql: """
            UPDATE jobs SET state = 2, lock_token = ?, lock_until = ?, processed_at = ?
            WHERE id IN (
              SELECT id FROM jobs WHERE queue = ? AND state = 0 ORDER BY priority, ready_at, id LIMIT ?
            )
            RETURNING id, custom_id, name, data, attempts, attempts_made, timeout_ms, schedule_id
            """), arguments: [token, now + lockDuration, now, queue, allowed])
      let jobs = rows.map { row in
        ClaimedJob(
          rowID: row[0], id: (row[1] as String?) ?? String(row[0] as Int64), queue: queue, name: row[2], data: row[3],
          attempts: row[4], attemptsMade: row[5], timeoutMilliseconds: row[6], scheduleID: row[7], lockToken: token)
      }
      if !jobs.isEmpty {
        try bump(db, queue: queue, [.waiting: -jobs.count, .active: jobs.count])
        if rate != nil {
          try db.cachedStatement(
            sql: "UPDATE queues SET rate_window_start = ?, rate_window_count = ? WHERE name = ?"
          ).execute(arguments: [windowStart, windowCount + jobs.count, queue])
        }
      }
      return ClaimResult(jobs: jobs, paused: false)
    }
  }

  /// Records how attempts ended, all in one transaction. An outcome whose
  /// lease was lost (the job stalled and went back to waiting) is ignored:
  /// the job belongs to whoever holds it now. Returns how many counted.
  @discardableResult
  public func finish(_ outcomes: [JobOutcome]) throws -> Int {
    guard !outcomes.isEmpty else { return 0 }
    var becameReady = false
    let counted = try write { db in
      let now = self.now
      let minute = now / 60_000
      var completedByQueue: [String: Int] = [:]
      var failedByQueue: [String: Int] = [:]
      var retention: [String: Set<String>] = [:]
      var failedRetention: [String: Set<String>] = [:]
      var deltas: [String: [JobState: Int]] = [:]
      let complete = try db.cachedStatement(
        sql: """
          UPDATE jobs SET state = 3, finished_at = ?, attempts_made = attempts_made + 1, lock_token = NULL,
            lock_until = NULL, return_value = ?
          WHERE id = ? AND lock_token = ? AND state = 2
          RETURNING remove_on_complete
          """)
      var counted = 0
      // Plain completions (no return value) of one claim: one statement.
      var plain: [Int64: [ClaimedJob]] = [:]
      var rest: [JobOutcome] = []
      for outcome in outcomes {
        if case .completed(let job, nil) = outcome {
          plain[job.lockToken, default: []].append(job)
        } else {
          rest.append(outcome)
        }
      }
      let completeMany = try db.cachedStatement(
        sql: """
          UPDATE jobs SET state = 3, finished_at = ?, attempts_made = attempts_made + 1, lock_token = NULL,
            lock_until = NULL
          WHERE lock_token = ? AND state = 2 AND id IN (SELECT value FROM json_each(?))
          RETURNING queue, remove_on_complete
          """)
      for (token, group) in plain {
        let ids = "[" + group.map { String($0.rowID) }.joined(separator: ",") + "]"
        let rows = try Row.fetchAll(completeMany, arguments: [now, token, ids])
        for row in rows {
          let queue: String = row[0]
          counted += 1
          completedByQueue[queue, default: 0] += 1
          deltas[queue, default: [:]][.active, default: 0] -= 1
          deltas[queue, default: [:]][.completed, default: 0] += 1
          if let keep = row[1] as String? { retention[queue, default: []].insert(keep) }
        }
      }
      for outcome in rest {
        switch outcome {
        case .completed(let job, let returnValue):
          guard let row = try Row.fetchOne(complete, arguments: [now, returnValue, job.rowID, job.lockToken]) else {
            continue
          }
          counted += 1
          completedByQueue[job.queue, default: 0] += 1
          deltas[job.queue, default: [:]][.active, default: 0] -= 1
          deltas[job.queue, default: [:]][.completed, default: 0] += 1
          if let keep = row[0] as String? { retention[job.queue, default: []].insert(keep) }
        case .failed(let job, let error):
          guard let next = try recordFailure(db, job: job, error: error, now: now) else { continue }
          counted += 1
          deltas[job.queue, default: [:]][.active, default: 0] -= 1
          deltas[job.queue, default: [:]][next.state, default: 0] += 1
          if next.state == .failed {
            failedByQueue[job.queue, default: 0] += 1
            if let keep = next.retention { failedRetention[job.queue, default: []].insert(keep) }
          }
          if next.state == .waiting { becameReady = true }
        }
      }
      for (queue, change) in deltas { try bump(db, queue: queue, change) }
      let metric = try db.cachedStatement(
        sql: """
          INSERT INTO queue_metrics (queue, minute, completed, failed) VALUES (?, ?, ?, ?)
          ON CONFLICT(queue, minute) DO UPDATE SET completed = completed + excluded.completed,
            failed = failed + excluded.failed
          """)
      for queue in Set(completedByQueue.keys).union(failedByQueue.keys) {
        try metric.execute(arguments: [queue, minute, completedByQueue[queue] ?? 0, failedByQueue[queue] ?? 0])
      }
      for (queue, rules) in retention {
        for rule in rules { try applyRetention(db, queue: queue, state: .completed, rule: rule, now: now) }
      }
      for (queue, rules) in failedRetention {
        for rule in rules { try applyRetention(db, queue: queue, state: .failed, rule: rule, now: now) }
      }
      return counted
    }
    if becameReady { activity.notify() }
    return counted
  }

  /// One failed attempt: an error row, then a retry (waiting, or delayed by
  /// the backoff) while attempts remain, else failed. Nil when the lease
  /// was lost.
  private func recordFailure(_ db: GRDB.Database, job: ClaimedJob, error: String, now: Int64) throws -> (
    state: JobState, retention: String?
  )? {
    guard
      let row = try Row.fetchOne(
        db.cachedStatement(
          sql: """
            SELECT attempts, attempts_made, backoff, remove_on_fail FROM jobs
            WHERE id = ? AND lock_token = ? AND state = 2
            """), arguments: [job.rowID, job.lockToken])
    else { return nil }
    let attempts: Int = row[0]
    let attemptsMade = (row[1] as Int) + 1
    let backoff = (row[2] as String?).flatMap { try? Backoff(parsing: $0) }
    try db.cachedStatement(
      sql: "INSERT OR REPLACE INTO job_errors (job_id, attempt, at, error) VALUES (?, ?, ?, ?)"
    ).execute(arguments: [job.rowID, attemptsMade, now, error])
    if attemptsMade < attempts {
      let delay = backoff?.delay(afterAttempts: attemptsMade) ?? 0
      let state: JobState = delay > 0 ? .delayed : .waiting
      try db.cachedStatement(
        sql: """
          UPDATE jobs SET state = ?, attempts_made = ?, ready_at = ?, retry_pending = ?, failed_reason = ?,
            lock_token = NULL, lock_until = NULL
          WHERE id = ?
          """
      ).execute(arguments: [state.rawValue, attemptsMade, now + delay, delay > 0 ? 1 : 0, error, job.rowID])
      return (state, nil)
    }
    try db.cachedStatement(
      sql: """
        UPDATE jobs SET state = 4, attempts_made = ?, finished_at = ?, failed_reason = ?, lock_token = NULL,
          lock_until = NULL, retry_pending = 0
        WHERE id = ?
        """
    ).execute(arguments: [attemptsMade, now, error, job.rowID])
    return (.failed, row[3])
  }

  /// Deletes finished jobs beyond a `remove_on_complete` / `remove_on_fail` rule.
  func applyRetention(_ db: GRDB.Database, queue: String, state: JobState, rule: String, now: Int64) throws {
    guard let retention = try? Retention(parsing: rule) else { return }
    let removed: Int
    switch retention {
    case .count(let keep):
      try db.execute(
        sql: """
          DELETE FROM jobs WHERE id IN (
            SELECT id FROM jobs WHERE state = \(state.rawValue) AND \(JobState.finishedCondition) AND queue = ?
            ORDER BY finished_at DESC, id DESC LIMIT -1 OFFSET ?
          )
          """, arguments: [queue, keep])
      removed = db.changesCount
    case .age(let milliseconds):
      try db.execute(
        sql: """
          DELETE FROM jobs WHERE state = \(state.rawValue) AND \(JobState.finishedCondition) AND queue = ?
            AND finished_at < ?
          """,
        arguments: [queue, now - milliseconds])
      removed = db.changesCount
    }
    if removed > 0 { try bump(db, queue: queue, [state: -removed]) }
  }

  /// Extends the leases of every active job claimed with these tokens.
  public func renewLeases(tokens: [Int64], lockDuration: Int64) throws {
    guard !tokens.isEmpty else { return }
    try write { db in
      try db.execute(
        sql: """
          UPDATE jobs SET lock_until = ?
          WHERE state = 2 AND lock_token IN (SELECT value FROM json_each(?))
          """, arguments: [now + lockDuration, Self.jsonArray(tokens)])
    }
  }

  /// Gives active jobs back to waiting, as if never claimed (a worker
  /// shutting down after its grace period). Their place in line is kept.
  @discardableResult
  public func release(tokens: [Int64]) throws -> Int {
    guard !tokens.isEmpty else { return 0 }
    let released = try write { db in
      let queues = try String.fetchAll(
        db,
        sql: """
          UPDATE jobs SET state = 0, lock_token = NULL, lock_until = NULL
          WHERE state = 2 AND lock_token IN (SELECT value FROM json_each(?))
          RETURNING queue
          """, arguments: [Self.jsonArray(tokens)])
      for (queue, count) in Dictionary(grouping: queues, by: { $0 }).mapValues(\.count) {
        try bump(db, queue: queue, [.active: -count, .waiting: count])
      }
      return queues.count
    }
    if released > 0 { activity.notify() }
    return released
  }

  public struct StalledRecovery: Sendable, Equatable {
    public var requeued: [String] = []
    public var failed: [String] = []

    public init(requeued: [String] = [], failed: [String] = []) {
      self.requeued = requeued
      self.failed = failed
    }
  }

  /// Active jobs whose lease expired: their worker died or hung. Each goes
  /// back to waiting with its stall count raised, or fails once the count
  /// passes `maxStalledCount`.
  @discardableResult
  public func recoverStalled(maxStalledCount: Int) throws -> StalledRecovery {
    let recovery = try write { db in
      let now = self.now
      var recovery = StalledRecovery()
      let rows = try Row.fetchAll(
        db,
        sql: """
          SELECT id, custom_id, queue, stalled_count, attempts_made, remove_on_fail FROM jobs
          WHERE state = 2 AND lock_until < ?
          """, arguments: [now])
      for row in rows {
        let rowID: Int64 = row[0]
        let id = (row[1] as String?) ?? String(rowID)
        let queue: String = row[2]
        let stalled = (row[3] as Int) + 1
        if stalled > maxStalledCount {
          let attempt = (row[4] as Int) + 1
          try db.execute(
            sql: "INSERT OR REPLACE INTO job_errors (job_id, attempt, at, error) VALUES (?, ?, ?, ?)",
            arguments: [rowID, attempt, now, Self.stalledMessage])
          try db.execute(
            sql: """
              UPDATE jobs SET state = 4, stalled_count = ?, attempts_made = ?, finished_at = ?, failed_reason = ?,
                lock_token = NULL, lock_until = NULL
              WHERE id = ?
              """, arguments: [stalled, attempt, now, Self.stalledMessage, rowID])
          try bump(db, queue: queue, [.active: -1, .failed: 1])
          try db.execute(
            sql: """
              INSERT INTO queue_metrics (queue, minute, failed) VALUES (?, ?, 1)
              ON CONFLICT(queue, minute) DO UPDATE SET failed = failed + 1
              """, arguments: [queue, now / 60_000])
          if let rule = row[5] as String? { try applyRetention(db, queue: queue, state: .failed, rule: rule, now: now) }
          recovery.failed.append(id)
        } else {
          try db.execute(
            sql: "UPDATE jobs SET state = 0, stalled_count = ?, lock_token = NULL, lock_until = NULL WHERE id = ?",
            arguments: [stalled, rowID])
          try bump(db, queue: queue, [.active: -1, .waiting: 1])
          recovery.requeued.append(id)
        }
      }
      return recovery
    }
    if !recovery.requeued.isEmpty { activity.notify() }
    return recovery
  }

  /// Moves delayed jobs whose time has come to waiting. Returns how many.
  @discardableResult
  public func promoteDue() throws -> Int {
    let promoted = try write { db in
      let queues = try String.fetchAll(
        db.cachedStatement(
          sql: "UPDATE jobs SET state = 0, retry_pending = 0 WHERE state = 1 AND ready_at <= ? RETURNING queue"),
        arguments: [now])
      for (queue, count) in Dictionary(grouping: queues, by: { $0 }).mapValues(\.count) {
        try bump(db, queue: queue, [.delayed: -count, .waiting: count])
      }
      return queues.count
    }
    if promoted > 0 { activity.notify() }
    return promoted
  }

  /// When the next delayed job is due (milliseconds), if any.
  public func nextDelayedDue() throws -> Int64? {
    try read { db in try Int64.fetchOne(db, sql: "SELECT min(ready_at) FROM jobs WHERE state = 1") }
  }

  /// When the earliest active lease runs out, if any.
  public func nextLeaseExpiry() throws -> Int64? {
    try read { db in try Int64.fetchOne(db, sql: "SELECT min(lock_until) FROM jobs WHERE state = 2") }
  }

  /// Whether anything in these queues still needs a worker: waiting jobs
  /// of running queues, active jobs, or failed attempts waiting for their
  /// retry. Jobs delayed on purpose and paused queues do not count
  /// (`opsdeck work --until-empty`).
  public func hasUnfinishedWork(queues: [String]?) throws -> Bool {
    try read { db in
      if let queues {
        return try Bool.fetchOne(
          db,
          sql: """
            SELECT EXISTS (
              SELECT 1 FROM queues WHERE name IN (SELECT value FROM json_each(?1))
                AND ((waiting > 0 AND paused = 0) OR active > 0)
            ) OR EXISTS (
              SELECT 1 FROM jobs WHERE state = 1 AND retry_pending = 1 AND queue IN (SELECT value FROM json_each(?1))
            )
            """, arguments: [Self.jsonArray(queues)]) ?? false
      }
      return try Bool.fetchOne(
        db,
        sql: """
          SELECT EXISTS (SELECT 1 FROM queues WHERE (waiting > 0 AND paused = 0) OR active > 0)
            OR EXISTS (SELECT 1 FROM jobs WHERE state = 1 AND retry_pending = 1)
          """) ?? false
    }
  }

  // MARK: - Progress and logs

  /// Stores a handler's progress (a number 0–100 or any JSON value) while
  /// it holds the job's lease.
  public func reportProgress(_ job: ClaimedJob, json: String) throws {
    try Self.validate(data: json)
    try write { db in
      try db.execute(
        sql: "UPDATE jobs SET progress = ? WHERE id = ? AND lock_token = ? AND state = 2",
        arguments: [json, job.rowID, job.lockToken])
    }
  }

  public func appendLog(_ job: ClaimedJob, _ line: String) throws {
    try write { db in
      try db.execute(
        sql: """
          INSERT INTO job_logs (job_id, seq, at, line)
          VALUES (?1, (SELECT coalesce(max(seq), 0) + 1 FROM job_logs WHERE job_id = ?1), ?2, ?3)
          """, arguments: [job.rowID, now, line])
    }
  }

  static func jsonArray<T: Encodable>(_ values: [T]) -> String {
    (try? String(decoding: JSONEncoder().encode(values), as: UTF8.self)) ?? "[]"
  }
}
