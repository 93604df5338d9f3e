import Foundation

/// A named funnel from the config.
public struct SavedFunnel: Sendable, Equatable {
  public var name: String
  public var query: FunnelQuery

  public init(name: String, query: FunnelQuery) {
    self.name = name
    self.query = query
  }
}

/// A named retention report from the config.
public struct SavedRetention: Sendable, Equatable {
  public var name: String
  public var query: RetentionQuery

  public init(name: String, query: RetentionQuery) {
    self.name = name
    self.query = query
  }
}

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
