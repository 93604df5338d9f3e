import Analytics
import Foundation
import Lifecycle
import Storage

/// What the Funnels pane asks for: which saved funnel, its window and
/// date range as the keys set them, breakdown on or off, which saved
/// retention report.
public struct GrowthRequest: Sendable, Equatable {
  public var funnel = 0
  /// Overrides the saved window (nil: the saved one).
  public var window: Duration? = nil
  /// Days back the range starts (nil: every event).
  public var days: Int? = nil
  public var breakdown = false
  public var retention = 0

  public init() {}
}

/// The Funnels pane's data, read off the UI loop.
public struct GrowthView: Sendable, Equatable {
  /// One breakdown value's figures.
  public struct Group: Sendable, Equatable {
    public var value: String
    public var steps: [FunnelStepResult]
  }

  public var funnelNames: [String]
  public var name: String
  public var query: FunnelQuery
  /// The saved funnel's breakdown property (what `b` turns on).
  public var savedBreakdown: String?
  public var steps: [FunnelStepResult]
  public var breakdown: [Group]
  /// Per step (index 1…): the actors who dropped off there, sorted (at most 500).
  public var dropped: [[String]]
  public var retentionNames: [String]
  public var retentionName: String
  public var retention: [RetentionCohort]
  public var retentionPeriod: RetentionPeriod
  public var metrics: MetricsReport?
  public var error: String?
}

public enum GrowthData {
  /// Lifecycle's accounts as the metrics take them.
  public static func facts(_ lifecycle: Lifecycle) throws -> [AccountFacts] {
    try lifecycle.summaries().map {
      AccountFacts(
        id: $0.id, signedUpAt: $0.createdAt, trial: $0.trial, convertedAt: $0.convertedAt, churnedAt: $0.churnedAt,
        monthlyPrice: $0.monthlyPrice, onboardedAt: $0.onboardedAt, firstReconciliationAt: $0.firstReconciliationAt)
    }
  }

  /// The view for `request` at `now`. With a `cache`, what the last load
  /// computed is refreshed with the events written since rather than
  /// computed again.
  public static func load(
    _ request: GrowthRequest, settings: AnalyticsSettings, log: EventLog, lifecycle: Lifecycle?, now: Date,
    cache: GrowthCache = GrowthCache()
  ) -> GrowthView {
    let saved = settings.funnels.isEmpty ? AnalyticsSettings.seedFunnels : settings.funnels
    let chosen = saved[min(max(0, request.funnel), saved.count - 1)]
    var query = chosen.query
    if let window = request.window { query.window = window }
    // "The last N days" from the start of that UTC day: the same query all
    // day long, so a kept funnel can be refreshed instead of recomputed.
    if let days = request.days { query.from = Self.startOfDay(now.addingTimeInterval(-Double(days) * 86_400)) }
    if !request.breakdown { query.breakdown = nil }
    let reports = settings.retention.isEmpty ? AnalyticsSettings.seedRetention : settings.retention
    let report = reports[min(max(0, request.retention), reports.count - 1)]
    var view = GrowthView(
      funnelNames: saved.map(\.name), name: chosen.name, query: query, savedBreakdown: chosen.query.breakdown,
      steps: [], breakdown: [], dropped: [], retentionNames: reports.map(\.name), retentionName: report.name,
      retention: [], retentionPeriod: report.query.period, metrics: nil, error: nil)
    do {
      let result = try cache.funnel(query, log: log)
      view.steps = result.steps
      view.breakdown = result.breakdown.map { GrowthView.Group(value: $0.value, steps: $0.steps) }
      view.dropped = try [[]] + (2...max(2, query.steps.count)).map { try cache.dropped(result, at: $0, log: log) }
      // Eight periods back from the start of the day (the same query all day).
      var retention = report.query
      retention.periods = 8
      retention.from = Self.startOfDay(now.addingTimeInterval(-Double(Self.span(retention.period) * 7)))
      view.retention = try cache.retention(retention, log: log)
      if let lifecycle {
        view.metrics = try cache.metrics(now: now) {
          try Metrics.compute(facts: try facts(lifecycle), log: log, now: now, activationDays: settings.activationDays)
        }
      }
    } catch {
      view.error = "\(error)"
    }
    return view
  }

  static func startOfDay(_ date: Date) -> Date {
    Date(timeIntervalSince1970: (date.timeIntervalSince1970 / 86_400).rounded(.down) * 86_400)
  }

  /// Seconds in one period (months taken as 30 days for the range's start).
  static func span(_ period: RetentionPeriod) -> Int {
    switch period {
    case .day: return 86_400
    case .week: return 7 * 86_400
    case .month: return 30 * 86_400
    }
  }
}

/// What the Funnels pane keeps from one load to the next: the funnel and
/// the retention report last computed (refreshed with the events written
/// since, recomputed only when the question changes), the names of the
/// actors shown, and the metrics (computed again at most every 30 s).
public final class GrowthCache: @unchecked Sendable {
  private let lock = NSLock()
  private var funnel: FunnelState?
  private var retention: RetentionState?
  private var names: [Int64: String] = [:]
  private var metrics: (at: Date, report: MetricsReport)?
  static let metricsAge: TimeInterval = 30

  public init() {}

  func funnel(_ query: FunnelQuery, log: EventLog) throws -> FunnelResult {
    try lock.withLock { try Self.kept(&funnel, query, log: log).result }
  }

  func retention(_ query: RetentionQuery, log: EventLog) throws -> [RetentionCohort] {
    try lock.withLock { try Self.kept(&retention, query, log: log).cohorts() }
  }

  /// The report in `slot` brought up to date if it answers `query`, else
  /// computed afresh (and kept there).
  private static func kept<Report: KeptReport>(_ slot: inout Report?, _ query: Report.Query, log: EventLog) throws
    -> Report
  {
    if var report = slot, report.query == query {
      try report.refresh(log)
      slot = report
      return report
    }
    let report = try Report(query: query, log: log)
    slot = report
    return report
  }

  /// The actors who dropped off at `step`, by name, sorted (at most `limit`):
  /// names looked up once per actor.
  func dropped(_ result: FunnelResult, at step: Int, log: EventLog, limit: Int = 500) throws -> [String] {
    let ids = result.droppedIDs(at: step)
    let known = lock.withLock { names }
    let missing = ids.filter { known[$0] == nil }
    let found = try log.keys(missing)
    return lock.withLock {
      for (id, name) in zip(missing, found) { names[id] = name }
      return Array(ids.map { names[$0] ?? "#\($0)" }.sorted().prefix(limit))
    }
  }

  func metrics(now: Date, _ compute: () throws -> MetricsReport) throws -> MetricsReport {
    if let kept = lock.withLock({ metrics }), abs(now.timeIntervalSince(kept.at)) < Self.metricsAge {
      return kept.report
    }
    let report = try compute()
    lock.withLock { metrics = (now, report) }
    return report
  }
}
