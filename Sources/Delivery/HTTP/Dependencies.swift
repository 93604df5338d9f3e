import Foundation
import Resilience
import Storage

/// One external dependency (`[dependencies.NAME]`): where its health check
/// goes, what a healthy answer is, its timeouts and its breaker.
public struct DependencySettings: Sendable, Equatable {
  public var name: String
  /// What `opsdeck probe` and health checks call.
  public var url: String?
  public var expectStatus = 200
  /// A healthy answer's body contains this.
  public var bodyContains: String? = nil
  /// A health check slower than this reads `slow` (nil: the breaker's slow-call duration only).
  public var latencyBudgetMilliseconds: Int64? = nil
  public var timeouts = HTTPTimeouts()
  public var breaker = BreakerSettings()

  public init(name: String, url: String? = nil) {
    self.name = name
    self.url = url
  }
}

/// How one call through a breaker went, as `probe` prints it.
public struct CallReport: Sendable, Equatable {
  /// `ok`, `failed`, `slow` or `rejected`.
  public var outcome: String
  /// The breaker's state after the call.
  public var state: BreakerState
  public var latencyMilliseconds: Int64
  public var status: Int?
  public var error: String?
}

/// Every call to the outside goes through here: the dependency's breaker
/// decides whether it is made, libcurl makes it with the dependency's
/// timeouts, and the result goes back to the breaker.
public final class Dependencies: Sendable {
  public let registry: BreakerRegistry
  public let settings: [String: DependencySettings]

  public init(store: Store, clock: any Clock, settings: [DependencySettings], actor: String = "opsdeck") {
    var byName: [String: DependencySettings] = [:]
    for dependency in settings { byName[dependency.name] = dependency }
    self.settings = byName
    registry = BreakerRegistry(
      store: store, clock: clock, settings: byName.mapValues(\.breaker), actor: actor)
  }

  /// Whether an HTTP status is the dependency's fault: 5xx, 408 and 429
  /// always; other 4xx only when the breaker is told to record them.
  public static func isFailure(status: Int, recordClientErrors: Bool) -> Bool {
    if status >= 500 || status == 408 || status == 429 { return true }
    return recordClientErrors && (400..<500).contains(status)
  }

  /// Makes `request` to dependency `name` through its breaker. A refused
  /// call throws ``BreakerRejection``; a transport failure (timeouts
  /// included) throws ``HTTPFailure``; any HTTP answer is returned, and
  /// recorded as a failure when its status is the dependency's fault.
  public func call(_ name: String, _ request: HTTPRequest) throws -> HTTPResponse {
    guard let dependency = settings[name] else { throw BreakerUnknown(name: name) }
    let permit = try registry.acquire(name)
    do {
      let response = try HTTPClient.perform(request, timeouts: dependency.timeouts, label: name)
      let failed = Self.isFailure(status: response.status, recordClientErrors: dependency.breaker.recordClientErrors)
      try registry.record(permit, failed ? .failure("\(name): HTTP \(response.status)") : .success)
      return response
    } catch let failure as HTTPFailure {
      try registry.record(permit, .failure(failure.message))
      throw failure
    }
  }

  /// The dependency's health check, once, through its breaker: a GET of
  /// its `url` that must answer `expect_status` (and contain `body_contains`).
  public func probe(_ name: String) throws -> CallReport {
    guard let dependency = settings[name] else { throw BreakerUnknown(name: name) }
    guard let url = dependency.url else {
      throw DependencyConfigError("dependency \(name) has no url to probe (set dependencies.\(name).url)")
    }
    let permit: BreakerPermit
    do {
      permit = try registry.acquire(name)
    } catch let rejection as BreakerRejection {
      return CallReport(
        outcome: "rejected", state: rejection.state, latencyMilliseconds: 0, status: nil, error: rejection.description)
    }
    let started = DispatchTime.now().uptimeNanoseconds
    var status: Int? = nil
    var problem: String? = nil
    do {
      let response = try HTTPClient.perform(HTTPRequest(url: url), timeouts: dependency.timeouts, label: name)
      status = response.status
      if response.status != dependency.expectStatus {
        problem = "\(name): HTTP \(response.status), expected \(dependency.expectStatus)"
      } else if let needle = dependency.bodyContains, !response.text.contains(needle) {
        problem = "\(name): the answer does not contain \"\(needle)\""
      }
    } catch {
      problem = error.message
    }
    let latency = Int64((DispatchTime.now().uptimeNanoseconds - started) / 1_000_000)
    var outcome = try registry.record(permit, problem.map { .failure($0) } ?? .success)
    if outcome == "ok", let budget = dependency.latencyBudgetMilliseconds, latency > budget {
      outcome = "slow"
      problem = "\(name): \(latency) ms, over the \(Duration.milliseconds(budget).compactText) budget"
    }
    return CallReport(
      outcome: outcome, state: registry.state(name) ?? .closed, latencyMilliseconds: latency, status: status,
      error: problem)
  }
}

public struct DependencyConfigError: ReportableError, Equatable {
  public let message: String
  public init(_ message: String) { self.message = message }
  public var description: String { message }
  public var isBadInput: Bool { true }
}
