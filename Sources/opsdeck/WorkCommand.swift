import ArgumentParser
import Foundation
import Logging
import OpsDeck
import Scheduler
import Storage

/// Options shared by `work` and `run`.
struct WorkerFlags: ParsableArguments {
  @Option(name: .customLong("queue"), help: "Work this queue (repeat for several; default: every queue).")
  var queues: [String] = []
  @Option(help: "Jobs running at once per queue (default: scheduler.concurrency in the config).")
  var concurrency: Int?
  @Option(help: ArgumentHelp("A claimed job's lease (default 30s), renewed at half of it.", valueName: "duration"))
  var lockDuration: String?
  @Option(
    help: ArgumentHelp("On SIGTERM/SIGINT, how long running jobs may finish (default 25s).", valueName: "duration"))
  var grace: String?
  @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.") var logLevel: Logger.Level?
  @Option(help: "Log lines as text or json.") var logFormat: LogOutput.Format = .text

  func options(_ runtime: Runtime) throws -> WorkerOptions {
    var options = runtime.workerOptions()
    if !queues.isEmpty {
      for queue in queues { try JobStore.validate(queue: queue) }
      options.queues = queues
    }
    if let concurrency {
      guard concurrency >= 1 else { throw UsageError("--concurrency: expected 1 or more") }
      options.concurrency = concurrency
      options.concurrencyByQueue = [:]
    }
    if let lock = try Parse.milliseconds(lockDuration, flag: "--lock-duration") {
      guard lock >= 100 else { throw UsageError("--lock-duration: expected at least 100ms") }
      options.lockDuration = lock
    }
    return options
  }

  func graceDuration(_ runtime: Runtime) throws -> Duration {
    try Parse.milliseconds(grace, flag: "--grace").map { .milliseconds($0) } ?? runtime.config.scheduler.shutdownGrace
  }
}

struct Work: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Run workers only, until SIGTERM/SIGINT (or, with --until-empty, until nothing is left).",
    discussion: """
      Claims jobs in batches under leases and runs their handlers. On SIGTERM or SIGINT it
      stops claiming, lets running jobs finish within --grace, then releases the rest for
      another worker; a second signal stops at once. Several `opsdeck work` processes may
      share one database.

      --until-empty exits 0 once nothing is waiting or active and no failed attempt is waiting
      for its retry; jobs delayed on purpose (--delay, schedules) do not hold it open.

      Example:
        opsdeck work --queue emails --queue webhooks --concurrency 16
      """)

  @OptionGroup var global: GlobalOptions
  @OptionGroup var flags: WorkerFlags
  @Flag(help: "Exit once there is nothing left to do.") var untilEmpty = false

  func run() throws {
    let runtime = try global.runtime()
    LogOutput.configure(level: flags.logLevel ?? runtime.logLevel, format: flags.logFormat)
    var options = try flags.options(runtime)
    options.untilEmpty = untilEmpty
    let grace = try flags.graceDuration(runtime)
    let jobs = try runtime.jobStore(.write)
    let worker = Worker(
      jobs: jobs, handlers: runtime.handlers(jobs), options: options,
      logger: LogOutput.logger("opsdeck.worker"))
    let stops = Counter()
    let trap = SignalTrap([
      SIGTERM: { worker.stop(grace: stops.next() == 1 ? grace : .zero) },
      SIGINT: { worker.stop(grace: stops.next() == 1 ? grace : .zero) },
    ])
    defer { withExtendedLifetime(trap) {} }
    try worker.run()
  }
}

/// Counts signals: the first asks politely, the second insists.
final class Counter: @unchecked Sendable {
  private let lock = NSLock()
  private var value = 0
  func next() -> Int {
    lock.withLock {
      value += 1; return value
    }
  }
}
