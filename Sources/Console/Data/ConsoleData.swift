import Alerting
import Analytics
import Foundation
import Lifecycle
import Resilience
import Scheduler
import Storage

/// What the console asks the database for: the selected queue's jobs in one
/// state, one page of them (keyset paging from `anchor`).
public struct ConsoleRequest: Sendable, Equatable {
  public var queue: String?
  public var state: JobState
  public var anchor: JobPageAnchor
  public var limit: Int
  /// The Funnels pane's reports (nil on other panes: they cost a read of the events).
  public var growth: GrowthRequest?

  public static let pageSize = 200

  public init(
    queue: String? = nil, state: JobState = .waiting, anchor: JobPageAnchor = .first, limit: Int = Self.pageSize,
    growth: GrowthRequest? = nil
  ) {
    self.queue = queue
    self.state = state
    self.anchor = anchor
    self.limit = limit
    self.growth = growth
  }
}

/// Everything the panes show, read in one go off the UI loop. Immutable:
/// rendering never touches the database.
public struct ConsoleSnapshot: Sendable, Equatable {
  public var loadedAt: Date
  public var request: ConsoleRequest
  public var queues: [QueueStatus]
  /// Completed jobs per minute over the last hour, oldest first, per queue.
  public var throughput: [String: [Int]]
  /// Failed jobs in the last hour, per queue.
  public var failedLastHour: [String: Int]
  /// The page of jobs the request asked for, and each one's place in the list.
  public var jobs: [JobSummary]
  public var keys: [JobSortKey]
  /// Every schedule with its next run.
  public var schedules: [ScheduleInfo]
  /// Every configured breaker's shared state, and its settings (thresholds).
  public var breakers: [BreakerStatus]
  public var breakerSettings: [String: BreakerSettings]
  /// Open alerts, most severe and oldest first.
  public var alerts: [Alert]
  /// Accounts on the trial plan (soonest end first), the primary metric's
  /// use per account, and the accounts converted in the last week.
  public var trials: [TrialRow] = []
  public var trialUsage: [String: UsageLine] = [:]
  public var converted: [Account] = []
  /// The Funnels pane's reports, when it asked.
  public var growth: GrowthView? = nil

  public init(
    loadedAt: Date, request: ConsoleRequest, queues: [QueueStatus], throughput: [String: [Int]],
    failedLastHour: [String: Int], jobs: [JobSummary], keys: [JobSortKey] = [], schedules: [ScheduleInfo] = [],
    breakers: [BreakerStatus] = [], breakerSettings: [String: BreakerSettings] = [:], alerts: [Alert] = []
  ) {
    self.loadedAt = loadedAt
    self.request = request
    self.queues = queues
    self.throughput = throughput
    self.failedLastHour = failedLastHour
    self.jobs = jobs
    self.keys = keys
    self.schedules = schedules
    self.breakers = breakers
    self.breakerSettings = breakerSettings
    self.alerts = alerts
  }

  /// Firing (not acknowledged, not silenced) alerts per severity.
  public var firing: [Severity: Int] {
    var counts: [Severity: Int] = [:]
    for alert in alerts where alert.status == .firing && !alert.silenced { counts[alert.severity, default: 0] += 1 }
    return counts
  }

  /// Whether the list goes on before the first loaded job.
  public var hasBefore: Bool {
    switch request.anchor {
    case .first: return false
    case .after: return true
    case .last, .before: return jobs.count >= request.limit
    }
  }

  /// Whether the list goes on after the last loaded job.
  public var hasAfter: Bool {
    switch request.anchor {
    case .last: return false
    case .before: return true
    case .first, .after: return jobs.count >= request.limit
    }
  }
}

/// Reads snapshots from the Scheduler's tables.
public struct ConsoleDataSource: Sendable {
  public let jobs: JobStore
  /// The configured dependencies' breakers.
  public let breakerSettings: [String: BreakerSettings]
  /// Accounts and trials (nil: the Trials pane stays empty).
  public let lifecycle: Lifecycle?
  /// The saved reports of the Funnels pane.
  public let analytics: AnalyticsSettings
  /// What the Funnels pane computed, kept between loads.
  public let growthCache = GrowthCache()

  public init(
    jobs: JobStore, breakers: [String: BreakerSettings] = [:], lifecycle: Lifecycle? = nil,
    analytics: AnalyticsSettings = AnalyticsSettings()
  ) {
    self.jobs = jobs
    self.breakerSettings = breakers
    self.lifecycle = lifecycle
    self.analytics = analytics
  }

  /// Enter on a trial: the account, its onboarding, usage and timeline.
  public func account(_ id: String) throws -> AccountDetail {
    guard let lifecycle else { throw LifecycleInputError("no lifecycle engine") }
    return AccountDetail(
      account: try lifecycle.account(id), onboarding: try lifecycle.onboarding(id),
      steps: lifecycle.settings.onboarding, usage: try lifecycle.usage(account: id),
      timeline: try lifecycle.timeline(id))
  }

  /// Alerts on the same database, changed as the same user.
  public var alerts: AlertStore { AlertStore(store: jobs.store, clock: jobs.clock, actor: jobs.actor) }

  public func alertDetail(_ id: Int64) throws -> AlertDetail {
    let alerts = self.alerts
    return AlertDetail(
      alert: try alerts.alert(id), events: try alerts.history(id), notifications: try alerts.notifications(id))
  }

  /// A breaker's transitions and recent calls, newest first.
  public func breaker(_ name: String) throws -> BreakerDetail {
    try jobs.store.pool.read { db in
      BreakerDetail(
        name: name, history: try BreakerAdmin.history(db, name: name, limit: 30),
        calls: try BreakerAdmin.calls(db, name: name, limit: 30))
    }
  }

  public func job(_ id: String) throws -> JobDetail {
    try jobs.job(id)
  }

  public func load(_ request: ConsoleRequest) throws -> ConsoleSnapshot {
    let now = jobs.clock.now()
    let queues = try jobs.queues()
    var throughput: [String: [Int]] = [:]
    var failed: [String: Int] = [:]
    let hourAgo = now.addingTimeInterval(-3600)
    let firstMinute = Int(hourAgo.timeIntervalSince1970 / 60)
    let points = try jobs.throughput(since: hourAgo)
    for queue in queues {
      var series = Array(repeating: 0, count: 60)
      var failures = 0
      for point in points[queue.name] ?? [] {
        let index = Int(point.minute.timeIntervalSince1970 / 60) - firstMinute
        if index >= 0 && index < 60 { series[index] = point.completed }
        failures += point.failed
      }
      throughput[queue.name] = series
      failed[queue.name] = failures
    }
    let queue = request.queue ?? queues.first?.name
    var effective = request
    effective.queue = queue
    let page =
      try queue.map { try jobs.page(queue: $0, state: request.state, anchor: request.anchor, limit: request.limit) }
      ?? JobPage()
    var snapshot = ConsoleSnapshot(
      loadedAt: now, request: effective, queues: queues, throughput: throughput, failedLastHour: failed,
      jobs: page.jobs, keys: page.keys, schedules: try Schedules(jobs: jobs).list(),
      breakers: try jobs.store.pool.read { db in
        try BreakerAdmin.statuses(db, names: Array(breakerSettings.keys), now: now)
      }, breakerSettings: breakerSettings, alerts: try alerts.list(limit: 2_000))
    if let lifecycle {
      snapshot.trials = try lifecycle.trials(limit: 5_000)
      snapshot.trialUsage = try lifecycle.trialUsage()
      snapshot.converted = try lifecycle.recentConversions()
    }
    if let growth = request.growth {
      snapshot.growth = GrowthData.load(
        growth, settings: analytics, log: EventLog(store: jobs.store), lifecycle: lifecycle, now: now,
        cache: growthCache)
    }
    return snapshot
  }
}

/// Enter on a breaker: how it got where it is, and its last calls.
public struct BreakerDetail: Sendable, Equatable {
  public var name: String
  public var history: [BreakerHistoryEntry]
  public var calls: [BreakerCall]
}

/// Enter on an alert: everything about it and its audit trail.
public struct AlertDetail: Sendable, Equatable {
  public var alert: Alert
  public var events: [AlertEvent]
  public var notifications: [AlertNotification] = []
}

/// Enter on a trial: the account and everything that happened to it.
public struct AccountDetail: Sendable, Equatable {
  public var account: Account
  public var onboarding: [String: Date]
  public var steps: [OnboardingStep]
  public var usage: [UsageLine]
  public var timeline: [TimelineEntry]
}
