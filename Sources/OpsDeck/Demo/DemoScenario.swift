import Foundation
import Scheduler
import Storage

/// The simulated business behind `opsdeck demo` and `make run`, read from
/// `data/demo/scenario.json`.
public struct DemoScenario: Decodable, Sendable {
  public struct Kind: Decodable, Sendable {
    public var name: String
    public var ms: Int
    public var failRate: Double
    public var attempts: Int?
    public var backoff: String?
    public var errors: [String]
    public var data: [JSONValue]

    enum CodingKeys: String, CodingKey {
      case name, ms, attempts, backoff, errors, data
      case failRate = "fail_rate"
    }
  }

  public struct Rate: Decodable, Sendable {
    public var max: Int
    public var per: String
  }

  public struct Queue: Decodable, Sendable {
    public var name: String
    public var concurrency: Int
    public var perMinute: Double
    public var rate: Rate?
    public var kinds: [Kind]

    enum CodingKeys: String, CodingKey {
      case name, concurrency, rate, kinds
      case perMinute = "per_minute"
    }
  }

  public struct Schedule: Decodable, Sendable {
    public var id: String
    public var queue: String
    public var name: String
    public var every: String?
    public var cron: String?
    public var tz: String?
    public var data: JSONValue?
  }

  /// A local dependency that is healthy for a while, then fails for a
  /// while, probed through its breaker so the Breakers pane has something
  /// to show: open, half-open, closed again.
  public struct FlakyDependency: Decodable, Sendable {
    public var name: String
    public var healthyFor: String
    public var failingFor: String
    public var probeEvery: String
    public var windowSize: Int
    public var minimumCalls: Int
    public var waitInOpen: String
    public var halfOpenCalls: Int

    enum CodingKeys: String, CodingKey {
      case name
      case healthyFor = "healthy_for"
      case failingFor = "failing_for"
      case probeEvery = "probe_every"
      case windowSize = "window_size"
      case minimumCalls = "minimum_calls"
      case waitInOpen = "wait_in_open"
      case halfOpenCalls = "half_open_calls"
    }
  }

  public var queues: [Queue]
  public var schedules: [Schedule]
  public var dependencies: [FlakyDependency]? = nil

  public static func load(_ path: String) throws -> DemoScenario {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw OptionError(
        message:
          "--scenario \(path): cannot read it (the demo's scenario is data/demo/scenario.json in the source tree)")
    }
    do {
      let scenario = try JSONDecoder().decode(DemoScenario.self, from: data)
      for queue in scenario.queues where queue.kinds.isEmpty || queue.perMinute < 0 {
        throw OptionError(message: "\(path): queue \(queue.name) needs kinds and a per_minute of 0 or more")
      }
      return scenario
    } catch let error as OptionError {
      throw error
    } catch {
      throw OptionError(message: "\(path): not a demo scenario: \(error)")
    }
  }
}

/// A small seeded generator, so that `--seed` replays the same demo.
struct SplitMix64: RandomNumberGenerator {
  private var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

/// Runs a demo job: waits about `ms` (half to one and a half times), then
/// fails with probability `fail_rate` with one of `errors`. The parameters
/// travel in the job's data under `"demo"`.
public struct DemoTaskHandler: JobHandler {
  public init() {}

  public func run(_ context: JobContext) async throws -> String? {
    let object = context.dataObject
    let parameters = object["demo"] as? [String: Any] ?? object
    let ms = (parameters["ms"] as? NSNumber)?.doubleValue ?? 100
    let failRate = (parameters["fail_rate"] as? NSNumber)?.doubleValue ?? 0
    let errors = parameters["errors"] as? [String] ?? ["simulated failure"]
    try await Task.sleep(for: .milliseconds(Int64(ms * Double.random(in: 0.5...1.5))))
    if Double.random(in: 0..<1) < failRate { throw HandlerFailure(errors.randomElement() ?? "simulated failure") }
    return nil
  }
}
