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
    let active = { (from: Date, to: Date) throws -> Double in Double(try log.activeAccounts(from: from, to: to)) }
    return MetricsReport(
      activationRate: .init(value: activation(at: now), weekAgo: activation(at: weekAgo)),
      activationDays: activationDays, trialToPaid: trialWeeks,
      medianTimeToFirstReconciliation: .init(
        value: medianFirstReconciliation(at: now), weekAgo: medianFirstReconciliation(at: weekAgo)),
      dailyActive: .init(
        value: try active(now.addingTimeInterval(-day), now),
        weekAgo: try active(weekAgo.addingTimeInterval(-day), weekAgo)),
      weeklyActive: .init(
        value: try active(weekAgo, now), weekAgo: try active(weekAgo.addingTimeInterval(-7 * day), weekAgo)),
      mrr: .init(value: mrr(at: now), weekAgo: mrr(at: weekAgo)),
      churnRate: .init(value: churn(at: now), weekAgo: churn(at: weekAgo)), payingAccounts: paying(at: now).count)
  }
}

extension EventLog {
  /// Accounts with at least one event in `from...to`.
  public func activeAccounts(from: Date, to: Date) throws -> Int {
    try store.pool.read { db in
      try Int.fetchOne(
        db, sql: "SELECT count(DISTINCT account) FROM analytics_events WHERE ts >= ? AND ts <= ?",
        arguments: [from.epochMilliseconds, to.epochMilliseconds]) ?? 0
    }
  }
}
