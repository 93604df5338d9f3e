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

  /// The view for `request` at `now`.
  public static func load(
    _ request: GrowthRequest, settings: AnalyticsSettings, log: EventLog, lifecycle: Lifecycle?, now: Date
  ) -> GrowthView {
    let saved = settings.funnels.isEmpty ? AnalyticsSettings.seedFunnels : settings.funnels
    let chosen = saved[min(max(0, request.funnel), saved.count - 1)]
    var query = chosen.query
    if let window = request.window { query.window = window }
    if let days = request.days { query.from = now.addingTimeInterval(-Double(days) * 86_400) }
    if !request.breakdown { query.breakdown = nil }
    let reports = settings.retention.isEmpty ? AnalyticsSettings.seedRetention : settings.retention
    let report = reports[min(max(0, request.retention), reports.count - 1)]
    var view = GrowthView(
      funnelNames: saved.map(\.name), name: chosen.name, query: query, savedBreakdown: chosen.query.breakdown,
      steps: [], breakdown: [], dropped: [], retentionNames: reports.map(\.name), retentionName: report.name,
      retention: [], retentionPeriod: report.query.period, metrics: nil, error: nil)
    do {
      let result = try log.funnel(query)
      view.steps = result.steps
      view.breakdown = result.breakdown.map { GrowthView.Group(value: $0.value, steps: $0.steps) }
      view.dropped = try [[]] + (2...max(2, query.steps.count)).map { try log.dropped(result, at: $0, limit: 500) }
      var retention = report.query
      retention.to = now
      retention.periods = 8
      retention.from = now.addingTimeInterval(-Double(Self.span(retention.period) * 7))
      view.retention = try log.retention(retention)
      if let lifecycle {
        view.metrics = try Metrics.compute(
          facts: try facts(lifecycle), log: log, now: now, activationDays: settings.activationDays)
      }
    } catch {
      view.error = "\(error)"
    }
    return view
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
