import Foundation
import GRDB
import Storage

/// One metric of an account in the current period.
public struct UsageLine: Sendable, Equatable {
  public var metric: String
  public var used: Double
  public var quota: Quota?

  /// Use against the quota, in whole percent (nil: no quota).
  public var percent: Int? {
    guard let quota else { return nil }
    return quota.limit > 0 ? Int((used / quota.limit * 100).rounded(.down)) : (used > 0 ? 100 : 0)
  }
}

/// `usage record`'s answer.
public struct UsageRecorded: Sendable, Equatable {
  /// False when the idempotency key had been seen: nothing was written.
  public var recorded: Bool
  public var used: Double
  public var quota: Quota?
  /// Thresholds (percent) this record crossed for the first time this period.
  public var crossed: [Int]
}

/// `usage check`'s answer, for the product to call before a metered action.
public struct UsageDecision: Sendable, Equatable {
  public var allowed: Bool
  public var used: Double
  public var quota: Quota?
  /// Over a soft quota: allowed, with a warning.
  public var overSoft: Bool
}

/// An account over a hard quota this period (alerted by alerts.watch).
public struct QuotaBreach: Sendable, Equatable {
  public var account: String
  public var metric: String
  public var period: String
  public var used: Double
  public var limit: Double
}

public enum Usage {
  /// `12`, `12.5`.
  public static func format(_ value: Double) -> String {
    value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(format: "%.2f", value)
  }

  static func validateMetric(_ metric: String) throws {
    guard !metric.isEmpty, metric.count <= 64,
      metric.unicodeScalars.allSatisfy({ CharacterSet.alphanumerics.contains($0) || "_.-".unicodeScalars.contains($0) })
    else {
      throw LifecycleInputError("invalid metric '\(metric)': expected letters, digits, '_', '.' or '-' (at most 64)")
    }
  }
}

extension Lifecycle {
  /// The billing period an instant falls in for an account: the calendar
  /// month in its time zone, as `2026-11`, with its bounds.
  func period(of at: Int64, tz: String) -> (name: String, start: Int64, end: Int64) {
    let zone = LocalTime.zone(tz)
    let (year, month, _) = Timestamp.civil(fromDays: Int64(LocalTime.day(of: Date(epochMilliseconds: at), in: zone)))
    let (nextYear, nextMonth) = month == 12 ? (year + 1, 1) : (year, month + 1)
    func midnight(_ year: Int, _ month: Int) -> Int64 {
      LocalTime.instant(day: Int(Timestamp.days(fromCivil: year, month, 1)), hour: 0, in: zone).epochMilliseconds
    }
    return (String(format: "%04d-%02d", year, month), midnight(year, month), midnight(nextYear, nextMonth))
  }

  func aggregate(_ metric: String) -> Aggregate { settings.aggregates[metric] ?? .sum }

  func used(_ db: GRDB.Database, account: String, metric: String, from start: Int64, to end: Int64) throws -> Double {
    let expression: String
    switch aggregate(metric) {
    case .sum: expression = "SELECT coalesce(sum(quantity), 0)"
    case .count: expression = "SELECT count(*)"
    case .max: expression = "SELECT coalesce(max(quantity), 0)"
    case .last: expression = "SELECT coalesce((SELECT quantity"
    }
    let range = "FROM usage_records WHERE account_id = ? AND metric = ? AND at >= ? AND at < ?"
    let sql =
      aggregate(metric) == .last
      ? "\(expression) \(range) ORDER BY at DESC, id DESC LIMIT 1), 0)" : "\(expression) \(range)"
    return try Double.fetchOne(db.cachedStatement(sql: sql), arguments: [account, metric, start, end]) ?? 0
  }

  /// Records use of a metric. A repeated idempotency key is ignored.
  /// Crossing a threshold (80% and 100% by default) of the plan's quota
  /// for the first time this period writes it down, puts it on the
  /// timeline and queues the usage e-mail.
  @discardableResult
  public func recordUsage(
    account id: String, metric: String, quantity: Double, at: Date? = nil, idempotencyKey: String? = nil
  ) throws -> UsageRecorded {
    try Usage.validateMetric(metric)
    guard quantity.isFinite, quantity >= 0 else {
      throw LifecycleInputError("invalid quantity \(quantity): expected a number 0 or more")
    }
    let now = nowMS
    let at = at?.epochMilliseconds ?? now
    return try store.writeTransaction { db in
      let account = try account(db, id)
      try db.cachedStatement(
        sql: """
          INSERT INTO usage_records (account_id, metric, quantity, at, idempotency_key) VALUES (?, ?, ?, ?, ?)
          ON CONFLICT (account_id, idempotency_key) DO NOTHING
          """
      ).execute(arguments: [id, metric, quantity, at, idempotencyKey])
      let recorded = db.changesCount == 1
      let period = period(of: at, tz: account.tz)
      let used = try used(db, account: id, metric: metric, from: period.start, to: period.end)
      let quota = settings.plan(account.plan)?.quotas[metric]
      var crossed: [Int] = []
      guard recorded else { return UsageRecorded(recorded: false, used: used, quota: quota, crossed: []) }
      try db.cachedStatement(
        sql:
          "UPDATE accounts SET last_active_at = max(coalesce(last_active_at, 0), ?), reengaged_at = NULL WHERE id = ?"
      ).execute(arguments: [at, id])
      if let quota, quota.limit > 0 {
        for threshold in settings.usageThresholds where used >= quota.limit * Double(threshold) / 100 {
          try db.execute(
            sql: """
              INSERT INTO usage_thresholds (account_id, metric, period, threshold, hard, used, quota, at)
              VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
              """, arguments: [id, metric, period.name, threshold, quota.hard, used, quota.limit, now])
          guard db.changesCount == 1 else { continue }
          crossed.append(threshold)
          try Self.event(
            db, id, now, "quota_\(threshold)", "opsdeck",
            "\(metric) \(Usage.format(used)) of \(Usage.format(quota.limit)) (\(quota.hard ? "hard" : "soft"), \(period.name))"
          )
        }
        // One e-mail for the highest threshold crossed, in this period only.
        if let top = crossed.max(), period.name == self.period(of: now, tz: account.tz).name {
          let email = settings.usageEmail
          let upgrade = settings.upgrade(for: metric, above: quota.limit)?.name ?? "a larger"
          try trigger(
            db, account,
            Candidate(
              sequence: "usage", step: "\(metric)-\(top)-\(period.name)", template: email.template,
              subject: email.subject, priority: email.priority + (top >= 100 ? 20 : 0),
              data: [
                "metric": metric, "percent": "\(top)", "threshold": "\(top)", "used": Usage.format(used),
                "limit": Usage.format(quota.limit), "upgrade_plan": upgrade,
              ]), now: now)
        }
      }
      return UsageRecorded(recorded: true, used: used, quota: quota, crossed: crossed)
    }
  }

  /// Would `quantity` more of `metric` be allowed? Hard quotas deny, soft
  /// ones allow and warn. Trying a metric the plan gives none of (a
  /// paid-only feature) queues an upgrade nudge, once per period.
  public func checkUsage(account id: String, metric: String, quantity: Double = 1) throws -> UsageDecision {
    try Usage.validateMetric(metric)
    guard quantity.isFinite, quantity >= 0 else {
      throw LifecycleInputError("invalid --qty \(quantity): expected a number 0 or more")
    }
    let now = nowMS
    return try store.writeTransaction { db in
      let account = try account(db, id)
      let period = period(of: now, tz: account.tz)
      let used = try used(db, account: id, metric: metric, from: period.start, to: period.end)
      guard let quota = settings.plan(account.plan)?.quotas[metric] else {
        return UsageDecision(allowed: true, used: used, quota: nil, overSoft: false)
      }
      let over = used + quantity > quota.limit
      if over && quota.hard && quota.limit == 0 {
        let email = settings.nudgeEmail
        let upgrade = settings.upgrade(for: metric, above: 0)?.name ?? "a paid"
        let queued = try trigger(
          db, account,
          Candidate(
            sequence: "nudge", step: "\(metric)-\(period.name)", template: email.template, subject: email.subject,
            priority: email.priority, data: ["metric": metric, "upgrade_plan": upgrade]), now: now)
        if queued { try Self.event(db, id, now, "feature_blocked", "product", "\(metric) is on \(upgrade)") }
      }
      return UsageDecision(allowed: !over || !quota.hard, used: used, quota: quota, overSoft: over && !quota.hard)
    }
  }

  /// Each metric with a quota on the account's plan or use this period.
  public func usage(account id: String) throws -> [UsageLine] {
    try store.pool.read { db in try usageLines(db, try account(db, id)) }
  }

  func usageLines(_ db: GRDB.Database, _ account: Account) throws -> [UsageLine] {
    let period = period(of: nowMS, tz: account.tz)
    let quotas = settings.plan(account.plan)?.quotas ?? [:]
    let recorded = try String.fetchAll(
      db, sql: "SELECT DISTINCT metric FROM usage_records WHERE account_id = ? AND at >= ? AND at < ?",
      arguments: [account.id, period.start, period.end])
    let metrics = Set(quotas.keys).union(recorded).sorted()
    return try metrics.map { metric in
      UsageLine(
        metric: metric, used: try used(db, account: account.id, metric: metric, from: period.start, to: period.end),
        quota: quotas[metric])
    }
  }

  /// Accounts at or over a hard quota in their current period.
  public func hardQuotaBreaches() throws -> [QuotaBreach] {
    let now = nowMS
    return try store.pool.read { db in
      let rows = try Row.fetchAll(
        db,
        sql: """
          SELECT t.account_id, t.metric, t.period, t.used, t.quota, a.tz, a.plan FROM usage_thresholds t
          JOIN accounts a ON a.id = t.account_id WHERE t.hard = 1 AND t.threshold >= 100
          """)
      return rows.compactMap { row -> QuotaBreach? in
        let tz: String = row[5]
        guard (row[2] as String) == period(of: now, tz: tz).name else { return nil }
        // A plan change since may have lifted the quota.
        guard let quota = settings.plan(row[6])?.quotas[row[1]], quota.hard, (row[3] as Double) >= quota.limit else {
          return nil
        }
        return QuotaBreach(account: row[0], metric: row[1], period: row[2], used: row[3], limit: quota.limit)
      }
    }
  }
}

extension Lifecycle {
  /// The metric the console shows against its quota for trials:
  /// `reconciliations` when the trial plan meters it, else its first quota.
  public var primaryMetric: String? {
    let quotas = settings.plan("trial")?.quotas ?? [:]
    return quotas["reconciliations"] != nil ? "reconciliations" : quotas.keys.sorted().first
  }

  /// This period's use of the primary metric by every trial account, in
  /// one read: each account's records bucketed by its own period.
  public func trialUsage() throws -> [String: UsageLine] {
    guard let metric = primaryMetric else { return [:] }
    let now = nowMS
    let quota = settings.plan("trial")?.quotas[metric]
    let kind = aggregate(metric)
    return try store.pool.read { db in
      // The earliest any zone's month can have started: UTC's minus 14 hours.
      let earliest = period(of: now, tz: "UTC").start - 14 * 3_600_000
      var zones: [String: String] = [:]
      for row in try Row.fetchAll(db, sql: "SELECT id, tz FROM accounts WHERE plan = 'trial'") {
        zones[row[0]] = row[1]
      }
      var starts: [String: Int64] = [:]
      var lines: [String: UsageLine] = [:]
      var latest: [String: Int64] = [:]
      for row in try Row.fetchAll(
        db,
        sql: """
          SELECT u.account_id, u.quantity, u.at FROM usage_records u JOIN accounts a ON a.id = u.account_id
          WHERE a.plan = 'trial' AND u.metric = ? AND u.at >= ? ORDER BY u.at, u.id
          """, arguments: [metric, earliest])
      {
        let account: String = row[0]
        let quantity: Double = row[1]
        let at: Int64 = row[2]
        let start = starts[account] ?? period(of: now, tz: zones[account] ?? "UTC").start
        starts[account] = start
        guard at >= start else { continue }
        var line = lines[account] ?? UsageLine(metric: metric, used: 0, quota: quota)
        switch kind {
        case .sum: line.used += quantity
        case .count: line.used += 1
        case .max: line.used = max(line.used, quantity)
        case .last: if at >= latest[account, default: .min] { line.used = quantity }
        }
        latest[account] = at
        lines[account] = line
      }
      for account in zones.keys where lines[account] == nil {
        lines[account] = UsageLine(metric: metric, used: 0, quota: quota)
      }
      return lines
    }
  }

  /// Accounts converted in the last `days` days, newest first.
  public func recentConversions(days: Int = 7) throws -> [Account] {
    let since = nowMS - Int64(days) * 86_400_000
    return try store.pool.read { db in
      try Row.fetchAll(
        db, sql: "SELECT \(Account.columns) FROM accounts WHERE converted_at >= ? ORDER BY converted_at DESC LIMIT 500",
        arguments: [since]
      ).map(Account.init(row:))
    }
  }
}
