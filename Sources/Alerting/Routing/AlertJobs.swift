import Scheduler

/// The Scheduler's side of alerting: the job that looks at the engines and
/// plans notifications (`alerts.watch`, run by OpsDeck's watchers).
public enum AlertJobs {
  public static let watch = "alerts.watch"
  public static let queue = "alerts"

  /// Asks for a look now (after an ack or a resolve, so PagerDuty hears of
  /// it at once rather than at the next scheduled look). An extra look is
  /// harmless: every notification is written once.
  public static func watchNow(_ jobs: JobStore) throws {
    try jobs.add(queue: queue, name: watch)
  }
}
