import Delivery
import Foundation
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
    try config.schedules.map { entry in
      let repeats: Repeat
      if let cron = entry.cron {
        repeats = .cron(try CronExpression(parsing: cron), timeZone: entry.tz ?? "UTC")
      } else {
        repeats = .every(milliseconds: entry.every?.milliseconds ?? 0)
      }
      return ScheduleSpec(
        id: entry.id, queue: entry.queue, name: entry.name, repeats: repeats, data: entry.data, limit: entry.limit)
    }
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
    let webhooks = Webhooks(
      jobs: jobs, registry: BreakerRegistry(store: jobs.store, clock: clock, settings: [:], actor: jobs.actor),
      settings: config.webhooks)
    return HandlerRegistry.builtIn.adding([Webhooks.jobName: WebhookDeliverHandler(webhooks: webhooks)])
  }

  /// The configured log level.
  public var logLevel: Logger.Level { Logger.Level(rawValue: config.log.level) ?? .info }
}
