import Storage

/// The tables Analytics owns. Its migrations are named `analytics.NNN_what`; the
/// runtime applies them after those of the modules below it.
public enum AnalyticsSchema {
  public static let migrations = Migrations([])
}
