import Foundation

/// The states of a circuit breaker, as resilience4j names them.
public enum BreakerState: String, Sendable, CaseIterable, Codable {
  case closed
  case open
  case halfOpen = "half_open"
  case forcedOpen = "forced_open"
  case disabled
  case metricsOnly = "metrics_only"

  /// Calls go through (CLOSED, HALF_OPEN with a permit, DISABLED, METRICS_ONLY).
  public var isOpenLike: Bool { self == .open || self == .forcedOpen }
}

/// One dependency's breaker configuration (`[dependencies.NAME.breaker]`),
/// with resilience4j's defaults.
public struct BreakerSettings: Sendable, Equatable {
  public enum WindowKind: String, Sendable, Equatable {
    /// The last `windowSize` calls.
    case count
    /// The calls of the last `windowSize` seconds.
    case time
  }

  public var windowKind: WindowKind = .count
  public var windowSize = 100
  public var minimumCalls = 100
  /// Percent; the breaker opens at or above it.
  public var failureRateThreshold: Double = 50
  public var slowCallRateThreshold: Double = 100
  /// A call is slow when it takes longer than this.
  public var slowCallMilliseconds: Int64 = 60_000
  public var waitInOpenMilliseconds: Int64 = 60_000
  /// Each reopen in a row multiplies the wait (1: always the same wait).
  public var waitInOpenMultiplier: Double = 1
  /// The longest the growing wait gets.
  public var maxWaitInOpenMilliseconds: Int64? = nil
  public var halfOpenCalls = 10
  /// 0: a half-open breaker waits for its permitted calls for ever.
  public var maxWaitInHalfOpenMilliseconds: Int64 = 0
  /// Whether an HTTP 4xx other than 408 and 429 counts as a failure (by
  /// default it is the caller's mistake, and the call counts as a success).
  public var recordClientErrors = false

  public init() {}

  /// resilience4j caps the minimum at the window's size for count windows.
  public var effectiveMinimumCalls: Int {
    windowKind == .count ? min(minimumCalls, windowSize) : minimumCalls
  }

  /// The wait in OPEN before the `opens`-th consecutive opening half-opens.
  public func waitInOpen(opens: Int) -> Int64 {
    guard waitInOpenMultiplier != 1, opens > 1 else { return waitInOpenMilliseconds }
    let grown = Double(waitInOpenMilliseconds) * pow(waitInOpenMultiplier, Double(opens - 1))
    let capped = min(grown, Double(maxWaitInOpenMilliseconds ?? Int64.max / 2))
    return Int64(capped)
  }

  /// Refuses settings resilience4j refuses, naming the key.
  public func validate() throws(BreakerSettingsError) {
    if windowSize < 1 { throw BreakerSettingsError("window_size must be 1 or more") }
    if minimumCalls < 1 { throw BreakerSettingsError("minimum_calls must be 1 or more") }
    if !(failureRateThreshold > 0 && failureRateThreshold <= 100) {
      throw BreakerSettingsError("failure_rate_threshold must be above 0 and at most 100")
    }
    if !(slowCallRateThreshold > 0 && slowCallRateThreshold <= 100) {
      throw BreakerSettingsError("slow_call_rate_threshold must be above 0 and at most 100")
    }
    if slowCallMilliseconds < 1 { throw BreakerSettingsError("slow_call_duration must be at least 1ms") }
    if waitInOpenMilliseconds < 1 { throw BreakerSettingsError("wait_in_open must be at least 1ms") }
    if waitInOpenMultiplier < 1 { throw BreakerSettingsError("wait_in_open_multiplier must be 1 or more") }
    if halfOpenCalls < 1 { throw BreakerSettingsError("half_open_calls must be 1 or more") }
    if maxWaitInHalfOpenMilliseconds < 0 { throw BreakerSettingsError("max_wait_in_half_open must not be negative") }
  }
}

public struct BreakerSettingsError: Error, Equatable, CustomStringConvertible {
  public let message: String
  public init(_ message: String) { self.message = message }
  public var description: String { message }
}
