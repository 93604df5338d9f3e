import Foundation
import GRDB
import Scheduler
import Storage

/// What one `lifecycle.tick` did.
public struct TickReport: Sendable, Equatable {
  public var expired = 0
  public var evaluated = 0
  public var queued = 0
  public var skipped = 0
  public var waiting = 0
  public var reengaged = 0

  public init() {}

  public var description: String {
    "\(expired) trials expired, \(evaluated) accounts due, \(queued) e-mails queued, \(skipped) skipped, \(waiting) waiting, \(reengaged) re-engaged"
  }
}

/// An e-mail about to enter the outbox.
struct Candidate {
  var sequence: String
  var step: String
  var template: String
  var subject: String
  var priority: Int
  var data: [String: String] = [:]
}

extension Lifecycle {
  // MARK: - Local time

  /// `hour`:00 local, `day` days after the local date of `start`.
  public static func localTime(day: Int, hour: Int, from start: Date, tz: String) -> Date {
    let zone = LocalTime.zone(tz)
    return LocalTime.instant(day: LocalTime.day(of: start, in: zone) + day, hour: hour, in: zone)
  }

  /// `date`, or the end of the quiet hours it falls in (local time).
  func outsideQuietHours(_ date: Date, tz: String) -> Date {
    let (start, end) = (settings.quietStart, settings.quietEnd)
    guard start != end else { return date }
    let zone = LocalTime.zone(tz)
    let hour = LocalTime.hour(of: date, in: zone)
    let quiet = start < end ? (hour >= start && hour < end) : (hour >= start || hour < end)
    guard quiet else { return date }
    let day = LocalTime.day(of: date, in: zone) + (start > end && hour >= start ? 1 : 0)
    return LocalTime.instant(day: day, hour: end, in: zone)
  }

  /// When a sequence step is due for an account: the send hour on its day
  /// (never before the trial started), moved out of quiet hours.
  func dueTime(_ step: SequenceStep, for account: Account) -> Date? {
    guard let start = account.trialStartedAt else { return nil }
    let local = Self.localTime(day: step.day, hour: settings.sendHour, from: start, tz: account.tz)
    return outsideQuietHours(max(local, start), tz: account.tz)
  }

  // MARK: - The sequence cursor

  /// Points the account at the step after `after` (or the first), and
  /// when it is due; no step left, or an account that left its trial, has none.
  func scheduleNext(_ db: GRDB.Database, account: Account, after key: String?) throws {
    var index = 0
    if let key, let found = timelineIndex[key] { index = found + 1 }
    let next = account.inSequence && index < timeline.count ? timeline[index] : nil
    try setCursor(
      db, account.id, step: next?.key, at: next.flatMap { dueTime($0.step, for: account) }?.epochMilliseconds)
  }

  /// The account's place in its sequence: the next step and when it is due.
  func setCursor(_ db: GRDB.Database, _ account: String, step: String?, at: Int64?) throws {
    try db.cachedStatement(sql: "UPDATE accounts SET next_email_step = ?, next_email_at = ? WHERE id = ?")
      .execute(arguments: [step, at, account])
  }

  // MARK: - Tick

  /// Everything due at the clock's now: trials that end, sequence steps
  /// whose time has come, re-engagement. Each account is decided in one
  /// transaction with its outbox rows and their jobs, so a tick that dies
  /// half-way leaves no half-decided account, and a second tick (or a
  /// second process) finds the rows and sends nothing twice.
  @discardableResult
  public func tick() throws -> TickReport {
    var report = TickReport()
    let now = nowMS
    try store.writeTransaction { db in
      let expired = try Row.fetchAll(
        db,
        sql: """
          UPDATE accounts SET expired_at = trial_ends_at
          WHERE plan = 'trial' AND converted_at IS NULL AND expired_at IS NULL AND trial_ends_at <= ?
          RETURNING id, trial_ends_at
          """, arguments: [now])
      for row in expired {
        try Self.event(db, row[0], row[1], "trial_expired", "opsdeck", nil)
      }
      report.expired = expired.count
    }
    // Due accounts, soonest first, a batch per transaction. Deciding an
    // account moves its next_email_at past now (or clears it), so each
    // batch is new; `seen` guards against an account that would not move.
    var seen = Set<String>()
    while true {
      let due = try store.pool.read { db in
        try Row.fetchAll(
          db,
          sql: """
            SELECT \(Account.columns) FROM accounts WHERE next_email_at <= ?
            ORDER BY next_email_at LIMIT 1000
            """, arguments: [now]
        ).map(Account.init(row:))
      }.filter { seen.insert($0.id).inserted }
      guard !due.isEmpty else { break }
      try store.writeTransaction { db in
        for account in due { try advance(db, account, now: now, report: &report) }
      }
    }
    if settings.reengageAfterDays > 0 { try reengage(now: now, report: &report) }
    if report.queued > 0 { jobs.jobsAdded() }
    return report
  }

  /// Decides each due step of one account, in order, and moves its cursor.
  func advance(_ db: GRDB.Database, _ account: Account, now: Int64, report: inout TickReport) throws {
    report.evaluated += 1
    var key = account.nextEmailStep
    var done: [String: Date]?
    while let current = key, let position = timelineIndex[current] {
      let entry = timeline[position]
      guard account.inSequence, let due = dueTime(entry.step, for: account) else { break }
      let dueMS = due.epochMilliseconds
      if dueMS > now { return try setCursor(db, account.id, step: current, at: dueMS) }
      let step = entry.step
      if done == nil && !(step.unless.isEmpty && step.onlyIf.isEmpty) { done = try onboarding(db, account.id) }
      var skip: String?
      if now - dueMS > settings.staleAfter.milliseconds {
        skip = "too late: due \(Timestamp.format(due))"
      } else if !step.onlyPlan.isEmpty && !step.onlyPlan.contains(account.plan) {
        skip = "plan \(account.plan)"
      } else if let finished = step.unless.first(where: { done?[$0] != nil }) {
        skip = "\(finished) done"
      } else if let missing = step.onlyIf.first(where: { done?[$0] == nil }) {
        skip = "\(missing) not done"
      }
      let candidate = Candidate(
        sequence: entry.sequence.name, step: step.id, template: step.template, subject: step.subject,
        priority: step.priority)
      if let skip {
        try insert(db, account, candidate, status: "skipped", note: skip, at: now, scheduled: now)
        report.skipped += 1
      } else if let wait = try capFrees(db, account.id, now: now) {
        // The cap is full: the step waits until a sent e-mail leaves the window.
        let later = outsideQuietHours(Date(epochMilliseconds: wait), tz: account.tz).epochMilliseconds
        try setCursor(db, account.id, step: current, at: later)
        report.waiting += 1
        return
      } else if try insert(db, account, candidate, status: "pending", note: nil, at: now, scheduled: now) {
        report.queued += 1
      }
      key = position + 1 < timeline.count ? timeline[position + 1].key : nil
    }
    try setCursor(db, account.id, step: key, at: nil)
  }

  /// When the frequency cap has room again for this account, or nil if it
  /// has room now: at most `maxPerDay` e-mails in any 24 hours and
  /// `maxPerWeek` in any 7 days.
  func capFrees(_ db: GRDB.Database, _ account: String, now: Int64) throws -> Int64? {
    let week: Int64 = 7 * 86_400_000
    let times = try Int64.fetchAll(
      db.cachedStatement(
        sql: """
          SELECT coalesce(sent_at, scheduled_at) AS at FROM email_outbox
          WHERE account_id = ? AND status IN ('pending', 'sending', 'sent') AND coalesce(sent_at, scheduled_at) > ?
          ORDER BY at
          """), arguments: [account, now - week])
    var frees: Int64?
    let day = times.filter { $0 > now - 86_400_000 }
    if settings.maxPerDay > 0 && day.count >= settings.maxPerDay {
      frees = day[day.count - settings.maxPerDay] + 86_400_000
    }
    if settings.maxPerWeek > 0 && times.count >= settings.maxPerWeek {
      frees = max(frees ?? 0, times[times.count - settings.maxPerWeek] + week)
    }
    return frees
  }

  /// One outbox row and, for a pending one, its `email.send` job, in the
  /// caller's transaction. The UNIQUE (account, sequence, step, trial) key
  /// makes a second insert a no-op; returns whether this one was new.
  @discardableResult
  func insert(
    _ db: GRDB.Database, _ account: Account, _ candidate: Candidate, status: String, note: String?, at now: Int64,
    scheduled: Int64
  ) throws -> Bool {
    let needed = subjectVariables[candidate.subject] ?? Templates.variableNames(in: candidate.subject)
    let subject =
      needed.isEmpty
      ? candidate.subject
      : templates.renderSubject(
        candidate.subject, variables: try variables(db, account, extra: candidate.data, needed: needed),
        compiled: subjectTemplates[candidate.subject])
    try db.cachedStatement(
      sql: """
        INSERT INTO email_outbox (account_id, sequence, step, trial, template, recipient, subject, data, priority,
          status, scheduled_at, created_at, last_error)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (account_id, sequence, step, trial) DO NOTHING
        """
    ).execute(
      arguments: [
        account.id, candidate.sequence, candidate.step, account.trial, candidate.template, account.email, subject,
        JSONOutput.object(candidate.data), candidate.priority, status, scheduled, now, note,
      ])
    guard db.changesCount == 1 else { return false }
    let id = db.lastInsertedRowID
    guard status == "pending" else { return true }
    var options = JobOptions()
    options.jobID = "email:\(id)"
    options.attempts = settings.attempts
    options.backoff = Backoff(kind: .exponential, delayMilliseconds: 30_000, jitter: 0.2)
    options.delayMilliseconds = max(0, scheduled - now)
    try jobs.add(
      in: db, queue: settings.queue, job: NewJob(name: Self.sendJob, data: #"{"outbox_id": \#(id)}"#, options: options))
    return true
  }

  /// An e-mail on an occasion (usage, a nudge, inactivity): now, or when
  /// the quiet hours end, or when the frequency cap has room.
  @discardableResult
  func trigger(_ db: GRDB.Database, _ account: Account, _ candidate: Candidate, now: Int64) throws -> Bool {
    guard account.suppressedAt == nil, account.churnedAt == nil else { return false }
    var at = outsideQuietHours(Date(epochMilliseconds: now), tz: account.tz).epochMilliseconds
    if let frees = try capFrees(db, account.id, now: now) {
      at = outsideQuietHours(Date(epochMilliseconds: max(at, frees)), tz: account.tz).epochMilliseconds
    }
    return try insert(db, account, candidate, status: "pending", note: nil, at: now, scheduled: at)
  }

  /// Accounts idle for `reengageAfterDays`: one e-mail per idle stretch.
  func reengage(now: Int64, report: inout TickReport) throws {
    let idleSince = now - Int64(settings.reengageAfterDays) * 86_400_000
    let email = settings.reengageEmail
    try store.writeTransaction { db in
      let idle = try Row.fetchAll(
        db,
        sql: """
          SELECT \(Account.columns) FROM accounts
          WHERE last_active_at <= ? AND reengaged_at IS NULL AND suppressed_at IS NULL AND churned_at IS NULL AND expired_at IS NULL
          LIMIT 10000
          """, arguments: [idleSince]
      ).map(Account.init(row:))
      for account in idle {
        let since = Timestamp.format(account.lastActiveAt ?? Date(epochMilliseconds: 0)).prefix(10)
        let candidate = Candidate(
          sequence: "reengage", step: "idle-since-\(since)", template: email.template, subject: email.subject,
          priority: email.priority, data: ["idle_days": "\(settings.reengageAfterDays)"])
        if try trigger(db, account, candidate, now: now) { report.reengaged += 1 }
        try db.cachedStatement(sql: "UPDATE accounts SET reengaged_at = ? WHERE id = ?")
          .execute(arguments: [now, account.id])
      }
    }
  }
}
