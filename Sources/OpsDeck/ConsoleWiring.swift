import Console
import Delivery
import Foundation
import GRDB
import Lifecycle
import Scheduler
import Storage

extension Runtime {
  /// The Unix user at the keyboard: `$SUDO_USER`, `$USER`, then the
  /// password database.
  public static func currentUser(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
    for key in ["SUDO_USER", "USER", "LOGNAME"] {
      if let name = environment[key], !name.isEmpty { return name }
    }
    if let entry = getpwuid(getuid()), let name = entry.pointee.pw_name { return String(cString: name) }
    return "uid \(getuid())"
  }

  /// The console app on this runtime's database, drawing to `terminal`.
  /// `extraDependencies` (the demo's) show in the Breakers pane with the configured ones.
  public func consoleApp(
    terminal: any Terminal, readOnly: Bool, ascii: Bool, extraDependencies: [DependencySettings] = []
  ) throws -> ConsoleApp {
    let name = Self.currentUser()
    let jobs = try jobStore(readOnly ? .view : .write)
    let viewer = readOnly || jobs.store.isReadOnly || config.access.isViewer(name)
    let user = ConsoleUser(name: name, readOnly: viewer)
    let state = ConsoleState(
      width: terminal.width, height: terminal.height, user: user,
      databaseName: (databasePath as NSString).lastPathComponent)
    // data_version on a connection of its own notices every other
    // connection's commits, this process's writer included.
    let watcher = try? DatabaseQueue(path: databasePath, configuration: Self.watcherConfiguration)
    var watch: (@Sendable () -> Int?)? = nil
    if let watcher {
      watch = { Self.dataVersion(watcher) }
    }
    let lifecycle = Lifecycle(jobs: jobs, settings: config.lifecycle, actor: name)
    let mailer = Mailer(settings: config.smtp.mail, registry: try dependencies(readOnly ? .view : .write).registry)
    let previewTo = config.lifecycle.previewTo
    let sendPreview: @Sendable (String) throws -> String = { account in
      guard let previewTo else { return "set [lifecycle] preview_to to your address to get previews" }
      return try lifecycle.sendPreview(account: account, to: previewTo, mailer: mailer)
    }
    let app = ConsoleApp(
      terminal: terminal, state: state,
      theme: Theme(ascii: ascii || !terminal.supportsUnicode, colors: terminal.colors), clock: clock,
      data: ConsoleDataSource(
        jobs: jobs,
        breakers: Dictionary((config.dependencies + extraDependencies).map { ($0.name, $0.breaker) }) { _, last in last
        }, lifecycle: lifecycle, analytics: config.analytics),
      changeWatch: watch,
      perform: { action in
        action.perform(on: jobs, readOnly: viewer, lifecycle: lifecycle, sendPreview: sendPreview)
      })
    app.bellOnCritical = config.alerting.bell
    return app
  }

  private static func dataVersion(_ queue: DatabaseQueue) -> Int? {
    do {
      return try queue.read { db in try Int.fetchOne(db, sql: "PRAGMA data_version") }
    } catch {
      return nil
    }
  }

  private static var watcherConfiguration: Configuration {
    var configuration = Configuration()
    configuration.readonly = true
    return configuration
  }
}
