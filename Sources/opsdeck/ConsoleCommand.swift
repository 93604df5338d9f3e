import ArgumentParser
import Console
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
  @Flag(help: "Only view: no workers, no actions.") var readonly = false
  @Flag(help: "Do not run workers and schedules in this process.") var noEngines = false
  @Flag(help: "Draw with ASCII only.") var ascii = false
  @Flag(help: "Click to select, wheel to scroll.") var mouse = false

  func run() throws {
    guard isatty(STDIN_FILENO) != 0, isatty(STDOUT_FILENO) != 0 else {
      throw UsageError("the console needs a terminal; for scripts use a command such as `opsdeck queues --json`")
    }
    let runtime = try global.runtime()
    // While the console is on screen, logs go to a file, never to stderr.
    try LogOutput.redirect(toFile: runtime.config.log.file, level: runtime.logLevel)
    var worker: Worker? = nil
    let engineStopped = DispatchSemaphore(value: 0)
    if !readonly && !noEngines {
      let jobs = try runtime.jobStore(.write)
      try runtime.applySchedulerConfig(to: jobs)
      let engine = Worker(
        jobs: jobs, handlers: runtime.handlers(), options: runtime.workerOptions(),
        logger: LogOutput.logger("opsdeck.worker"))
      Thread.detachNewThread {
        try? engine.run()
        engineStopped.signal()
      }
      worker = engine
    }
    let terminal = NCursesTerminal(mouse: mouse)
    let app: ConsoleApp
    do {
      app = try runtime.consoleApp(terminal: terminal, readOnly: readonly, ascii: ascii)
    } catch {
      terminal.restore()
      throw error
    }
    let stop = app.stop
    let trap = SignalTrap([SIGTERM: { stop.request() }, SIGHUP: { stop.request() }, SIGINT: { stop.request() }])
    defer { withExtendedLifetime(trap) {} }
    app.run()
    if let worker {
      // The terminal is back; running jobs get the grace to finish, then
      // are released to other workers.
      worker.stop(grace: runtime.config.scheduler.shutdownGrace)
      engineStopped.wait()
    }
  }
}
