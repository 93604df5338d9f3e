import Alerting
import Analytics
import Delivery
import Foundation
import Lifecycle
import Logging
import Resilience
import Scheduler
import Storage

extension Runtime {
  /// The worker options the config asks for.
  public func workerOptions() -> WorkerOptions {
    var options = WorkerOptions()
    let settings = config.scheduler
    options.concurrency = settings.concurrency
    options.lockDuration = settings.lockDuration.milliseconds
    options.maxStalledCount = settings.maxStalledCount
    options.stalledInterval = settings.stalledInterval.milliseconds
    for queue in config.queues {
      if let concurrency = queue.concurrency { options.concurrencyByQueue[queue.name] = concurrency }
    }
    return options
  }

  /// The schedules the config defines, checked by the loader.
  public func scheduleSpecs() throws -> [ScheduleSpec] {
    var engines: [ScheduleSpec] = [
      ScheduleSpec(
        id: Watchers.jobName, queue: "alerts", name: Watchers.jobName,
        repeats: .every(milliseconds: max(1_000, config.alerting.watchEvery.milliseconds))),
      ScheduleSpec(
        id: Lifecycle.tickJob, queue: "lifecycle", name: Lifecycle.tickJob,
        repeats: .every(milliseconds: max(1_000, config.tickEvery.milliseconds))),
    ]
    if config.fx.url != nil {
      engines.append(
        ScheduleSpec(
          id: FXRates.jobName, queue: "fx", name: FXRates.jobName,
          repeats: .cron(try CronExpression(parsing: config.fxCron.pattern), timeZone: config.fxCron.tz)))
    }
    if dependencySettings.contains(where: { $0.url != nil }) {
      engines.append(
        ScheduleSpec(
          id: HealthChecks.jobName, queue: "health", name: HealthChecks.jobName,
          repeats: .every(milliseconds: max(1_000, config.healthEvery.milliseconds))))
    }
    return engines
      + (try config.schedules.map { entry in
        let repeats: Repeat
        if let cron = entry.cron {
          repeats = .cron(try CronExpression(parsing: cron), timeZone: entry.tz ?? "UTC")
        } else {
          repeats = .every(milliseconds: entry.every?.milliseconds ?? 0)
        }
        return ScheduleSpec(
          id: entry.id, queue: entry.queue, name: entry.name, repeats: repeats, data: entry.data, limit: entry.limit)
      })
  }

  /// Makes the database match the config: queue rate limits, and the
  /// schedules marked as the config's (added, changed, removed).
  public func applySchedulerConfig(to jobs: JobStore) throws {
    for queue in config.queues {
      try jobs.setRateLimit(queue.name, max: queue.rateMax, durationMilliseconds: queue.ratePer?.milliseconds)
    }
    try Schedules(jobs: jobs).sync(try scheduleSpecs(), source: "config")
  }

  /// The handlers this binary knows, by job name: the built-ins, and the
  /// engines' own (`webhook.deliver`) working on `jobs`' database.
  public func handlers(_ jobs: JobStore) -> HandlerRegistry {
    let dependencies = Dependencies(
      store: jobs.store, clock: clock, settings: dependencySettings, actor: jobs.actor)
    let webhooks = Webhooks(
      jobs: jobs, registry: BreakerRegistry(store: jobs.store, clock: clock, settings: [:], actor: jobs.actor),
      settings: config.webhooks)
    let fx = FXRates(store: jobs.store, clock: clock, settings: config.fx, dependencies: dependencies)
    let health = HealthChecks(dependencies: dependencies, store: jobs.store, clock: clock)
    let mailer = Mailer(settings: config.smtp.mail, registry: dependencies.registry)
    var configured = AlertNotifier(
      alerts: AlertStore(store: jobs.store, clock: clock, actor: "opsdeck"), jobs: jobs, receivers: config.receivers,
      route: config.route, registry: dependencies.registry,
      mailer: mailer)
    configured.inhibitRules = config.inhibitRules
    configured.escalations = config.escalations
    configured.attempts = config.alerting.notifyAttempts
    configured.backoff = config.alerting.notifyBackoff
    let notifier = configured
    let lifecycle = Lifecycle(jobs: jobs, settings: config.lifecycle, actor: "opsdeck")
    let watchers = Watchers(
      jobs: jobs, fx: config.fx, settings: config.alerting, breakerNames: dependencySettings.map(\.name),
      notifier: notifier, lifecycle: lifecycle)
    return HandlerRegistry.builtIn.adding([
      Webhooks.jobName: WebhookDeliverHandler(webhooks: webhooks),
      FXRates.jobName: BlockingHandler { _ in
        let set = try fx.sync()
        return "stored \(set.rates.count) rates for \(set.date)"
      },
      Watchers.jobName: BlockingHandler { _ in try watchers.run() },
      Lifecycle.tickJob: BlockingHandler { _ in
        let report = try lifecycle.tick()
        let log = EventLog(store: jobs.store)
        let copied = try EngineEvents.sync(lifecycle: lifecycle, log: log)
        let folded = try log.compact()
        return report.description + ", \(copied) engine events, \(folded) events folded into columns"
      },
      Lifecycle.sendJob: BlockingHandler { context in try lifecycle.deliver(context, mailer: mailer) },
      AlertNotifier.jobName: BlockingHandler { context in try notifier.deliver(context) },
      HealthChecks.jobName: BlockingHandler { _ in
        let results = try health.run()
        let bad = results.filter { $0.report.outcome != "ok" }.map(\.name)
        return bad.isEmpty ? "\(results.count) healthy" : "not healthy: " + bad.joined(separator: ", ")
      },
    ])
  }

  /// The configured log level.
  public var logLevel: Logger.Level { Logger.Level(rawValue: config.log.level) ?? .info }
}
