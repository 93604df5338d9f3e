import Foundation
import GRDB
import Testing

@Suite struct DemoTests {
  static let scenario = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("data/demo/scenario.json").path

  @Test func theDemoWritesAnHourOfHistoryThenKeepsTheBusinessRunning() throws {
    let workspace = try Workspace()
    let db = workspace.path("demo.db")
    let run = try workspace.opsdeck(["--db", db, "demo", "--scenario", Self.scenario, "--headless", "2s"])
    #expect(run.status == 0, "\(run.stderr)")
    let queues = try workspace.opsdeck(["--db", db, "queues", "--json"])
    let list = try JSONSerialization.jsonObject(with: Data(queues.stdout.utf8)) as? [[String: Any]] ?? []
    #expect(Set(list.compactMap { $0["name"] as? String }).isSuperset(of: ["emails", "webhooks", "reports", "fx"]))
    let failed = list.compactMap { ($0["counts"] as? [String: Any])?["failed"] as? Int }.reduce(0, +)
    let completed = list.compactMap { ($0["counts"] as? [String: Any])?["completed"] as? Int }.reduce(0, +)
    #expect(completed > 1_000)
    #expect(failed > 50)
    let minutes = try scalar(db, "SELECT count(DISTINCT minute) FROM queue_metrics")
    #expect(minutes >= 55, "an hour of throughput history")
    let future = try scalar(
      db, "SELECT count(*) FROM jobs WHERE created_at > CAST(strftime('%s', 'now') AS INTEGER) * 1000 + 1000")
    #expect(future == 0)
    let schedules = try workspace.opsdeck(["--db", db, "schedules", "list", "--json"]).stdout
    #expect(schedules.contains(#""source":"demo""#))
    // A second run keeps the history and adds only live jobs.
    let before = try scalar(db, "SELECT count(*) FROM jobs")
    #expect(try workspace.opsdeck(["--db", db, "demo", "--scenario", Self.scenario, "--headless", "1s"]).status == 0)
    #expect(try scalar(db, "SELECT count(*) FROM jobs") < before + 100)
  }

  /// The demo's flaky dependency, on a fast rhythm: its breaker opens,
  /// half-opens and closes again on its own.
  @Test func theFlakyDependencyTakesItsBreakerRoundTheCycle() throws {
    let workspace = try Workspace()
    var scenario =
      try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Self.scenario))) as? [String: Any]
      ?? [:]
    var dependencies = scenario["dependencies"] as? [[String: Any]] ?? []
    #expect(!dependencies.isEmpty)
    dependencies[0].merge(
      ["healthy_for": "1s", "failing_for": "2s", "probe_every": "100ms", "wait_in_open": "1s"]) { $1 }
    scenario["dependencies"] = dependencies
    try JSONSerialization.data(withJSONObject: scenario).write(to: workspace.url.appendingPathComponent("fast.json"))
    let db = workspace.path("demo.db")
    let run = try workspace.opsdeck(["--db", db, "demo", "--scenario", "fast.json", "--headless", "5s"])
    #expect(run.status == 0, "\(run.stderr)")
    let name = dependencies[0]["name"] as? String ?? "?"
    let history = try workspace.opsdeck(["--db", db, "breakers", "history", name, "--json"])
    try #require(history.status == 0, "\(history.stderr)")
    let moves = try JSONSerialization.jsonObject(with: Data(history.stdout.utf8)) as? [[String: Any]] ?? []
    let states = Set(moves.compactMap { $0["to"] as? String })
    #expect(states.isSuperset(of: ["open", "half_open", "closed"]), "\(history.stdout)")
  }

  /// `--accounts N`: six weeks of trials — some converted, some expired,
  /// onboarding under way, their e-mails sent — and a bad count refused.
  @Test func theDemoSignsUpAccountsWithSixWeeksOfHistory() throws {
    let workspace = try Workspace()
    try workspace.writeMaildirConfig()
    let base = ["--db", workspace.path("demo.db"), "--config", workspace.path("ops.toml")]
    let run = try workspace.opsdeck(
      base + ["demo", "--scenario", Self.scenario, "--headless", "2s", "--accounts", "120", "--seed", "3"])
    #expect(run.status == 0, "\(run.stderr)")
    let accounts =
      try JSONSerialization.jsonObject(
        with: Data(try workspace.opsdeck(base + ["accounts", "--json"]).stdout.utf8)) as? [[String: Any]] ?? []
    #expect(accounts.count == 120)
    #expect(accounts.contains { $0["converted_at"] is String })
    #expect(accounts.contains { $0["expired_at"] is String })
    let trials =
      try JSONSerialization.jsonObject(
        with: Data(try workspace.opsdeck(base + ["trials", "--json"]).stdout.utf8)) as? [[String: Any]] ?? []
    #expect(trials.contains { ($0["days_left"] as? Int ?? 0) > 0 })
    #expect(trials.contains { ($0["onboarding_done"] as? Int ?? 0) >= 3 })
    #expect(try scalar(workspace.path("demo.db"), "SELECT count(*) FROM email_outbox WHERE status = 'sent'") > 200)
    // A second run adds no history.
    _ = try workspace.opsdeck(base + ["demo", "--scenario", Self.scenario, "--headless", "1s", "--accounts", "120"])
    #expect(try scalar(workspace.path("demo.db"), "SELECT count(*) FROM accounts") == 120)
    let bad = try workspace.opsdeck(base + ["demo", "--accounts", "-5", "--headless", "1s"])
    #expect(bad.status == 2 && bad.stderr.contains("--accounts"), "\(bad.stderr)")
  }

  @Test func aMissingScenarioIsOneLine() throws {
    let workspace = try Workspace()
    let outcome = try workspace.opsdeck(["--db", "d.db", "demo", "--scenario", "nope.json", "--headless", "1s"])
    #expect(outcome.status == 2)
    #expect(
      outcome.stderr
        == "opsdeck: --scenario nope.json: cannot read it (the demo's scenario is data/demo/scenario.json in the source tree)\n"
    )
    #expect(!workspace.exists("d.db"))
  }
}
