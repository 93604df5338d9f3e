import ArgumentParser
import Foundation
import Logging
import OpsDeck
import Scheduler
import Storage

struct Run: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Run every engine headless: the daemon that production runs under systemd.",
    discussion: """
      Starts workers for every queue and runs the schedules, including those in the
      config's [[schedules]]. Logs one line per event to stderr (--log-format text or json).
      SIGHUP reloads the configuration (schedules, queue limits, concurrency; a bad file is
      logged and the running configuration kept). SIGTERM or SIGINT stops claiming, lets
      running jobs finish within scheduler.shutdown_grace, then releases the rest.

      data/opsdeck.service is a systemd unit for it.

      Example:
        opsdeck --db /var/lib/opsdeck/opsdeck.db --config /etc/opsdeck/opsdeck.toml run --log-format json
      """)

  @OptionGroup var global: GlobalOptions
  @OptionGroup var flags: WorkerFlags

  func run() throws {
    let runtime = try global.runtime(checkTemplates: true)
    LogOutput.configure(level: flags.logLevel ?? runtime.logLevel, format: flags.logFormat)
    let logger = LogOutput.logger("opsdeck.run")
    let jobs = try runtime.jobStore(.write)
    try runtime.applySchedulerConfig(to: jobs)
    let worker = Worker(
      jobs: jobs, handlers: runtime.handlers(jobs), options: try flags.options(runtime),
      logger: LogOutput.logger("opsdeck.worker"))
    logger.info(
      "opsdeck running",
      metadata: [
        "version": .string(Runtime.version), "database": .string(runtime.databasePath),
        "config": .string(runtime.config.source ?? "built-in defaults"),
        "schedules": .stringConvertible(runtime.config.schedules.count),
      ])
    let stops = Counter()
    let grace = try flags.graceDuration(runtime)
    let options = global.runtimeOptions
    let fixedConcurrency = flags.concurrency
    let trap = SignalTrap([
      SIGTERM: { worker.stop(grace: stops.next() == 1 ? grace : .zero) },
      SIGINT: { worker.stop(grace: stops.next() == 1 ? grace : .zero) },
      SIGHUP: {
        do {
          let reloaded = try Runtime(options, checkTemplates: true)
          try reloaded.applySchedulerConfig(to: jobs)
          let workerOptions = reloaded.workerOptions()
          worker.reconfigure(
            concurrency: fixedConcurrency ?? workerOptions.concurrency,
            concurrencyByQueue: fixedConcurrency == nil ? workerOptions.concurrencyByQueue : [:])
          logger.info(
            "config reloaded",
            metadata: [
              "config": .string(reloaded.config.source ?? "built-in defaults"),
              "schedules": .stringConvertible(reloaded.config.schedules.count),
            ])
        } catch {
          logger.error("config reload failed; keeping the running configuration: \(error)")
        }
      },
    ])
    defer { withExtendedLifetime(trap) {} }
    try worker.run()
    logger.info("opsdeck stopped")
  }
}
