import Analytics
import ArgumentParser
import Foundation
import OpsDeck
import Storage

struct MetricsCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "metrics", abstract: "Growth metrics with their value a week ago.",
    discussion: """
      Activation (onboarding completed within 7 days of sign-up, of those who signed up 7 to 90
      days ago), trial-to-paid conversion by sign-up week (Monday first, UTC), median time to the
      first reconciliation, daily and weekly active accounts (any event), MRR from plan prices,
      and churn (paying accounts 30 days ago that have churned since).
      """)
  @OptionGroup var global: GlobalOptions
  @Flag(help: "Print JSON.") var json = false

  func run() throws {
    let report = try global.runtime().metrics()
    func figure(_ figure: MetricsReport.Figure) -> JSONValue {
      .object([
        "value": figure.value.map(JSONValue.number) ?? .null,
        "week_ago": figure.weekAgo.map(JSONValue.number) ?? .null,
        "change": figure.change.map { .number(($0 * 10_000).rounded() / 10_000) } ?? .null,
      ])
    }
    if json {
      return try Output.json(
        JSONValue.object([
          "activation_rate": figure(report.activationRate), "activation_days": .number(Double(report.activationDays)),
          "trial_to_paid": .array(
            report.trialToPaid.map {
              .object([
                "week": .string($0.week), "trials": .number(Double($0.trials)),
                "converted": .number(Double($0.converted)), "rate": .number(($0.rate * 10_000).rounded() / 10_000),
              ])
            }),
          "median_time_to_first_reconciliation_s": figure(report.medianTimeToFirstReconciliation),
          "daily_active_accounts": figure(report.dailyActive), "weekly_active_accounts": figure(report.weeklyActive),
          "mrr": figure(report.mrr), "churn_rate": figure(report.churnRate),
          "paying_accounts": .number(Double(report.payingAccounts)),
        ]))
    }
    func percent(_ value: Double?) -> String { value.map { String(format: "%.1f%%", $0 * 100) } ?? "-" }
    func change(_ figure: MetricsReport.Figure) -> String {
      figure.change.map { String(format: "%+.1f%% w/w", $0 * 100) } ?? ""
    }
    Output.columns(
      ["METRIC", "NOW", "A WEEK AGO", "CHANGE"],
      [
        [
          "activation (\(report.activationDays)d)", percent(report.activationRate.value),
          percent(report.activationRate.weekAgo), change(report.activationRate),
        ],
        [
          "median time to first reconciliation",
          report.medianTimeToFirstReconciliation.value.map(FunnelCommand.span) ?? "-",
          report.medianTimeToFirstReconciliation.weekAgo.map(FunnelCommand.span) ?? "-",
          change(report.medianTimeToFirstReconciliation),
        ],
        [
          "daily active accounts", report.dailyActive.value.map { "\(Int($0))" } ?? "-",
          report.dailyActive.weekAgo.map { "\(Int($0))" } ?? "-", change(report.dailyActive),
        ],
        [
          "weekly active accounts", report.weeklyActive.value.map { "\(Int($0))" } ?? "-",
          report.weeklyActive.weekAgo.map { "\(Int($0))" } ?? "-", change(report.weeklyActive),
        ],
        [
          "MRR", report.mrr.value.map { String(format: "$%.0f", $0) } ?? "-",
          report.mrr.weekAgo.map { String(format: "$%.0f", $0) } ?? "-", change(report.mrr),
        ],
        ["churn (30d)", percent(report.churnRate.value), percent(report.churnRate.weekAgo), change(report.churnRate)],
      ])
    Output.line("")
    Output.columns(
      ["SIGN-UP WEEK", "TRIALS", "PAID", "RATE"],
      report.trialToPaid.map { ["\($0.week)", "\($0.trials)", "\($0.converted)", percent($0.rate)] })
  }
}
