import Foundation
import GRDB
import Storage

/// What the metrics need to know of an account (Lifecycle's, handed over
/// by the runtime: Analytics does not read Lifecycle's tables).
public struct AccountFacts: Sendable, Equatable {
  public var id: String
  public var signedUpAt: Date
  /// Started on the trial plan.
  public var trial: Bool
  public var convertedAt: Date?
  public var churnedAt: Date?
  /// The monthly price of its plan now (0 on the trial).
  public var monthlyPrice: Double
  /// When its last onboarding step was done (nil: not all done).
  public var onboardedAt: Date?
  /// When it first ran a reconciliation.
  public var firstReconciliationAt: Date?

  public init(
    id: String, signedUpAt: Date, trial: Bool, convertedAt: Date?, churnedAt: Date?, monthlyPrice: Double,
    onboardedAt: Date?, firstReconciliationAt: Date?
  ) {
    self.id = id
    self.signedUpAt = signedUpAt
    self.trial = trial
    self.convertedAt = convertedAt
    self.churnedAt = churnedAt
    self.monthlyPrice = monthlyPrice
    self.onboardedAt = onboardedAt
    self.firstReconciliationAt = firstReconciliationAt
  }
}

/// The growth team's headline numbers, each with its value a week earlier.
public struct MetricsReport: Sendable, Equatable {
  public struct Figure: Sendable, Equatable {
    public var value: Double?
    public var weekAgo: Double?

    /// Week-over-week change, as a fraction (nil without both values).
    public var change: Double? {
      guard let value, let weekAgo, weekAgo != 0 else { return nil }
      return (value - weekAgo) / weekAgo
    }
  }

  public struct TrialWeek: Sendable, Equatable {
    /// The week's first day (Monday), `YYYY-MM-DD`.
    public var week: String
    public var trials: Int
    public var converted: Int
    public var rate: Double { trials == 0 ? 0 : Double(converted) / Double(trials) }
  }

  /// Accounts that completed onboarding within `activationDays` of
  /// signing up, of those that signed up at least that long ago (last 90 days).
  public var activationRate: Figure
  public var activationDays: Int
  public var trialToPaid: [TrialWeek]
  /// Seconds from sign-up to the first reconciliation (median over the last 90 days' sign-ups).
  public var medianTimeToFirstReconciliation: Figure
  public var dailyActive: Figure
  public var weeklyActive: Figure
  /// Monthly recurring revenue: paying accounts' plan prices.
  public var mrr: Figure
  /// Accounts churned in the last 30 days, of those paying 30 days ago.
  public var churnRate: Figure
  public var payingAccounts: Int
}

public enum Metrics {
  static let day: TimeInterval = 86_400

  /// Computes every figure at `now` from the accounts and the event log.
  public static func compute(
    facts: [AccountFacts], log: EventLog, now: Date, activationDays: Int = 7, weeks: Int = 8
  ) throws -> MetricsReport {
    func activation(at time: Date) -> Double? {
      let window = Double(activationDays) * day
      let cohort = facts.filter {
        $0.signedUpAt <= time.addingTimeInterval(-window) && $0.signedUpAt > time.addingTimeInterval(-90 * day)
      }
      guard !cohort.isEmpty else { return nil }
      let activated = cohort.filter { account in
        account.onboardedAt.map { $0 <= time && $0.timeIntervalSince(account.signedUpAt) <= window } ?? false
      }
      return Double(activated.count) / Double(cohort.count)
    }
    func medianFirstReconciliation(at time: Date) -> Double? {
      let times = facts.compactMap { account -> Double? in
        guard account.signedUpAt > time.addingTimeInterval(-90 * day), let first = account.firstReconciliationAt,
          first <= time
        else { return nil }
        return first.timeIntervalSince(account.signedUpAt)
      }.sorted()
      guard !times.isEmpty else { return nil }
      return times.count % 2 == 1 ? times[times.count / 2] : (times[times.count / 2 - 1] + times[times.count / 2]) / 2
    }
    func paying(at time: Date) -> [AccountFacts] {
      facts.filter { account in
        account.monthlyPrice > 0
          && (account.trial ? (account.convertedAt.map { $0 <= time } ?? false) : account.signedUpAt <= time)
          && (account.churnedAt.map { $0 > time } ?? true)
      }
    }
    func mrr(at time: Date) -> Double { paying(at: time).reduce(0) { $0 + $1.monthlyPrice } }
    func churn(at time: Date) -> Double? {
      let start = time.addingTimeInterval(-30 * day)
      let base = paying(at: start)
      guard !base.isEmpty else { return nil }
      let left = base.filter { account in account.churnedAt.map { $0 > start && $0 <= time } ?? false }
      return Double(left.count) / Double(base.count)
    }
    let weekAgo = now.addingTimeInterval(-7 * day)
    // Trial-to-paid by sign-up week (Monday first, UTC), the last `weeks` weeks.
    var trialWeeks: [MetricsReport.TrialWeek] = []
    var buckets = try Buckets(tz: "UTC", period: .week, weekStartsMonday: true)
    let thisWeek = buckets.bucket(now.epochMilliseconds)
    var byWeek: [Int64: (Int, Int)] = [:]
    for account in facts where account.trial {
      let week = buckets.bucket(account.signedUpAt.epochMilliseconds)
      var entry = byWeek[week] ?? (0, 0)
      entry.0 += 1
      if account.convertedAt != nil { entry.1 += 1 }
      byWeek[week] = entry
    }
    for offset in stride(from: Int64(weeks - 1), through: 0, by: -1) {
      let week = thisWeek - 7 * offset
      let entry = byWeek[week] ?? (0, 0)
      trialWeeks.append(MetricsReport.TrialWeek(week: buckets.label(week), trials: entry.0, converted: entry.1))
    }
    // Daily and weekly actives, now and a week ago: one pass over the events.
    let windows = [
      (now.addingTimeInterval(-day), now), (weekAgo.addingTimeInterval(-day), weekAgo), (weekAgo, now),
      (weekAgo.addingTimeInterval(-7 * day), weekAgo),
    ]
    let active = try log.activeAccounts(in: windows.map { $0.0.epochMilliseconds...$0.1.epochMilliseconds }).map(
      Double.init)
    return MetricsReport(
      activationRate: .init(value: activation(at: now), weekAgo: activation(at: weekAgo)),
      activationDays: activationDays, trialToPaid: trialWeeks,
      medianTimeToFirstReconciliation: .init(
        value: medianFirstReconciliation(at: now), weekAgo: medianFirstReconciliation(at: weekAgo)),
      dailyActive: .init(value: active[0], weekAgo: active[1]),
      weeklyActive: .init(value: active[2], weekAgo: active[3]),
      mrr: .init(value: mrr(at: now), weekAgo: mrr(at: weekAgo)),
      churnRate: .init(value: churn(at: now), weekAgo: churn(at: weekAgo)), payingAccounts: paying(at: now).count)
  }
}

extension EventLog {
  /// Accounts with at least one event in `from...to`.
  public func activeAccounts(from: Date, to: Date) throws -> Int {
    try activeAccounts(in: [from.epochMilliseconds...to.epochMilliseconds])[0]
  }

  /// For each range of epoch milliseconds, the accounts with at least one
  /// event in it: one pass over the column blocks and the rows since.
  public func activeAccounts(in ranges: [ClosedRange<Int64>]) throws -> [Int] {
    try store.pool.read { db in
      let actors = try Int.fetchOne(db, sql: "SELECT coalesce(max(id), 0) FROM analytics_actors") ?? 0
      // One bit per actor per range.
      let words = actors / 64 + 1
      var seen = [UInt64](repeating: 0, count: words * ranges.count)
      func mark(_ ts: Int64, _ account: Int32) {
        for (index, range) in ranges.enumerated() where range.contains(ts) {
          let bit = Int(account)
          guard bit > 0, bit <= actors else { continue }
          seen[index * words + bit / 64] |= 1 << UInt64(bit % 64)
        }
      }
      let position = try EventLog.foldedThrough(db)
      let blocks = try Row.fetchCursor(db, sql: "SELECT count, ts, accounts FROM analytics_columns")
      while let row = try blocks.next() {
        let count: Int = row[0]
        let ts: Data = row[1]
        let accounts: Data = row[2]
        ts.withUnsafeBytes { ts in
          accounts.withUnsafeBytes { accounts in
            let available = min(count, ts.count / 8, accounts.count / 4)
            for index in 0..<available {
              mark(
                ts.loadUnaligned(fromByteOffset: index * 8, as: Int64.self),
                accounts.loadUnaligned(fromByteOffset: index * 4, as: Int32.self))
            }
          }
        }
      }
      try RawStatement.scanIntegers(
        db, sql: "SELECT ts, account FROM analytics_events WHERE id > ?", arguments: [position], columns: 2
      ) { row in mark(row[0], Int32(truncatingIfNeeded: row[1])) }
      return ranges.indices.map { index in
        seen[(index * words)..<((index + 1) * words)].reduce(0) { $0 + $1.nonzeroBitCount }
      }
    }
  }
}
