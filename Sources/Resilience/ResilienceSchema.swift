import Storage

/// The tables Resilience owns. Its migrations are named `resilience.NNN_what`; the
/// runtime applies them after those of the modules below it.
public enum ResilienceSchema {
  public static let migrations = Migrations([])
}
