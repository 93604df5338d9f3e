import Foundation

/// A change of state, with why (and who, for manual ones).
public struct BreakerTransition: Sendable, Equatable {
  public var from: BreakerState
  public var to: BreakerState
  public var atMilliseconds: Int64
  public var reason: String
  public var actor: String?

  public init(from: BreakerState, to: BreakerState, atMilliseconds: Int64, reason: String, actor: String? = nil) {
    self.from = from
    self.to = to
    self.atMilliseconds = atMilliseconds
    self.reason = reason
    self.actor = actor
  }
}

/// What a breaker's window says now.
public struct BreakerMetrics: Sendable, Equatable {
  /// Percent; nil ("unknown") until the minimum number of calls is recorded.
  public var failureRate: Double?
  public var slowCallRate: Double?
  public var bufferedCalls: Int
  public var failedCalls: Int
  public var slowCalls: Int
  public var notPermitted: Int

  public init(
    failureRate: Double? = nil, slowCallRate: Double? = nil, bufferedCalls: Int = 0, failedCalls: Int = 0,
    slowCalls: Int = 0, notPermitted: Int = 0
  ) {
    self.failureRate = failureRate
    self.slowCallRate = slowCallRate
    self.bufferedCalls = bufferedCalls
    self.failedCalls = failedCalls
    self.slowCalls = slowCalls
    self.notPermitted = notPermitted
  }
}

/// How one call went, for the breaker.
public enum CallResult: Sendable, Equatable {
  case success
  case failure(String)
  /// Not recorded at all (the call was cancelled, say).
  case ignored
}

/// A manual transition that is not allowed (to the state it is already in).
public struct IllegalTransition: Error, Equatable, CustomStringConvertible {
  public let name: String
  public let state: BreakerState
  public init(name: String, state: BreakerState) {
    self.name = name
    self.state = state
  }
  public var description: String { "breaker \(name) is already \(state.rawValue)" }
}

/// resilience4j's circuit breaker as a value: calls ask for a permit, report
/// how they went and how long they took; the breaker moves between CLOSED,
/// OPEN and HALF_OPEN by the failure and slow-call rates of its window, and
/// between those and the manual FORCED_OPEN, DISABLED and METRICS_ONLY.
/// Times are milliseconds since the epoch, from the caller's clock.
public struct CircuitBreaker: Sendable, Equatable {
  public let name: String
  public let settings: BreakerSettings
  public private(set) var state: BreakerState = .closed
  private var window: SlidingWindow
  /// HALF_OPEN: its own fresh window of the permitted calls, and the permits left.
  private var trial: SlidingWindow
  private var permitsLeft = 0
  public private(set) var openedAt: Int64? = nil
  public private(set) var halfOpenedAt: Int64? = nil
  /// Openings in a row without a close in between (the exponential wait).
  public private(set) var opensInRow = 0
  /// Calls refused since the last CLOSED.
  public private(set) var notPermitted = 0
  public private(set) var lastError: String? = nil

  public init(name: String, settings: BreakerSettings) {
    self.name = name
    self.settings = settings
    window = SlidingWindow(kind: settings.windowKind, size: settings.windowSize)
    trial = SlidingWindow(kind: .count, size: settings.halfOpenCalls)
  }

  // MARK: - Calls

  /// Whether a call may go out now. An OPEN breaker whose wait is over moves
  /// to HALF_OPEN and gives out its permits.
  public mutating func acquire(at now: Int64) -> (permitted: Bool, transitions: [BreakerTransition]) {
    var transitions: [BreakerTransition] = []
    switch state {
    case .closed, .disabled, .metricsOnly:
      return (true, [])
    case .forcedOpen:
      notPermitted += 1
      return (false, [])
    case .open:
      guard let until = halfOpenAt, now >= until else {
        notPermitted += 1
        return (false, [])
      }
      transitions.append(move(to: .halfOpen, at: now, reason: "wait in open over"))
    case .halfOpen:
      if let expired = halfOpenExpiry(now) { return (false, [expired]) }
    }
    guard permitsLeft > 0 else {
      notPermitted += 1
      return (false, transitions)
    }
    permitsLeft -= 1
    return (true, transitions)
  }

  /// Records a permitted call's result and duration; may open or close the breaker.
  public mutating func record(_ result: CallResult, milliseconds: Int64, at now: Int64) -> [BreakerTransition] {
    if case .failure(let error) = result { lastError = error }
    guard result != .ignored else {
      if state == .halfOpen { permitsLeft += 1 }
      return []
    }
    let failed = result != .success
    let slow = milliseconds > settings.slowCallMilliseconds
    switch state {
    case .disabled, .forcedOpen, .open:
      return []
    case .metricsOnly:
      window.record(failed: failed, slow: slow, at: now)
      return []
    case .closed:
      window.record(failed: failed, slow: slow, at: now)
      if let why = exceeded(window.current(at: now), minimum: settings.effectiveMinimumCalls) {
        return [move(to: .open, at: now, reason: why)]
      }
      return []
    case .halfOpen:
      trial.record(failed: failed, slow: slow, at: now)
      let totals = trial.current(at: now)
      guard totals.calls >= settings.halfOpenCalls else { return [] }
      if let why = exceeded(totals, minimum: settings.halfOpenCalls) {
        return [move(to: .open, at: now, reason: "in half-open: " + why)]
      }
      return [move(to: .closed, at: now, reason: "half-open calls below the thresholds")]
    }
  }

  /// The rate that is at or above its threshold, if any, as a reason.
  private func exceeded(_ totals: SlidingWindow.Totals, minimum: Int) -> String? {
    guard totals.calls >= minimum, totals.calls > 0 else { return nil }
    let failure = Double(totals.failed) * 100 / Double(totals.calls)
    let slow = Double(totals.slow) * 100 / Double(totals.calls)
    if failure >= settings.failureRateThreshold {
      return String(
        format: "failure rate %.1f%% ≥ %.0f%% over %d calls", failure, settings.failureRateThreshold, totals.calls)
    }
    if slow >= settings.slowCallRateThreshold {
      return String(
        format: "slow-call rate %.1f%% ≥ %.0f%% over %d calls", slow, settings.slowCallRateThreshold, totals.calls)
    }
    return nil
  }

  /// HALF_OPEN for longer than `max_wait_in_half_open`: back to OPEN.
  private mutating func halfOpenExpiry(_ now: Int64) -> BreakerTransition? {
    guard settings.maxWaitInHalfOpenMilliseconds > 0, let since = halfOpenedAt,
      now >= since + settings.maxWaitInHalfOpenMilliseconds
    else { return nil }
    notPermitted += 1
    return move(to: .open, at: now, reason: "max wait in half-open over")
  }

  // MARK: - Metrics

  /// The window's rates (nil while fewer than the minimum calls are in it)
  /// and counts; in HALF_OPEN, those of the trial calls.
  public mutating func metrics(at now: Int64) -> BreakerMetrics {
    let usesTrial = state == .halfOpen
    let totals = usesTrial ? trial.current(at: now) : window.current(at: now)
    let minimum = usesTrial ? settings.halfOpenCalls : settings.effectiveMinimumCalls
    let known = totals.calls >= minimum && totals.calls > 0
    return BreakerMetrics(
      failureRate: known ? Double(totals.failed) * 100 / Double(totals.calls) : nil,
      slowCallRate: known ? Double(totals.slow) * 100 / Double(totals.calls) : nil,
      bufferedCalls: totals.calls, failedCalls: totals.failed, slowCalls: totals.slow, notPermitted: notPermitted)
  }

  /// When an OPEN breaker lets its first call through (as HALF_OPEN).
  public var halfOpenAt: Int64? {
    guard state == .open, let openedAt else { return nil }
    return openedAt + settings.waitInOpen(opens: max(1, opensInRow))
  }

  // MARK: - Transitions

  /// A manual transition (force open, close, disable, metrics only); to the
  /// state the breaker is already in is refused. `reset` is ``reset(at:actor:)``.
  public mutating func transition(to target: BreakerState, at now: Int64, actor: String?) throws(IllegalTransition)
    -> BreakerTransition
  {
    guard target != state else { throw IllegalTransition(name: name, state: state) }
    return move(to: target, at: now, reason: "by hand", actor: actor)
  }

  /// Back to CLOSED with empty metrics, whatever the state.
  public mutating func reset(at now: Int64, actor: String?) -> BreakerTransition {
    let transition = move(to: .closed, at: now, reason: "reset by hand", actor: actor)
    notPermitted = 0
    return transition
  }

  /// Takes on a state another process decided (read from the database).
  public mutating func adopt(_ target: BreakerState, openedAt: Int64?, halfOpenedAt: Int64?, opensInRow: Int) {
    guard target != state else { return }
    _ = move(to: target, at: openedAt ?? halfOpenedAt ?? 0, reason: "adopted")
    self.openedAt = openedAt
    self.halfOpenedAt = halfOpenedAt
    self.opensInRow = opensInRow
  }

  private mutating func move(to target: BreakerState, at now: Int64, reason: String, actor: String? = nil)
    -> BreakerTransition
  {
    let transition = BreakerTransition(from: state, to: target, atMilliseconds: now, reason: reason, actor: actor)
    switch target {
    case .open:
      opensInRow = state == .halfOpen ? opensInRow + 1 : 1
      openedAt = now
      halfOpenedAt = nil
    case .halfOpen:
      halfOpenedAt = now
      permitsLeft = settings.halfOpenCalls
      trial = SlidingWindow(kind: .count, size: settings.halfOpenCalls)
    case .closed:
      window = SlidingWindow(kind: settings.windowKind, size: settings.windowSize)
      opensInRow = 0
      openedAt = nil
      halfOpenedAt = nil
      notPermitted = 0
    case .disabled, .metricsOnly, .forcedOpen:
      window = SlidingWindow(kind: settings.windowKind, size: settings.windowSize)
      openedAt = target == .forcedOpen ? now : nil
      halfOpenedAt = nil
    }
    state = target
    return transition
  }
}
