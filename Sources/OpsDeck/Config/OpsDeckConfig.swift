import Alerting
import Analytics
import Delivery
import Lifecycle
import Resilience
import Scheduler
import Storage

/// The validated configuration, defaults filled in, as typed settings.
public struct OpsDeckConfig: Sendable {
  /// Every value, in schema order, for printing.
  public let table: ConfigTable
  /// The file it was read from; nil for the built-in defaults.
  public let source: String?

  public let database: DatabaseSettings
  public let log: LogSettings
  public let smtp: SMTPSettings
  public let scheduler: SchedulerSettings
  public let access: AccessSettings
  public let queues: [QueueSettings]
  /// `[dependencies.NAME]`, as Delivery takes them.
  public let dependencies: [DependencySettings]
  /// `[webhooks]` (the backoff was checked by ``ConfigChecks``).
  public let webhooks: WebhookSettings
  public let fx: FXSettings
  public let alerting: AlertingSettings
  public let receivers: [AlertReceiver]
  /// The routing tree; nil when it names no receiver (nothing is notified).
  public let route: AlertRoute?
  public let inhibitRules: [InhibitRule]
  public let escalations: [EscalationPolicy]
  /// `[fx]`'s schedule: cron and zone.
  public let fxCron: (pattern: String, tz: String)
  /// `[health] every`.
  public let healthEvery: Duration
  public let schedules: [ScheduleSettings]
  /// `[lifecycle]` and `[plans]`, the seed's sequence and plans when the
  /// file names none.
  public let lifecycle: LifecycleSettings
  /// `[lifecycle] tick_every`.
  public let tickEvery: Duration
  /// `[analytics]`, the seed's saved reports when the file names none.
  public let analytics: AnalyticsSettings

  public struct DatabaseSettings: Sendable {
    public var path: String?
    public var busyTimeout: Duration
  }

  public struct LogSettings: Sendable {
    public var level: String
    public var file: String
  }

  public struct AccessSettings: Sendable {
    public var defaultRole: String
    public var viewers: [String]
    public var operators: [String]

    /// Whether `user` may only look.
    public func isViewer(_ user: String) -> Bool {
      if operators.contains(user) { return false }
      if viewers.contains(user) { return true }
      return defaultRole == "viewer"
    }
  }

  public struct SchedulerSettings: Sendable {
    public var concurrency: Int
    public var lockDuration: Duration
    public var maxStalledCount: Int
    public var stalledInterval: Duration
    public var shutdownGrace: Duration
  }

  public struct QueueSettings: Sendable, Equatable {
    public var name: String
    public var concurrency: Int?
    public var rateMax: Int?
    public var ratePer: Duration?
  }

  public struct ScheduleSettings: Sendable, Equatable {
    public var id: String
    public var queue: String
    public var name: String
    public var cron: String?
    public var tz: String?
    public var every: Duration?
    public var data: String
    public var limit: Int?
  }

  public struct SMTPSettings: Sendable {
    public var url: String
    public var username: String
    public var password: String
    public var from: String
    /// Everything Delivery's mailer takes.
    public var mail: MailSettings
  }

  /// Built by ``ConfigLoader`` from a table it validated: every key below is
  /// present with the kind the schema gives it.
  init(table: ConfigTable, source: String?) {
    self.table = table
    self.source = source
    let database = table.table("database")
    self.database = DatabaseSettings(
      path: database.string("path"),
      busyTimeout: database.duration("busy_timeout") ?? Store.defaultBusyTimeout)
    let log = table.table("log")
    self.log = LogSettings(level: log.string("level") ?? "info", file: log.string("file") ?? "opsdeck.log")
    let access = table.table("access")
    self.access = AccessSettings(
      defaultRole: access.string("default_role") ?? "operator", viewers: access.list("viewers") ?? [],
      operators: access.list("operators") ?? [])
    let scheduler = table.table("scheduler")
    self.scheduler = SchedulerSettings(
      concurrency: scheduler.integer("concurrency") ?? 8,
      lockDuration: scheduler.duration("lock_duration") ?? .seconds(30),
      maxStalledCount: scheduler.integer("max_stalled_count") ?? 1,
      stalledInterval: scheduler.duration("stalled_interval") ?? .seconds(30),
      shutdownGrace: scheduler.duration("shutdown_grace") ?? .seconds(25))
    self.queues = table.namedTables("queues").map { entry in
      QueueSettings(
        name: entry.name, concurrency: entry.table.integer("concurrency"), rateMax: entry.table.integer("rate_max"),
        ratePer: entry.table.duration("rate_per"))
    }
    self.schedules = table.tableList("schedules").map { entry in
      ScheduleSettings(
        id: entry.string("id") ?? "", queue: entry.string("queue") ?? "", name: entry.string("name") ?? "",
        cron: entry.string("cron"), tz: entry.string("tz"), every: entry.duration("every"),
        data: entry.string("data") ?? "{}", limit: entry.integer("limit"))
    }
    self.dependencies = table.namedTables("dependencies").map { entry in
      Self.dependency(entry.name, entry.table)
    }
    let alertingTable = table.table("alerting")
    var alerting = AlertingSettings()
    alerting.watchEvery = alertingTable.duration("watch_every") ?? alerting.watchEvery
    alerting.backlogThreshold = alertingTable.integer("backlog_threshold") ?? alerting.backlogThreshold
    alerting.failureThreshold = alertingTable.integer("failure_threshold") ?? alerting.failureThreshold
    alerting.ackTimeout = alertingTable.duration("ack_timeout") ?? .zero
    alerting.resolveTimeout = alertingTable.duration("resolve_timeout") ?? .zero
    alerting.bell = alertingTable.boolean("bell") ?? true
    alerting.notifyAttempts = alertingTable.integer("notify_attempts") ?? 8
    if let text = alertingTable.string("notify_backoff"), let backoff = try? Backoff(parsing: text) {
      alerting.notifyBackoff = backoff
    }
    self.receivers = alertingTable.tableList("receivers").map { entry in
      AlertReceiver(
        name: entry.string("name") ?? "", kind: AlertReceiver.Kind(rawValue: entry.string("type") ?? "") ?? .webhook,
        url: entry.string("url"), routingKey: entry.string("routing_key"), to: entry.list("to") ?? [])
    }
    self.inhibitRules = alertingTable.tableList("inhibit_rules").map { rule in
      InhibitRule(
        source: (rule.list("source_matchers") ?? []).compactMap { try? LabelMatcher(parsing: $0) },
        target: (rule.list("target_matchers") ?? []).compactMap { try? LabelMatcher(parsing: $0) },
        equal: rule.list("equal") ?? [])
    }
    self.escalations = alertingTable.tableList("escalation_policies").map { policy in
      EscalationPolicy(
        name: policy.string("name") ?? "escalation",
        matchers: (policy.list("matchers") ?? []).compactMap { try? LabelMatcher(parsing: $0) },
        levels: policy.tableList("levels").map {
          EscalationPolicy.Level(receivers: $0.list("receivers") ?? [], after: $0.duration("after") ?? .zero)
        }, repeatCount: policy.integer("repeat") ?? 0, repeatEvery: policy.duration("repeat_every") ?? .zero)
    }
    let root = Self.route(alertingTable.table("route"), parent: AlertRoute())
    self.route = root.receiver == nil && root.routes.isEmpty ? nil : root
    self.alerting = alerting
    let fxTable = table.table("fx")
    var fx = FXSettings()
    fx.url = fxTable.string("url").flatMap { $0.isEmpty ? nil : $0 }
    fx.format = FXSettings.Format(rawValue: fxTable.string("format") ?? "ecb") ?? .ecb
    fx.staleAfterMilliseconds = fxTable.duration("stale_after")?.milliseconds ?? fx.staleAfterMilliseconds
    self.fx = fx
    self.fxCron = (fxTable.string("cron") ?? "30 16 * * 1-5", fxTable.string("tz") ?? "Europe/Berlin")
    self.healthEvery = table.table("health").duration("every") ?? .seconds(60)
    let hooks = table.table("webhooks")
    var webhooks = WebhookSettings()
    webhooks.queue = hooks.string("queue") ?? webhooks.queue
    webhooks.attempts = hooks.integer("attempts") ?? webhooks.attempts
    if let text = hooks.string("backoff"), let backoff = try? Backoff(parsing: text) { webhooks.backoff = backoff }
    webhooks.disableAfter = hooks.integer("disable_after") ?? webhooks.disableAfter
    webhooks.timeouts.totalMilliseconds = hooks.duration("timeout")?.milliseconds ?? webhooks.timeouts.totalMilliseconds
    webhooks.timeouts.connectMilliseconds = min(
      webhooks.timeouts.connectMilliseconds, webhooks.timeouts.totalMilliseconds)
    self.webhooks = webhooks
    let smtp = table.table("email")
    var mail = MailSettings()
    mail.transport = MailSettings.Transport(rawValue: smtp.string("transport") ?? "smtp") ?? .smtp
    mail.url = smtp.string("url") ?? mail.url
    mail.username = smtp.string("username") ?? ""
    mail.password = smtp.string("password") ?? ""
    mail.from = smtp.string("from") ?? mail.from
    mail.startTLS = MailSettings.StartTLS(rawValue: smtp.string("starttls") ?? "try") ?? .try
    mail.timeouts.totalMilliseconds = smtp.duration("timeout")?.milliseconds ?? 30_000
    mail.timeouts.connectMilliseconds = min(mail.timeouts.totalMilliseconds, 10_000)
    mail.apiKey = smtp.string("api_key") ?? ""
    mail.apiURL = smtp.string("api_url")
    mail.caFile = smtp.string("ca_file")
    let lifecycleTable = table.table("lifecycle")
    self.lifecycle = Self.lifecycle(lifecycleTable, plans: table.namedTables("plans"))
    self.tickEvery = lifecycleTable.duration("tick_every") ?? .seconds(60)
    self.analytics = Self.analytics(table.table("analytics"))
    self.smtp = SMTPSettings(
      url: mail.url, username: mail.username, password: mail.password, from: mail.from, mail: mail)
  }

  static func analytics(_ table: ConfigTable) -> AnalyticsSettings {
    var settings = AnalyticsSettings()
    settings.timeZone = table.string("tz") ?? "UTC"
    settings.weekStartsMonday = table.string("week_start") == "monday"
    settings.activationDays = table.integer("activation_days") ?? 7
    let funnels = table.tableList("funnels").map { entry -> SavedFunnel in
      var query = FunnelQuery(steps: entry.list("steps") ?? [])
      query.window = entry.duration("window") ?? query.window
      query.mode = FunnelMode(rawValue: entry.string("mode") ?? "ordered") ?? .ordered
      query.breakdown = entry.string("breakdown")
      query.exclusions = (entry.list("exclude") ?? []).compactMap { try? FunnelExclusion(parsing: $0) }
      return SavedFunnel(name: entry.string("name") ?? query.steps.joined(separator: " → "), query: query)
    }
    if !funnels.isEmpty { settings.funnels = funnels }
    let retention = table.tableList("retention").map { entry -> SavedRetention in
      var query = RetentionQuery(
        startEvent: entry.string("start_event") ?? "", returnEvent: entry.string("return_event") ?? "")
      query.period = RetentionPeriod(rawValue: entry.string("period") ?? "week") ?? .week
      query.recurring = entry.boolean("recurring") ?? false
      return SavedRetention(name: entry.string("name") ?? "\(query.startEvent) → \(query.returnEvent)", query: query)
    }
    if !retention.isEmpty { settings.retention = retention }
    for index in settings.retention.indices {
      settings.retention[index].query.timeZone = settings.timeZone
      settings.retention[index].query.weekStartsMonday = settings.weekStartsMonday
    }
    return settings
  }

  static func lifecycle(_ table: ConfigTable, plans: [NamedTable]) -> LifecycleSettings {
    var settings = LifecycleSettings()
    settings.trialDays = table.integer("trial_days") ?? 30
    settings.sendHour = table.integer("send_hour") ?? 9
    settings.quietStart = table.integer("quiet_start") ?? 21
    settings.quietEnd = table.integer("quiet_end") ?? 8
    settings.maxPerDay = table.integer("max_per_day") ?? 2
    settings.maxPerWeek = table.integer("max_per_week") ?? 5
    settings.staleAfter = table.duration("stale_after") ?? settings.staleAfter
    settings.reengageAfterDays = Int(
      (table.duration("reengage_after") ?? .seconds(7 * 86_400)).milliseconds / 86_400_000)
    settings.templatesDirectory = table.string("templates") ?? "data/templates"
    settings.unsubscribeURL = table.string("unsubscribe_url")
    settings.previewTo = table.string("preview_to")
    settings.unsubscribeSecret = table.string("unsubscribe_secret") ?? ""
    settings.queue = table.string("queue") ?? "email"
    settings.attempts = table.integer("attempts") ?? 5
    for metric in table.namedTables("metrics") {
      settings.aggregates[metric.name] = Aggregate(rawValue: metric.table.string("aggregate") ?? "sum") ?? .sum
    }
    let onboarding = table.tableList("onboarding").map {
      OnboardingStep(
        id: $0.string("id") ?? "", title: $0.string("title") ?? $0.string("id") ?? "", event: $0.string("event") ?? "")
    }
    settings.onboarding = onboarding.isEmpty ? LifecycleSettings.seedOnboarding : onboarding
    let sequences = table.tableList("sequences").map { sequence in
      EmailSequence(
        name: sequence.string("name") ?? "",
        steps: sequence.tableList("steps").map { step in
          SequenceStep(
            id: step.string("id") ?? "", day: step.integer("day") ?? 0, template: step.string("template") ?? "",
            subject: step.string("subject") ?? "", unless: step.list("unless") ?? [],
            onlyPlan: step.list("only_plan") ?? [],
            onlyIf: step.list("only_if") ?? [], priority: step.integer("priority") ?? 50)
        }, exitOnConvert: sequence.boolean("exit_on_convert") ?? true)
    }
    settings.sequences = sequences.isEmpty ? [LifecycleSettings.seedSequence] : sequences
    let configured = plans.map { entry in
      Plan(
        name: entry.name, price: Double(entry.table.integer("price") ?? 0),
        quotas: Dictionary(
          uniqueKeysWithValues: entry.table.namedTables("quotas").map {
            ($0.name, Quota(limit: Double($0.table.integer("limit") ?? 0), hard: $0.table.string("enforce") != "soft"))
          }))
    }
    if configured.isEmpty {
      settings.plans = LifecycleSettings.seedPlans
    } else {
      settings.plans = configured.contains { $0.name == "trial" } ? configured : [Plan(name: "trial")] + configured
    }
    return settings
  }

  static func dependency(_ name: String, _ table: ConfigTable) -> DependencySettings {
    var dependency = DependencySettings(name: name, url: table.string("url"))
    dependency.expectStatus = table.integer("expect_status") ?? 200
    dependency.bodyContains = table.string("body_contains")
    dependency.latencyBudgetMilliseconds = table.duration("latency_budget")?.milliseconds
    dependency.timeouts.connectMilliseconds = table.duration("connect_timeout")?.milliseconds ?? 2_000
    dependency.timeouts.totalMilliseconds = table.duration("timeout")?.milliseconds ?? 10_000
    dependency.timeouts.lowSpeedBytesPerSecond = table.integer("low_speed_limit") ?? 0
    dependency.timeouts.lowSpeedMilliseconds = table.duration("low_speed_time")?.milliseconds ?? 30_000
    let breaker = table.table("breaker")
    var settings = BreakerSettings()
    settings.windowKind = breaker.string("sliding_window") == "time" ? .time : .count
    settings.windowSize = breaker.integer("window_size") ?? 100
    settings.minimumCalls = breaker.integer("minimum_calls") ?? 100
    settings.failureRateThreshold = Double(breaker.integer("failure_rate_threshold") ?? 50)
    settings.slowCallRateThreshold = Double(breaker.integer("slow_call_rate_threshold") ?? 100)
    settings.slowCallMilliseconds = breaker.duration("slow_call_duration")?.milliseconds ?? 60_000
    settings.waitInOpenMilliseconds = breaker.duration("wait_in_open")?.milliseconds ?? 60_000
    settings.waitInOpenMultiplier = Double(breaker.integer("wait_in_open_multiplier") ?? 1)
    settings.maxWaitInOpenMilliseconds = breaker.duration("max_wait_in_open")?.milliseconds
    settings.halfOpenCalls = breaker.integer("half_open_calls") ?? 10
    settings.maxWaitInHalfOpenMilliseconds = breaker.duration("max_wait_in_half_open")?.milliseconds ?? 0
    settings.recordClientErrors = breaker.boolean("record_client_errors") ?? false
    dependency.breaker = settings
    return dependency
  }

  /// A routing node; timers a node does not set are its parent's.
  static func route(_ table: ConfigTable, parent: AlertRoute) -> AlertRoute {
    var node = AlertRoute(
      receiver: table.string("receiver") ?? parent.receiver,
      matchers: (table.list("matchers") ?? []).compactMap { try? LabelMatcher(parsing: $0) },
      continue: table.boolean("continue") ?? false, groupBy: table.list("group_by") ?? parent.groupBy,
      groupWait: table.duration("group_wait") ?? parent.groupWait,
      groupInterval: table.duration("group_interval") ?? parent.groupInterval,
      repeatInterval: table.duration("repeat_interval") ?? parent.repeatInterval)
    node.routes = table.tableList("routes").map { route($0, parent: node) }
    return node
  }
}
