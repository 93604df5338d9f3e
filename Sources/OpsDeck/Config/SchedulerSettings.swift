import Foundation
import Logging
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
    return options
  }

  /// The handlers this binary knows, by job name.
  public func handlers() -> HandlerRegistry { .builtIn }

  /// The configured log level.
  public var logLevel: Logger.Level { Logger.Level(rawValue: config.log.level) ?? .info }
}
