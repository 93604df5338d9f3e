import Storage

/// The tables Scheduler owns. Its migrations are named `scheduler.NNN_what`; the
/// runtime applies them after those of the modules below it.
public enum SchedulerSchema {
  public static let migrations = Migrations([])
}
