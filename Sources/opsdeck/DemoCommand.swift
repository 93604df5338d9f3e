import ArgumentParser
import Delivery
import Foundation
import Lifecycle
import OpsDeck
import Scheduler
import Storage

struct Demo: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Open the console on a living demo business (what `make run` does).",
    discussion: """
      Creates the database if needed, writes an hour of history into an empty one, then keeps
      a simulated business running while the console is open: jobs arrive every second
      across the scenario's queues, some fail and retry, schedules fire; --accounts trials
      (six weeks of them on a new database) sign up, onboard, use the product and convert,
      and lifecycle e-mails go out through [email]. The scenario is data/demo/scenario.json.

      Example:
        opsdeck --db .demo/opsdeck.db demo --seed 7
      """)

  @OptionGroup var global: GlobalOptions
  @OptionGroup var display: DisplayFlags
  @Option(help: ArgumentHelp("The scenario file.", valueName: "path")) var scenario = "data/demo/scenario.json"
  @Option(help: "Seed for the simulation's randomness (the same seed writes the same history).") var seed: UInt64 = 1
  @Option(help: "Trial accounts to sign up with six weeks of history, on a database that has none (0 to 100000).")
  var accounts = 200
  @Option(
    help: ArgumentHelp("Run headless for this long instead of opening the console (10s, 1m).", valueName: "duration"))
  var headless: String?

  func run() throws {
    let headlessFor = try Parse.milliseconds(headless, flag: "--headless")
    guard (0...100_000).contains(accounts) else {
      throw ValidationError("invalid --accounts \(accounts): expected 0 to 100000")
    }
    if headlessFor == nil { try ConsoleSession.requireTerminal() }
    let loaded = try DemoScenario.load(scenario)
    let runtime = try global.runtime()
    _ = try runtime.initialize(writeConfig: false)
    let jobs = try runtime.jobStore(.write)
    let simulator = DemoSimulator(scenario: loaded, jobs: jobs, seed: seed)
    try simulator.prepare()
    let customers = DemoAccounts(
      lifecycle: Lifecycle(jobs: jobs, settings: runtime.config.lifecycle, actor: "demo"), seed: seed)
    try customers.prepare(count: accounts)
    try runtime.applySchedulerConfig(to: jobs)
    if headlessFor == nil { try LogOutput.redirect(toFile: runtime.config.log.file, level: runtime.logLevel) }
    var options = runtime.workerOptions()
    options.concurrencyByQueue.merge(simulator.concurrency()) { _, demo in demo }
    let engine = Engine.start(
      Worker(
        jobs: jobs, handlers: simulator.handlers(runtime.handlers(jobs)), options: options,
        logger: LogOutput.logger("opsdeck.worker")))
    let logger = LogOutput.logger("opsdeck.demo")
    Thread.detachNewThread { simulator.run(logger: logger) }
    Thread.detachNewThread { customers.run(logger: logger) }
    let flaky = try simulator.dependencySettings()
    let dependencies = Dependencies(
      store: jobs.store, clock: runtime.clock, settings: runtime.config.dependencies + flaky, actor: "demo")
    Thread.detachNewThread { simulator.runDependencies(dependencies, logger: logger) }
    if let headlessFor {
      Thread.sleep(forTimeInterval: Double(headlessFor) / 1000)
    } else {
      try ConsoleSession.run(runtime: runtime, readOnly: false, display: display, extraDependencies: flaky)
    }
    simulator.stop()
    customers.stop()
    engine.stop(grace: .seconds(5))
  }
}
