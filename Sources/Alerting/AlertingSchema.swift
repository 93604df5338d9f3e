import Storage

/// The tables Alerting owns. Its migrations are named `alerting.NNN_what`; the
/// runtime applies them after those of the modules below it.
public enum AlertingSchema {
  public static let migrations = Migrations([])
}
