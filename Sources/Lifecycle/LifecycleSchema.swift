import Storage

/// The tables Lifecycle owns. Its migrations are named `lifecycle.NNN_what`; the
/// runtime applies them after those of the modules below it.
public enum LifecycleSchema {
  public static let migrations = Migrations([])
}
