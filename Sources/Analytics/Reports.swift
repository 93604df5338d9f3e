import Foundation

/// A named report from the config: a funnel or a retention report.
public struct SavedReport<Query: Sendable & Equatable>: Sendable, Equatable {
  public var name: String
  public var query: Query

  public init(name: String, query: Query) {
    self.name = name
    self.query = query
  }
}

public typealias SavedFunnel = SavedReport<FunnelQuery>
public typealias SavedRetention = SavedReport<RetentionQuery>

/// `[analytics]`: the saved reports, and how metrics and retention count.
public struct AnalyticsSettings: Sendable, Equatable {
  public var timeZone = "UTC"
  public var weekStartsMonday = false
  public var activationDays = 7
  public var funnels: [SavedFunnel] = AnalyticsSettings.seedFunnels
  public var retention: [SavedRetention] = AnalyticsSettings.seedRetention

  public init() {}

  public static let seedFunnels: [SavedFunnel] = {
    var trial = FunnelQuery(steps: ["signup", "bank.connected", "reconciliation.completed", "plan.upgraded"])
    trial.window = .seconds(30 * 86_400)
    trial.breakdown = "source"
    var onboarding = FunnelQuery(steps: ["signup", "bank.connected", "statement.imported", "reconciliation.completed"])
    onboarding.window = .seconds(14 * 86_400)
    onboarding.breakdown = "source"
    return [SavedFunnel(name: "trial to paid", query: trial), SavedFunnel(name: "onboarding", query: onboarding)]
  }()

  public static let seedRetention: [SavedRetention] = [
    SavedRetention(
      name: "weekly reconciliations",
      query: RetentionQuery(startEvent: "signup", returnEvent: "reconciliation.completed"))
  ]
}
