import Delivery
import Foundation
import GRDB
import Mustache
import Scheduler
import Storage

/// Accounts, trials, onboarding, e-mail sequences and usage, on the shared
/// database. Every change writes its timeline row in the same transaction.
public final class Lifecycle: Sendable {
  public static let sendJob = "email.send"
  public static let tickJob = "lifecycle.tick"
  public let store: Store
  public let jobs: JobStore
  public let clock: any Clock
  public let settings: LifecycleSettings
  /// Who changes accounts through this instance (the Unix user, or the engine).
  public let actor: String
  let templates: Templates
  /// The trial's steps in order, and each key's place (read on every tick).
  let timeline: [SequencePlace]
  let timelineIndex: [String: Int]
  /// The variables each subject uses: a subject needs only those.
  let subjectVariables: [String: Set<String>]
  let subjectTemplates: [String: MustacheTemplate]

  public init(jobs: JobStore, settings: LifecycleSettings, actor: String = "opsdeck") {
    self.store = jobs.store
    self.jobs = jobs
    self.clock = jobs.clock
    self.settings = settings
    self.actor = actor
    self.templates = Templates(directory: settings.templatesDirectory)
    let timeline = settings.timeline
    self.timeline = timeline
    var index: [String: Int] = [:]
    for (position, place) in timeline.enumerated() { index[place.key] = position }
    self.timelineIndex = index
    var subjects: [String: Set<String>] = [:]
    let all =
      timeline.map(\.step.subject) + settings.occasions.values.map(\.subject)
    var compiled: [String: MustacheTemplate] = [:]
    for subject in all {
      subjects[subject] = Templates.variableNames(in: subject)
      compiled[subject] = Templates.compileSubject(subject)
    }
    self.subjectVariables = subjects
    self.subjectTemplates = compiled
  }

  var nowMS: Int64 { clock.now().epochMilliseconds }

  static func event(
    _ db: GRDB.Database, _ account: String, _ at: Int64, _ kind: String, _ actor: String, _ note: String?
  )
    throws
  {
    try db.cachedStatement(
      sql: "INSERT INTO lifecycle_events (account_id, at, kind, actor, note) VALUES (?, ?, ?, ?, ?)"
    ).execute(arguments: [account, at, kind, actor, note])
  }

  // MARK: - Accounts

  /// An account to sign up.
  public struct NewAccount: Sendable {
    public var id: String
    public var email: String
    public var name: String?
    public var plan: String
    public var tz: String

    public init(id: String, email: String, name: String? = nil, plan: String = "trial", tz: String = "UTC") {
      self.id = id
      self.email = email
      self.name = name
      self.plan = plan
      self.tz = tz
    }
  }

  /// Signs an account up. On the `trial` plan its trial starts now.
  @discardableResult
  public func addAccount(id: String, email: String, name: String? = nil, plan: String = "trial", tz: String = "UTC")
    throws -> Account
  {
    let new = NewAccount(id: id.trimmingCharacters(in: .whitespaces), email: email, name: name, plan: plan, tz: tz)
    try validate(new)
    try store.writeTransaction { db in try insert(db, new, at: nowMS) }
    return try account(new.id)
  }

  /// Signs many up (an import), `chunk` to a transaction; every one is
  /// checked before any is written. Returns how many were added.
  @discardableResult
  public func addAccounts(_ accounts: [NewAccount], chunk: Int = 1_000) throws -> Int {
    for account in accounts { try validate(account) }
    var start = 0
    while start < accounts.count {
      let now = nowMS
      try store.writeTransaction { db in
        for account in accounts[start..<min(start + chunk, accounts.count)] { try insert(db, account, at: now) }
      }
      start += chunk
    }
    return accounts.count
  }

  func validate(_ new: NewAccount) throws {
    let id = new.id
    guard !id.isEmpty, id.count <= 128, id.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value != 0x7F }) else {
      throw LifecycleInputError("invalid account id '\(id)': expected 1 to 128 characters without spaces")
    }
    try Self.validateEmail(new.email)
    guard settings.plan(new.plan) != nil else {
      throw LifecycleInputError("invalid plan '\(new.plan)': expected one of \(planNames)")
    }
    guard TimeZone(identifier: new.tz) != nil else {
      throw LifecycleInputError("invalid time zone '\(new.tz)': expected an IANA zone such as Europe/Berlin")
    }
  }

  func insert(_ db: GRDB.Database, _ new: NewAccount, at now: Int64) throws {
    let id = new.id
    if try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM accounts WHERE id = ?"), arguments: [id]) == true {
      throw LifecycleInputError("account '\(id)' exists already")
    }
    let trial = new.plan == "trial"
    try db.cachedStatement(
      sql: """
        INSERT INTO accounts (id, name, email, tz, plan, created_at, trial_started_at, trial_ends_at, last_active_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
        """
    ).execute(
      arguments: [
        id, new.name ?? id, new.email, new.tz, new.plan, now, trial ? now : nil,
        trial ? trialEnd(from: now, tz: new.tz) : nil, now,
      ])
    try Self.event(db, id, now, "signed_up", actor, "plan \(new.plan)")
    _ = try observe(db, account: id, event: "account.created", at: now)
    if trial { try scheduleNext(db, account: try account(db, id), after: nil) }
  }

  /// A trial ends at local midnight after its last day: a 30-day trial
  /// that starts on the 1st (day 0) ends as the 31st begins, so "ends
  /// tonight" and "has ended" are true whatever the signup hour was.
  func trialEnd(from start: Int64, tz: String) -> Int64 {
    Self.localTime(day: settings.trialDays, hour: 0, from: Date(epochMilliseconds: start), tz: tz).epochMilliseconds
  }

  var planNames: String { settings.plans.map(\.name).joined(separator: ", ") }

  /// A customer's address: a mail address on a domain with a dot.
  static func validateEmail(_ email: String) throws {
    guard MailMessage.isAddress(email), email.split(separator: "@").last?.contains(".") == true else {
      throw LifecycleInputError("invalid e-mail '\(email)': expected an address such as ana@example.com")
    }
  }

  func account(_ db: GRDB.Database, _ id: String) throws -> Account {
    guard let row = try Row.fetchOne(db, sql: "SELECT \(Account.columns) FROM accounts WHERE id = ?", arguments: [id])
    else { throw LifecycleInputError("no account '\(id)'") }
    return Account(row: row)
  }

  public func account(_ id: String) throws -> Account {
    try store.pool.read { db in try account(db, id) }
  }

  /// Accounts, newest first.
  /// How many accounts there are.
  public func accountCount() throws -> Int {
    try store.pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM accounts") ?? 0 }
  }

  public func accounts(limit: Int = 10_000) throws -> [Account] {
    try store.pool.read { db in
      try Row.fetchAll(
        db, sql: "SELECT \(Account.columns) FROM accounts ORDER BY created_at DESC, id LIMIT ?", arguments: [limit]
      ).map(Account.init(row:))
    }
  }

  /// Moves an account to a paid plan: it leaves the trial sequences at
  /// once (its pending sequence e-mails are skipped in the same transaction).
  public func convert(_ id: String, plan: String) throws {
    guard let target = settings.plan(plan), target.name != "trial" else {
      throw LifecycleInputError(
        "invalid plan '\(plan)': expected a paid plan (\(settings.plans.map(\.name).filter { $0 != "trial" }.joined(separator: ", ")))"
      )
    }
    let now = nowMS
    try store.writeTransaction { db in
      let account = try account(db, id)
      guard account.plan != plan else { throw LifecycleInputError("account '\(id)' is on \(plan) already") }
      try db.execute(
        sql: """
          UPDATE accounts SET plan = ?,
            converted_at = CASE WHEN plan = 'trial' THEN coalesce(converted_at, ?) ELSE converted_at END,
            next_email_step = NULL,
            next_email_at = NULL WHERE id = ?
          """, arguments: [plan, now, id])
      let exiting = settings.sequences.filter(\.exitOnConvert).map(\.name)
      if !exiting.isEmpty {
        try db.execute(
          sql: """
            UPDATE email_outbox SET status = 'skipped', last_error = 'converted'
            WHERE account_id = ? AND status = 'pending' AND sequence IN (\(exiting.map { _ in "?" }.joined(separator: ",")))
            """, arguments: StatementArguments([id] + exiting))
      }
      try Self.event(
        db, id, now, account.plan == "trial" ? "converted" : "plan_changed", actor, "\(account.plan) → \(plan)")
    }
  }

  /// The customer left: no more sequences or occasional e-mails, and the
  /// churn counts in the metrics. Pending e-mails are skipped.
  public func churn(_ id: String, reason: String) throws {
    try stopEmail(id, column: "churned_at", kind: "churned", reason: reason, again: "churned already")
  }

  /// No more lifecycle e-mail to this account: pending ones are skipped.
  public func suppress(_ id: String, reason: String) throws {
    try stopEmail(id, column: "suppressed_at", kind: "suppressed", reason: reason, again: nil)
  }

  /// Sets `column` (churned_at or suppressed_at), takes the account out of
  /// its sequence and skips its pending e-mails, with a timeline row; a
  /// second time is an error naming `again`, or nothing when it is nil.
  func stopEmail(_ id: String, column: String, kind: String, reason: String, again: String?) throws {
    let now = nowMS
    try store.writeTransaction { db in
      _ = try account(db, id)
      let already =
        try Bool.fetchOne(
          db, sql: "SELECT \(column) IS NOT NULL FROM accounts WHERE id = ?", arguments: [id]) ?? false
      if already {
        if let again { throw LifecycleInputError("account '\(id)' \(again)") }
        return
      }
      try db.execute(
        sql: "UPDATE accounts SET \(column) = ?, next_email_step = NULL, next_email_at = NULL WHERE id = ?",
        arguments: [now, id])
      try db.execute(
        sql: "UPDATE email_outbox SET status = 'skipped', last_error = ? WHERE account_id = ? AND status = 'pending'",
        arguments: [kind, id])
      try Self.event(db, id, now, kind, actor, reason)
    }
  }

  /// Adds days to a trial (an expired one comes back), with who and why.
  public func extendTrial(_ id: String, days: Int, reason: String) throws -> Account {
    guard (1...365).contains(days) else { throw LifecycleInputError("invalid --days \(days): expected 1 to 365") }
    let reason = reason.trimmingCharacters(in: .whitespacesAndNewlines)
    guard !reason.isEmpty else { throw LifecycleInputError("invalid --reason: it is empty; say why") }
    let now = nowMS
    try store.writeTransaction { db in
      let account = try account(db, id)
      guard account.plan == "trial", account.convertedAt == nil, let ends = account.trialEndsAt else {
        throw LifecycleInputError("account '\(id)' is not in a trial (plan \(account.plan))")
      }
      let newEnd = max(ends.epochMilliseconds, now) + Int64(days) * 86_400_000
      try db.execute(
        sql: "UPDATE accounts SET trial_ends_at = ?, expired_at = NULL WHERE id = ?", arguments: [newEnd, id])
      try Self.event(
        db, id, now, "trial_extended", actor,
        "+\(days)d to \(Timestamp.format(Date(epochMilliseconds: newEnd))): \(reason)")
    }
    return try account(id)
  }

  // MARK: - Onboarding and activity

  /// An event from the product: completes the onboarding steps it stands
  /// for, and counts as activity. Returns the steps it completed.
  @discardableResult
  public func observe(account: String, event: String, at: Date? = nil) throws -> [String] {
    let at = at?.epochMilliseconds ?? nowMS
    return try store.writeTransaction { db in
      _ = try self.account(db, account)
      return try observe(db, account: account, event: event, at: at)
    }
  }

  func observe(_ db: GRDB.Database, account: String, event: String, at: Int64) throws -> [String] {
    var done: [String] = []
    for step in settings.onboarding where step.event == event {
      try db.cachedStatement(
        sql: "INSERT INTO onboarding (account_id, step, done_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING"
      ).execute(arguments: [account, step.id, at])
      if db.changesCount == 1 {
        done.append(step.id)
        try Self.event(db, account, at, "onboarding", actor, step.title)
      }
    }
    try db.cachedStatement(
      sql: "UPDATE accounts SET last_active_at = max(coalesce(last_active_at, 0), ?), reengaged_at = NULL WHERE id = ?"
    ).execute(arguments: [at, account])
    return done
  }

  /// The onboarding steps an account has done, with when.
  public func onboarding(_ id: String) throws -> [String: Date] {
    try store.pool.read { db in try onboarding(db, id) }
  }

  func onboarding(_ db: GRDB.Database, _ id: String) throws -> [String: Date] {
    var done: [String: Date] = [:]
    for row in try Row.fetchAll(db, sql: "SELECT step, done_at FROM onboarding WHERE account_id = ?", arguments: [id]) {
      done[row[0]] = Date(epochMilliseconds: row[1])
    }
    return done
  }

  /// The first onboarding step not done yet.
  public func nextOnboardingStep(done: [String: Date]) -> OnboardingStep? {
    settings.onboarding.first { done[$0.id] == nil }
  }

  // MARK: - Timeline

  /// Everything that happened to an account, oldest first: its events,
  /// e-mails and usage.
  public func timeline(_ id: String) throws -> [TimelineEntry] {
    try store.pool.read { db in
      _ = try account(db, id)
      var entries = try Row.fetchAll(
        db, sql: "SELECT at, kind, actor, note FROM lifecycle_events WHERE account_id = ?", arguments: [id]
      ).map { TimelineEntry(at: Date(epochMilliseconds: $0[0]), kind: $0[1], actor: $0[2], note: $0[3]) }
      for row in try Row.fetchAll(
        db,
        sql: """
          SELECT coalesce(sent_at, scheduled_at), status, sequence || '/' || step, subject, last_error
          FROM email_outbox WHERE account_id = ?
          """, arguments: [id])
      {
        let error = (row[4] as String?).map { " (\($0))" } ?? ""
        entries.append(
          TimelineEntry(
            at: Date(epochMilliseconds: row[0]), kind: "email_\(row[1] as String)", actor: "opsdeck",
            note: "\(row[2] as String): \(row[3] as String)\(error)"))
      }
      for row in try Row.fetchAll(
        db, sql: "SELECT at, metric, quantity FROM usage_records WHERE account_id = ? ORDER BY at DESC LIMIT 200",
        arguments: [id])
      {
        entries.append(
          TimelineEntry(
            at: Date(epochMilliseconds: row[0]), kind: "usage", actor: "product",
            note: "\(row[1] as String) +\(Usage.format(row[2]))"))
      }
      return entries.sorted { $0.at < $1.at }
    }
  }
}

/// A trial as the `trials` listing and the console show it.
public struct TrialRow: Sendable, Equatable {
  public var account: Account
  public var clock: TrialClock
  public var onboardingDone: Int
  public var onboardingTotal: Int

  public init(account: Account, clock: TrialClock, onboardingDone: Int, onboardingTotal: Int) {
    self.account = account
    self.clock = clock
    self.onboardingDone = onboardingDone
    self.onboardingTotal = onboardingTotal
  }
}

extension Lifecycle {
  /// Accounts on the trial plan, soonest end first (expired ones last).
  public func trials(limit: Int = 100_000) throws -> [TrialRow] {
    let now = clock.now()
    let steps = Set(settings.onboarding.map(\.id))
    return try store.pool.read { db in
      var done: [String: Int] = [:]
      for row in try Row.fetchAll(
        db,
        sql: """
          SELECT o.account_id, o.step FROM onboarding o JOIN accounts a ON a.id = o.account_id
          WHERE a.plan = 'trial'
          """)
      where steps.contains(row[1]) {
        done[row[0], default: 0] += 1
      }
      return try Row.fetchAll(
        db,
        sql:
          "SELECT \(Account.columns) FROM accounts WHERE plan = 'trial' ORDER BY expired_at IS NOT NULL, trial_ends_at, id LIMIT ?",
        arguments: [limit]
      ).map { row in
        let account = Account(row: row)
        return TrialRow(
          account: account, clock: TrialClock(endsAt: account.trialEndsAt ?? now, now: now),
          onboardingDone: done[account.id] ?? 0, onboardingTotal: settings.onboarding.count)
      }
    }
  }
}

/// What metrics need of an account: its dates, plan price and onboarding.
public struct AccountSummary: Sendable, Equatable {
  public var id: String
  public var createdAt: Date
  public var trial: Bool
  public var convertedAt: Date?
  public var churnedAt: Date?
  public var monthlyPrice: Double
  /// When its last onboarding step was done (nil: not all done).
  public var onboardedAt: Date?
  /// When the onboarding step of the first reconciliation was done.
  public var firstReconciliationAt: Date?
}

extension Lifecycle {
  /// Every account, summarised for metrics, in one read.
  public func summaries() throws -> [AccountSummary] {
    let steps = settings.onboarding.map(\.id)
    let reconciliation =
      settings.onboarding.first { $0.id == "reconciliation_run" || $0.event == "reconciliation.completed" }?.id
    return try store.pool.read { db in
      var done: [String: (count: Int, last: Int64, reconciliation: Int64?)] = [:]
      for row in try Row.fetchAll(db, sql: "SELECT account_id, step, done_at FROM onboarding") {
        let step: String = row[1]
        guard steps.contains(step) else { continue }
        var entry = done[row[0]] ?? (0, 0, nil)
        entry.count += 1
        entry.last = max(entry.last, row[2])
        if step == reconciliation { entry.reconciliation = row[2] }
        done[row[0]] = entry
      }
      return try Row.fetchAll(
        db, sql: "SELECT id, created_at, trial_started_at, converted_at, churned_at, plan FROM accounts"
      ).map { row in
        let id: String = row[0]
        let entry = done[id]
        return AccountSummary(
          id: id, createdAt: Date(epochMilliseconds: row[1]), trial: (row[2] as Int64?) != nil,
          convertedAt: (row[3] as Int64?).map(Date.init(epochMilliseconds:)),
          churnedAt: (row[4] as Int64?).map(Date.init(epochMilliseconds:)),
          monthlyPrice: settings.plan(row[5])?.price ?? 0,
          onboardedAt: entry.flatMap { $0.count >= steps.count ? Date(epochMilliseconds: $0.last) : nil },
          firstReconciliationAt: entry?.reconciliation.map(Date.init(epochMilliseconds:)))
      }
    }
  }
}

/// A row of the accounts' timelines, for other engines to read in order.
public struct LifecycleEvent: Sendable, Equatable {
  public var id: Int64
  public var account: String
  public var at: Date
  public var kind: String
  public var note: String?
}

extension Lifecycle {
  /// Timeline rows after `id`, oldest first.
  public func events(after id: Int64, limit: Int = 5_000) throws -> [LifecycleEvent] {
    try store.pool.read { db in
      try Row.fetchAll(
        db, sql: "SELECT id, account_id, at, kind, note FROM lifecycle_events WHERE id > ? ORDER BY id LIMIT ?",
        arguments: [id, limit]
      ).map { LifecycleEvent(id: $0[0], account: $0[1], at: Date(epochMilliseconds: $0[2]), kind: $0[3], note: $0[4]) }
    }
  }

  /// E-mails sent at or after `since` (epoch milliseconds), oldest first.
  public func sentEmails(since: Int64, limit: Int = 5_000) throws -> [OutboxEmail] {
    try store.pool.read { db in
      try Row.fetchAll(
        db,
        sql: """
          SELECT \(OutboxEmail.columns) FROM email_outbox WHERE status = 'sent' AND sent_at >= ?
          ORDER BY sent_at, id LIMIT ?
          """, arguments: [since, limit]
      ).map(OutboxEmail.init(row:))
    }
  }
}
