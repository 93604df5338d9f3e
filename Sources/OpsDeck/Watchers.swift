import Alerting
import Delivery
import Foundation
import GRDB
import Lifecycle
import Resilience
import Scheduler
import Storage

/// `[alerting]`: the engines' own alert thresholds and timers.
public struct AlertingSettings: Sendable, Equatable {
  /// Waiting jobs in one queue at or above which it alerts (warning).
  public var backlogThreshold = 10_000
  /// Failed jobs in one queue in the last 10 minutes at or above which it alerts (error).
  public var failureThreshold = 10
  /// How often `alerts.watch` looks (and runs the timers below).
  public var watchEvery: Duration = .seconds(30)
  /// An acknowledged alert still firing this long after its ack fires again (0s: never).
  public var ackTimeout: Duration = .zero
  /// An open alert not seen for this long resolves itself (0s: never; the
  /// engines' alerts resolve when their condition clears).
  public var resolveTimeout: Duration = .zero
  /// The console rings the terminal bell (or flashes) when a critical alert starts firing.
  public var bell = true
  public var notifyAttempts = 8
  public var notifyBackoff = Backoff(kind: .exponential, delayMilliseconds: 5_000, jitter: 0.2)
}

/// `alerts.watch`: reads each engine's public status and raises an alert
/// per condition (a breaker open, a failing health check, stale FX rates,
/// a queue's backlog or failures, a job that failed its last attempt, a
/// disabled webhook endpoint, an account over a hard quota); alerts whose
/// condition has cleared resolve. Every engine alert's dedup key starts
/// with `opsdeck:`, so a repeat is the same alert.
public struct Watchers: Sendable {
  public static let jobName = AlertJobs.watch
  static let prefix = "opsdeck:"
  let jobs: JobStore
  let alerts: AlertStore
  let fx: FXSettings
  let settings: AlertingSettings
  let breakerNames: [String]
  /// Plans notifications after each look (nil: none configured).
  let notifier: AlertNotifier?
  /// Accounts over hard quotas (nil: not watched).
  let lifecycle: Lifecycle?

  public init(
    jobs: JobStore, fx: FXSettings, settings: AlertingSettings, breakerNames: [String], notifier: AlertNotifier? = nil,
    lifecycle: Lifecycle? = nil
  ) {
    self.notifier = notifier
    self.lifecycle = lifecycle
    self.jobs = jobs
    self.alerts = AlertStore(store: jobs.store, clock: jobs.clock, actor: "opsdeck")
    self.fx = fx
    self.settings = settings
    self.breakerNames = breakerNames
  }

  /// One look: the conditions now, raised; the cleared ones, resolved.
  @discardableResult
  public func run() throws -> String {
    let now = jobs.clock.now()
    var conditions: [NewAlert] = []
    func condition(
      _ key: String, _ severity: Severity, _ summary: String, _ labels: [String: String], _ source: String,
      _ description: String? = nil
    ) {
      conditions.append(
        NewAlert(
          severity: severity, summary: summary, labels: labels, source: source, dedupKey: Self.prefix + key,
          description: description))
    }
    let store = jobs.store
    let breakers = try store.pool.read { db in try BreakerAdmin.statuses(db, names: breakerNames, now: now) }
    for breaker in breakers where breaker.state == .open || breaker.state == .forcedOpen {
      condition(
        "breaker:\(breaker.name)", breaker.state == .open ? .error : .warning,
        "breaker \(breaker.name) is \(breaker.state == .open ? "open" : "forced open")",
        ["alertname": "BreakerOpen", "dependency": breaker.name], "breakers", breaker.lastError)
    }
    let health = try store.pool.read { db in
      try Row.fetchAll(
        db,
        sql: """
          SELECT name, outcome, error FROM health_checks
          WHERE id IN (SELECT max(id) FROM health_checks GROUP BY name)
          """)
    }
    for row in health where (row[1] as String) == "failed" || (row[1] as String) == "rejected" {
      let name: String = row[0]
      condition(
        "health:\(name)", .error, "health check \(name) failing",
        ["alertname": "HealthCheckFailing", "dependency": name],
        "health", row[2])
    }
    if fx.url != nil, let rate = try FXRates.latestStored(store: store, clock: jobs.clock, settings: fx).first,
      rate.stale
    {
      condition(
        "fx:stale", .warning, "FX rates are stale (newest from \(rate.date))", ["alertname": "FXRatesStale"], "fx")
    }
    let since = now.addingTimeInterval(-600)
    let points = try jobs.throughput(since: since)
    for queue in try jobs.queues() {
      if queue.counts.waiting >= settings.backlogThreshold {
        condition(
          "backlog:\(queue.name)", .warning, "queue \(queue.name) backlog: \(queue.counts.waiting) waiting",
          ["alertname": "QueueBacklog", "queue": queue.name], "scheduler")
      }
      let failed = (points[queue.name] ?? []).reduce(0) { $0 + $1.failed }
      if failed >= settings.failureThreshold {
        condition(
          "failures:\(queue.name)", .error, "queue \(queue.name): \(failed) jobs failed in 10 minutes",
          ["alertname": "QueueFailures", "queue": queue.name], "scheduler")
      }
    }
    // Jobs out of attempts in the last hour: one alert per queue and job
    // name (a retry or removal clears it).
    let finalFailures = try store.pool.read { db in
      try Row.fetchAll(
        db,
        sql: """
          SELECT queue, name, count(*), max(finished_at),
            (SELECT failed_reason FROM jobs j WHERE j.queue = f.queue AND j.name = f.name AND j.state = 4
              AND j.state >= 3 ORDER BY j.finished_at DESC LIMIT 1)
          FROM jobs f WHERE state = 4 AND state >= 3 AND finished_at >= ? GROUP BY queue, name
          """, arguments: [now.epochMilliseconds - 3_600_000])
    }
    for row in finalFailures {
      let (queue, name, count): (String, String, Int) = (row[0], row[1], row[2])
      condition(
        "job-failed:\(queue):\(name)", .error,
        "job \(name) on \(queue) failed its last attempt" + (count > 1 ? " (\(count) in the last hour)" : ""),
        ["alertname": "JobFailed", "queue": queue, "job": name], "scheduler", row[4])
    }
    for breach in try lifecycle?.hardQuotaBreaches() ?? [] {
      condition(
        "quota:\(breach.account):\(breach.metric)", .warning,
        "account \(breach.account) reached its hard quota of \(breach.metric): \(Usage.format(breach.used)) of \(Usage.format(breach.limit))",
        ["alertname": "HardQuotaExceeded", "account": breach.account, "metric": breach.metric], "lifecycle",
        "period \(breach.period); further use is denied until the plan changes or the period ends")
    }
    let disabled = try store.pool.read { db in
      try Row.fetchAll(db, sql: "SELECT id, url, disabled_reason FROM webhook_endpoints WHERE enabled = 0")
    }
    for row in disabled {
      let id: Int64 = row[0]
      condition(
        "webhook:\(id)", .warning, "webhook endpoint \(id) disabled (\(row[1] as String))",
        ["alertname": "WebhookDisabled", "endpoint": String(id)], "webhooks", row[2])
    }
    try alerts.raise(conditions)
    let active = Set(conditions.compactMap(\.dedupKey))
    let open = try alerts.list(limit: 100_000).map(\.fingerprint).filter { $0.hasPrefix(Self.prefix) }
    let cleared = open.filter { !active.contains($0) }
    let resolved = try alerts.resolveFingerprints(cleared, note: "the condition cleared")
    let timed = try alerts.sweep(
      ackTimeout: settings.ackTimeout > .zero ? settings.ackTimeout : nil,
      resolveTimeout: settings.resolveTimeout > .zero ? settings.resolveTimeout : nil)
    let planned = try notifier?.plan() ?? 0
    return "\(conditions.count) conditions, \(resolved) cleared, \(timed) by timers, \(planned) notifications"
  }
}
