import ArgumentParser
import Console
import Delivery
import Foundation
import OpsDeck
import Scheduler
import Storage

struct ConsoleCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "console",
    abstract: "Open the console (the default when no command is given).",
    discussion: """
      The terminal console: an Overview of what is wrong right now and a Jobs pane with every
      queue and its jobs by state. ? lists the keys of the pane you are in; q quits. With the
      engines on (the default) this process also works the queues while the console is open,
      logging to log.file. --readonly (or a database you may not write) only views: no key
      that changes data exists then.

      Example:
        opsdeck --db /var/lib/opsdeck/opsdeck.db console --readonly
      """)

  @OptionGroup var global: GlobalOptions
  @OptionGroup var display: DisplayFlags
  @Flag(help: "Only view: no workers, no actions.") var readonly = false
  @Flag(help: "Do not run workers and schedules in this process.") var noEngines = false
  @Flag(help: "Print the key reference as Markdown and exit.") var printKeys = false

  func run() throws {
    if printKeys { return Output.text(Keymap.markdown()) }
    try ConsoleSession.requireTerminal()
    let runtime = try global.runtime()
    try LogOutput.redirect(toFile: runtime.config.log.file, level: runtime.logLevel)
    // A viewer's console runs no engines either: it only looks.
    let viewer = readonly || runtime.config.access.isViewer(Runtime.currentUser())
    var engine: Engine? = nil
    if !viewer && !noEngines {
      let jobs = try runtime.jobStore(.write)
      try runtime.applySchedulerConfig(to: jobs)
      engine = Engine.start(
        Worker(
          jobs: jobs, handlers: runtime.handlers(jobs), options: runtime.workerOptions(),
          logger: LogOutput.logger("opsdeck.worker")))
    }
    try ConsoleSession.run(runtime: runtime, readOnly: viewer, display: display)
    engine?.stop(grace: runtime.config.scheduler.shutdownGrace)
  }
}

struct DisplayFlags: ParsableArguments {
  @Flag(help: "Draw with ASCII only.") var ascii = false
  @Flag(help: "Click to select, wheel to scroll.") var mouse = false
}

/// Workers on a thread of their own while the console is on screen.
final class Engine: Sendable {
  let worker: Worker
  private let stopped = DispatchSemaphore(value: 0)

  private init(worker: Worker) {
    self.worker = worker
  }

  static func start(_ worker: Worker) -> Engine {
    let engine = Engine(worker: worker)
    Thread.detachNewThread {
      try? worker.run()
      engine.stopped.signal()
    }
    return engine
  }

  /// Running jobs get the grace to finish, then are released to other
  /// workers; returns once the worker has stopped.
  func stop(grace: Duration) {
    worker.stop(grace: grace)
    stopped.wait()
  }
}

/// Opening the console on a terminal, shared by `console` and `demo`.
enum ConsoleSession {
  static func requireTerminal() throws {
    guard isatty(STDIN_FILENO) != 0, isatty(STDOUT_FILENO) != 0 else {
      throw UsageError("the console needs a terminal; for scripts use a command such as `opsdeck queues --json`")
    }
  }

  /// Runs the console until q, SIGTERM, SIGHUP or SIGINT; the terminal is
  /// restored on every way out.
  static func run(
    runtime: Runtime, readOnly: Bool, display: DisplayFlags, extraDependencies: [DependencySettings] = []
  ) throws {
    let terminal = NCursesTerminal(mouse: display.mouse)
    let app: ConsoleApp
    do {
      app = try runtime.consoleApp(
        terminal: terminal, readOnly: readOnly, ascii: display.ascii, extraDependencies: extraDependencies)
    } catch {
      terminal.restore()
      throw error
    }
    let stop = app.stop
    let trap = SignalTrap([SIGTERM: { stop.request() }, SIGHUP: { stop.request() }, SIGINT: { stop.request() }])
    defer { withExtendedLifetime(trap) {} }
    app.run()
  }
}
