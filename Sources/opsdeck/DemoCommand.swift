import ArgumentParser
import Delivery
import Foundation
import OpsDeck
import Scheduler
import Storage

struct Demo: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Open the console on a living demo business (what `make run` does).",
    discussion: """
      Creates the database if needed, writes an hour of history into an empty one, then keeps
      a simulated business running while the console is open: jobs arrive every second
      across the scenario's queues, some fail and retry, schedules fire. The scenario is
      data/demo/scenario.json.

      Example:
        opsdeck --db .demo/opsdeck.db demo --seed 7
      """)

  @OptionGroup var global: GlobalOptions
  @OptionGroup var display: DisplayFlags
  @Option(help: ArgumentHelp("The scenario file.", valueName: "path")) var scenario = "data/demo/scenario.json"
  @Option(help: "Seed for the simulation's randomness (the same seed writes the same history).") var seed: UInt64 = 1
  @Option(
    help: ArgumentHelp("Run headless for this long instead of opening the console (10s, 1m).", valueName: "duration"))
  var headless: String?

  func run() throws {
    let headlessFor = try Parse.milliseconds(headless, flag: "--headless")
    if headlessFor == nil { try ConsoleSession.requireTerminal() }
    let loaded = try DemoScenario.load(scenario)
    let runtime = try global.runtime()
    _ = try runtime.initialize(writeConfig: false)
    let jobs = try runtime.jobStore(.write)
    let simulator = DemoSimulator(scenario: loaded, jobs: jobs, seed: seed)
    try simulator.prepare()
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
    engine.stop(grace: .seconds(5))
  }
}
