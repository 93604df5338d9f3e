import Delivery
import Foundation
import Logging
import Resilience
import Scheduler
import Storage
import Synchronization

/// Keeps the demo business running: jobs arrive every second across the
/// scenario's queues, some fail and retry, schedules fire. On a new
/// database it first writes an hour of history, so the console's
/// throughput graphs have something to show.
public final class DemoSimulator: Sendable {
  public let scenario: DemoScenario
  let jobs: JobStore
  let seed: UInt64
  /// True from the start until ``stop()``: the simulator's threads may
  /// start in any order, and a stop before one starts still stops it.
  private let running = Atomic<Bool>(true)

  public init(scenario: DemoScenario, jobs: JobStore, seed: UInt64) {
    self.scenario = scenario
    self.jobs = jobs
    self.seed = seed
  }

  /// Handlers for every job name in the scenario, on top of the built-ins.
  public func handlers(_ base: HandlerRegistry) -> HandlerRegistry {
    var added: [String: any JobHandler] = ["demo.task": DemoTaskHandler()]
    for queue in scenario.queues {
      for kind in queue.kinds { added[kind.name] = DemoTaskHandler() }
    }
    return base.adding(added)
  }

  /// Worker concurrency per queue, as the scenario asks.
  public func concurrency() -> [String: Int] {
    Dictionary(uniqueKeysWithValues: scenario.queues.map { ($0.name, $0.concurrency) })
  }

  /// Rate limits and schedules; an hour of history on an empty database.
  public func prepare() throws {
    if try jobs.list(limit: 1).isEmpty { try writeHistory() }
    for queue in scenario.queues {
      let window = try queue.rate.map { try Duration(parsing: $0.per).milliseconds }
      try jobs.setRateLimit(queue.name, max: queue.rate?.max, durationMilliseconds: window)
    }
    var specs: [ScheduleSpec] = []
    for schedule in scenario.schedules {
      let repeats: Repeat
      if let cron = schedule.cron {
        repeats = .cron(try CronExpression(parsing: cron), timeZone: schedule.tz ?? "UTC")
      } else {
        repeats = .every(milliseconds: try Duration(parsing: schedule.every ?? "1m").milliseconds)
      }
      let data = try schedule.data.map { try JSONOutput.string($0) } ?? "{}"
      specs.append(
        ScheduleSpec(id: schedule.id, queue: schedule.queue, name: schedule.name, repeats: repeats, data: data))
    }
    try Schedules(jobs: jobs).sync(specs, source: "demo")
  }

  /// The last hour, minute by minute, on a clock of its own.
  private func writeHistory() throws {
    var random = SplitMix64(seed: seed)
    let end = jobs.clock.now()
    let clock = ManualClock(end.addingTimeInterval(-3_600))
    let past = JobStore(store: jobs.store, clock: clock)
    for minute in 0..<60 {
      let start = end.addingTimeInterval(Double(minute - 60) * 60)
      for queue in scenario.queues {
        clock.set(to: start)
        let count = Int((queue.perMinute * Double.random(in: 0.6...1.4, using: &random)).rounded())
        guard count > 0 else { continue }
        let batch = (0..<count).map { _ in job(queue, attempts: 1, random: &random) }
        try past.addBulk(queue: queue.name, jobs: batch.map(\.job))
        let claimed = try past.claim(queue: queue.name, limit: count, lockDuration: 60_000).jobs
        clock.set(to: start.addingTimeInterval(Double.random(in: 5...55, using: &random)))
        let outcomes = claimed.map { job -> JobOutcome in
          let kind = queue.kinds.first { $0.name == job.name } ?? queue.kinds[0]
          if Double.random(in: 0..<1, using: &random) < kind.failRate {
            return .failed(job, error: kind.errors.randomElement(using: &random) ?? "simulated failure")
          }
          return .completed(job, returnValue: nil)
        }
        try past.finish(outcomes)
      }
    }
  }

  private func job(_ queue: DemoScenario.Queue, attempts: Int?, random: inout SplitMix64) -> (job: NewJob, kind: String)
  {
    let kind = queue.kinds.randomElement(using: &random) ?? queue.kinds[0]
    var object: [String: JSONValue] = [:]
    if case .object(let sample)? = kind.data.randomElement(using: &random) { object = sample }
    object["demo"] = .object([
      "ms": .number(Double(kind.ms)), "fail_rate": .number(kind.failRate),
      "errors": .array(kind.errors.map(JSONValue.string)),
    ])
    var options = JobOptions()
    options.attempts = attempts ?? kind.attempts ?? 1
    options.backoff = kind.backoff.flatMap { try? Backoff(parsing: $0) }
    options.removeOnComplete = .count(5_000)
    let data = (try? JSONOutput.string(JSONValue.object(object))) ?? "{}"
    return (NewJob(name: kind.name, data: data, options: options), kind.name)
  }

  /// Adds the scenario's jobs every second until ``stop()``.
  public func run(logger: Logger) {
    var random = SplitMix64(seed: seed &+ 1)
    var owed: [String: Double] = [:]
    while running.load(ordering: .relaxed) {
      for queue in scenario.queues {
        owed[queue.name, default: 0] += queue.perMinute / 60 * Double.random(in: 0.5...1.5, using: &random)
        let due = Int(owed[queue.name, default: 0])
        guard due > 0 else { continue }
        owed[queue.name, default: 0] -= Double(due)
        let batch = (0..<due).map { _ in job(queue, attempts: nil, random: &random).job }
        do {
          try jobs.addBulk(queue: queue.name, jobs: batch)
        } catch {
          logger.error("demo: cannot add jobs: \(error)")
        }
      }
      Thread.sleep(forTimeInterval: 1)
    }
  }

  public func stop() { running.store(false, ordering: .relaxed) }

  /// The flaky dependencies as Delivery takes them: each is a local file
  /// (next to the database) that the simulator takes away and puts back.
  public func dependencySettings() throws -> [DependencySettings] {
    let directory = URL(fileURLWithPath: jobs.store.path).deletingLastPathComponent().standardizedFileURL
    return try (scenario.dependencies ?? []).map { flaky in
      var settings = DependencySettings(
        name: flaky.name, url: directory.appendingPathComponent("demo-\(flaky.name).json").absoluteString)
      settings.timeouts.totalMilliseconds = 2_000
      settings.breaker.windowSize = flaky.windowSize
      settings.breaker.minimumCalls = flaky.minimumCalls
      settings.breaker.waitInOpenMilliseconds = try Duration(parsing: flaky.waitInOpen).milliseconds
      settings.breaker.halfOpenCalls = flaky.halfOpenCalls
      return settings
    }
  }

  /// Probes each flaky dependency through its breaker until ``stop()``,
  /// switching it between healthy and failing on the scenario's rhythm.
  public func runDependencies(_ dependencies: Dependencies, logger: Logger) {
    guard let flaky = scenario.dependencies, !flaky.isEmpty,
      let settings = try? dependencySettings(),
      let rhythm = try? flaky.map({
        (
          try Duration(parsing: $0.healthyFor).milliseconds, try Duration(parsing: $0.failingFor).milliseconds,
          try Duration(parsing: $0.probeEvery).milliseconds
        )
      })
    else { return }
    let started = Date()
    var lastProbe = Array(repeating: Date.distantPast, count: flaky.count)
    while running.load(ordering: .relaxed) {
      for (index, dependency) in settings.enumerated() {
        let (healthy, failing, every) = rhythm[index]
        let elapsed = Int64(Date().timeIntervalSince(started) * 1000) % (healthy + failing)
        if let url = dependency.url.flatMap(URL.init(string:)) {
          if elapsed < healthy {
            try? Data(#"{"ok": true}"#.utf8).write(to: url)
          } else {
            try? FileManager.default.removeItem(at: url)
          }
        }
        if Date().timeIntervalSince(lastProbe[index]) * 1000 >= Double(every) {
          lastProbe[index] = Date()
          do {
            _ = try dependencies.probe(dependency.name)
          } catch {
            logger.error("demo: probe \(dependency.name): \(error)")
          }
        }
      }
      try? dependencies.registry.syncAll()
      Thread.sleep(forTimeInterval: 0.1)
    }
  }
}
