import Alerting
import Analytics
import Console
import Foundation
import GRDB
import Lifecycle
import Resilience
import Scheduler
import Storage

/// A database with queues and jobs in every state at a fixed time, and a
/// console on a memory terminal.
final class ConsoleFixture {
  let directory: URL
  let store: Store
  let clock = ManualClock(Date(timeIntervalSince1970: 1_767_225_600))  // 2026-01-01T00:00:00Z
  let jobs: JobStore

  init() throws {
    directory = FileManager.default.temporaryDirectory.appendingPathComponent("opsdeck-console-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    store = try Store.open(path: directory.appendingPathComponent("ops.db").path, create: true)
    try store.migrate(
      StorageSchema.migrations + SchedulerSchema.migrations + ResilienceSchema.migrations
        + AlertingSchema.migrations + LifecycleSchema.migrations + AnalyticsSchema.migrations, now: clock.now(),
      version: "test")
    jobs = JobStore(store: store, clock: clock, actor: "oncall")
    var settings = LifecycleSettings()
    settings.plans = LifecycleSettings.seedPlans
    settings.onboarding = LifecycleSettings.seedOnboarding
    settings.sequences = [LifecycleSettings.seedSequence]
    lifecycle = Lifecycle(jobs: jobs, settings: settings, actor: "oncall")
  }

  let lifecycle: Lifecycle

  /// Product events for the Funnels pane: six accounts through the seed's
  /// "trial to paid" steps, from two sources, over the last three weeks.
  func populateEvents() throws {
    let log = EventLog(store: store)
    let now = clock.now()
    let journeys: [(String, String, [String])] = [
      ("acme", "ads", ["signup", "bank.connected", "reconciliation.completed", "plan.upgraded"]),
      ("globex", "ads", ["signup", "bank.connected", "reconciliation.completed"]),
      ("initech", "organic", ["signup", "bank.connected"]),
      ("hooli", "organic", ["signup"]),
      ("umbrella", "organic", ["signup", "bank.connected"]),
      ("northwind", "ads", ["signup"]),
    ]
    for (index, (account, source, steps)) in journeys.enumerated() {
      var at = now.addingTimeInterval(-Double(20 - index) * 86_400)
      for step in steps {
        try log.track(
          TrackedEvent(
            name: step, accountID: account, at: at, properties: step == "signup" ? ["source": source] : [:]))
        at = at.addingTimeInterval(Double(index + 1) * 3_600)
      }
    }
  }

  /// Five trials signed up over the last 29 days (one at its last hours,
  /// one expired, one converted) with onboarding and usage.
  func populateTrials() throws {
    let start = clock.now()
    let signups: [(String, String, Double)] = [
      ("northwind", "Northwind Traders", 28.5), ("acme", "Acme Ltd", 27.5), ("globex", "Globex", 12),
      ("initech", "Initech", 2), ("umbrella", "Umbrella \u{1B}[31mCorp", 31), ("hooli", "Hooli", 20),
    ]
    for (id, name, daysAgo) in signups {
      clock.set(to: start.addingTimeInterval(-daysAgo * 86_400))
      try lifecycle.addAccount(id: id, email: "ops@\(id).test", name: name, tz: "UTC")
    }
    clock.set(to: start.addingTimeInterval(-86_400))
    for event in ["bank.connected", "statement.imported", "reconciliation.completed"] {
      try lifecycle.observe(account: "acme", event: event)
    }
    try lifecycle.observe(account: "globex", event: "bank.connected")
    try lifecycle.convert("hooli", plan: "growth")
    clock.set(to: start)
    try lifecycle.recordUsage(account: "acme", metric: "reconciliations", quantity: 42)
    try lifecycle.recordUsage(account: "globex", metric: "reconciliations", quantity: 7)
    try lifecycle.tick()
  }

  deinit { try? FileManager.default.removeItem(at: directory) }

  /// emails: 3 completed, 2 failed, 1 waiting; webhooks: paused, 2 delayed;
  /// fx: one failed job whose data and error carry escape sequences.
  func populate() throws {
    for index in 0..<6 { try jobs.add(queue: "emails", name: "email.send", data: #"{"n":\#(index)}"#) }
    let claimed = try jobs.claim(queue: "emails", limit: 5, lockDuration: 30_000).jobs
    clock.advance(by: .seconds(30))
    try jobs.finish(
      claimed.prefix(3).map { .completed($0, returnValue: nil) }
        + claimed.suffix(2).map { .failed($0, error: "smtp 451: try again later") })
    var later = JobOptions()
    later.delayMilliseconds = 3_600_000
    try jobs.add(queue: "webhooks", name: "webhook.deliver", options: later)
    later.delayMilliseconds = 7_200_000
    try jobs.add(queue: "webhooks", name: "webhook.deliver", options: later)
    try jobs.setPaused("webhooks", true)
    try jobs.add(queue: "fx", name: "fx.sync", data: #"{"feed": "\u001b[2J\u001b]0;pwned\u0007"}"#)
    let fx = try jobs.claim(queue: "fx", limit: 1, lockDuration: 30_000).jobs
    try jobs.finish(fx.map { .failed($0, error: "bad \u{1B}[31mred\u{1B}[0m feed") })
    clock.advance(by: .seconds(90))
  }

  /// A daily cron schedule in Berlin and a five-minute interval.
  func populateSchedules() throws {
    let schedules = Schedules(jobs: jobs)
    try schedules.upsert(
      ScheduleSpec(
        id: "daily-report", queue: "reports", name: "report.daily",
        repeats: .cron(try CronExpression(parsing: "0 9 * * *"), timeZone: "Europe/Berlin")), source: "config")
    try schedules.upsert(
      ScheduleSpec(id: "fx-refresh", queue: "fx", name: "fx.sync", repeats: .every(milliseconds: 300_000)))
  }

  /// The breakers' settings: a window of 4 calls, 4 at least.
  var breakerSettings: [String: BreakerSettings] {
    var settings = BreakerSettings()
    settings.windowSize = 4
    settings.minimumCalls = 4
    settings.waitInOpenMilliseconds = 60_000
    return ["bank": settings, "fx-feed": settings]
  }

  /// fx-feed opened by four failures 30 s ago; bank closed with three calls.
  func populateBreakers() throws {
    let registry = BreakerRegistry(store: store, clock: clock, settings: breakerSettings, actor: "opsdeck")
    for _ in 0..<4 { try registry.record(try registry.acquire("fx-feed"), .failure("fx-feed: HTTP 503")) }
    for _ in 0..<3 { try registry.record(try registry.acquire("bank"), .success) }
    clock.advance(by: 30)
    _ = try? registry.acquire("fx-feed")
    try registry.syncAll()
  }

  /// Two critical, one error, one warning (acknowledged), one info; the
  /// warning has an escape sequence in its summary.
  func populateAlerts() throws {
    let alerts = AlertStore(store: store, clock: clock, actor: "opsdeck")
    try alerts.raise(
      NewAlert(severity: .warning, summary: "disk 85% on db1 \u{1B}[2J", labels: ["host": "db1"], source: "watcher"))
    clock.advance(by: 30)
    try alerts.raise(
      NewAlert(severity: .critical, summary: "payments API down", labels: ["service": "payments"], source: "health"))
    try alerts.raise(NewAlert(severity: .info, summary: "nightly report late", source: "scheduler"))
    clock.advance(by: 30)
    try alerts.raise(
      NewAlert(severity: .error, summary: "webhooks failing for acme", labels: ["endpoint": "3"], source: "delivery"))
    try alerts.raise(
      NewAlert(
        severity: .critical, summary: "bank feed breaker open", labels: ["dependency": "bank"], source: "breakers"))
    try alerts.raise(
      NewAlert(severity: .critical, summary: "payments API down", labels: ["service": "payments"], source: "health"))
    try AlertStore(store: store, clock: clock, actor: "maria").acknowledge([1])
  }

  func app(width: Int = 80, height: Int = 24, readOnly: Bool = false, unicode: Bool = true) -> (
    ConsoleApp, MemoryTerminal
  ) {
    let terminal = MemoryTerminal(width: width, height: height, unicode: unicode)
    let state = ConsoleState(
      width: width, height: height, user: ConsoleUser(name: "oncall", readOnly: readOnly), databaseName: "ops.db")
    let jobs = self.jobs
    let app = ConsoleApp(
      terminal: terminal, state: state, theme: Theme(ascii: !unicode), clock: clock,
      data: ConsoleDataSource(jobs: jobs, breakers: breakerSettings, lifecycle: lifecycle), changeWatch: nil,
      perform: { [lifecycle] action in action.perform(on: jobs, readOnly: readOnly, lifecycle: lifecycle) })
    return (app, terminal)
  }
}
