import Foundation
import Resilience
import Testing

/// resilience4j's state-machine scenarios, on a clock the test moves.
struct CircuitBreakerTests {
  var now: Int64 = 1_767_225_600_000

  func settings(_ change: (inout BreakerSettings) -> Void = { _ in }) -> BreakerSettings {
    var settings = BreakerSettings()
    settings.windowSize = 10
    settings.waitInOpenMilliseconds = 60_000
    settings.halfOpenCalls = 3
    change(&settings)
    return settings
  }

  /// Makes `count` calls that all get a permit and end as `result`.
  func calls(
    _ breaker: inout CircuitBreaker, _ count: Int, _ result: CallResult, milliseconds: Int64 = 10
  ) -> [BreakerTransition] {
    var transitions: [BreakerTransition] = []
    for _ in 0..<count {
      let permit = breaker.acquire(at: now)
      #expect(permit.permitted, "call refused in \(breaker.state)")
      transitions += permit.transitions
      transitions += breaker.record(result, milliseconds: milliseconds, at: now)
    }
    return transitions
  }

  @Test func theMinimumIsCappedAtTheWindowSizeForCountWindows() {
    #expect(settings().effectiveMinimumCalls == 10)
    #expect(settings { $0.windowKind = .time }.effectiveMinimumCalls == 100)
  }

  @Test func ratesAreUnknownUntilTheMinimumThenOpenAtExactlyTheThreshold() {
    var breaker = CircuitBreaker(name: "fx", settings: settings())
    _ = calls(&breaker, 5, .failure("503"))
    _ = calls(&breaker, 4, .success)
    #expect(breaker.metrics(at: now).failureRate == nil)
    #expect(breaker.state == .closed)
    let opened = calls(&breaker, 1, .success)
    #expect(breaker.state == .open)
    #expect(opened.map(\.to) == [.open])
    #expect(opened.first?.reason.hasPrefix("failure rate 50.0% ≥ 50% over 10 calls") == true)
    #expect(breaker.lastError == "503")
  }

  @Test func belowTheThresholdStaysClosed() {
    var breaker = CircuitBreaker(name: "fx", settings: settings())
    _ = calls(&breaker, 4, .failure("x"))
    _ = calls(&breaker, 6, .success)
    #expect(breaker.state == .closed)
    #expect(breaker.metrics(at: now).failureRate == 40)
    // The window slides: the four failures leave as successes come in.
    _ = calls(&breaker, 4, .success)
    #expect(breaker.metrics(at: now).failureRate == 0)
  }

  @Test func slowCallsThatSucceedStillOpenTheBreaker() {
    var breaker = CircuitBreaker(
      name: "fx",
      settings: settings {
        $0.slowCallRateThreshold = 50
        $0.slowCallMilliseconds = 100
      })
    // Exactly the slow duration is not slow; longer is.
    _ = calls(&breaker, 5, .success, milliseconds: 100)
    _ = calls(&breaker, 4, .success, milliseconds: 101)
    #expect(breaker.state == .closed)
    let opened = calls(&breaker, 1, .success, milliseconds: 101)
    #expect(breaker.state == .open)
    #expect(opened.first?.reason.hasPrefix("slow-call rate 50.0%") == true)
    #expect(breaker.metrics(at: now).failureRate == 0)
  }

  @Test mutating func openRejectsThenHalfOpensWithExactlyItsPermitsThenCloses() {
    var breaker = CircuitBreaker(name: "fx", settings: settings())
    _ = calls(&breaker, 10, .failure("x"))
    #expect(breaker.state == .open)
    now += 59_999
    #expect(!breaker.acquire(at: now).permitted)
    #expect(breaker.metrics(at: now).notPermitted == 1)
    now += 1
    var permits = 0
    var transitions: [BreakerTransition] = []
    for _ in 0..<5 {
      let permit = breaker.acquire(at: now)
      transitions += permit.transitions
      if permit.permitted { permits += 1 }
    }
    #expect(transitions.map(\.to) == [.halfOpen])
    #expect(breaker.state == .halfOpen)
    #expect(permits == 3)
    #expect(breaker.metrics(at: now).notPermitted == 3)
    #expect(breaker.record(.success, milliseconds: 5, at: now).isEmpty)
    #expect(breaker.record(.failure("x"), milliseconds: 5, at: now).isEmpty)
    let closed = breaker.record(.success, milliseconds: 5, at: now)
    #expect(closed.map(\.to) == [.closed])
    #expect(breaker.metrics(at: now) == BreakerMetrics())
  }

  @Test mutating func failingInHalfOpenReopensAndTheWaitCanGrow() {
    var breaker = CircuitBreaker(
      name: "fx",
      settings: settings {
        $0.waitInOpenMultiplier = 2
        $0.maxWaitInOpenMilliseconds = 200_000
      })
    _ = calls(&breaker, 10, .failure("x"))
    #expect(breaker.halfOpenAt == now + 60_000)
    for expected in [120_000, 200_000] as [Int64] {
      now = breaker.halfOpenAt!
      _ = calls(&breaker, 2, .failure("x"))
      #expect(breaker.state == .halfOpen)
      let reopened = calls(&breaker, 1, .success)
      #expect(reopened.last?.to == .open)
      #expect(breaker.halfOpenAt == now + expected)
    }
  }

  @Test mutating func forcedOpenRejectsForEverDisabledAndMetricsOnlyNeverOpen() throws {
    var breaker = CircuitBreaker(name: "fx", settings: settings())
    _ = try breaker.transition(to: .forcedOpen, at: now, actor: "ana")
    now += 3_600_000
    #expect(!breaker.acquire(at: now).permitted)
    #expect(breaker.state == .forcedOpen)
    _ = try breaker.transition(to: .disabled, at: now, actor: "ana")
    _ = calls(&breaker, 20, .failure("x"))
    #expect(breaker.state == .disabled)
    #expect(breaker.metrics(at: now).bufferedCalls == 0)
    _ = try breaker.transition(to: .metricsOnly, at: now, actor: "ana")
    _ = calls(&breaker, 20, .failure("x"))
    #expect(breaker.state == .metricsOnly)
    #expect(breaker.metrics(at: now).failureRate == 100)
  }

  @Test func aManualTransitionToTheSameStateIsRefused() throws {
    var breaker = CircuitBreaker(name: "fx", settings: settings())
    #expect(throws: IllegalTransition(name: "fx", state: .closed)) {
      _ = try breaker.transition(to: .closed, at: now, actor: "ana")
    }
    let forced = try breaker.transition(to: .forcedOpen, at: now, actor: "ana")
    #expect(
      forced == BreakerTransition(from: .closed, to: .forcedOpen, atMilliseconds: now, reason: "by hand", actor: "ana"))
    #expect(throws: IllegalTransition(name: "fx", state: .forcedOpen)) {
      _ = try breaker.transition(to: .forcedOpen, at: now, actor: "ana")
    }
    // Reset works from any state, CLOSED included.
    #expect(breaker.reset(at: now, actor: "ana").to == .closed)
    #expect(breaker.reset(at: now, actor: "ana").from == .closed)
  }

  @Test mutating func aTimeWindowForgetsCallsOlderThanItsSeconds() {
    var breaker = CircuitBreaker(
      name: "fx",
      settings: settings {
        $0.windowKind = .time
        $0.minimumCalls = 4
      })
    _ = calls(&breaker, 3, .failure("x"))
    now += 10_000
    _ = calls(&breaker, 1, .failure("x"))
    #expect(breaker.state == .closed)
    #expect(breaker.metrics(at: now).bufferedCalls == 1)
    now += 1_000
    _ = calls(&breaker, 3, .failure("x"))
    #expect(breaker.state == .open)
  }

  @Test mutating func halfOpenGivesUpAfterItsMaximumWait() {
    var breaker = CircuitBreaker(name: "fx", settings: settings { $0.maxWaitInHalfOpenMilliseconds = 5_000 })
    _ = calls(&breaker, 10, .failure("x"))
    now += 60_000
    #expect(breaker.acquire(at: now).permitted)
    #expect(breaker.state == .halfOpen)
    now += 5_000
    let expired = breaker.acquire(at: now)
    #expect(!expired.permitted)
    #expect(expired.transitions.map(\.to) == [.open])
  }

  @Test mutating func anIgnoredCallGivesItsPermitBack() {
    var breaker = CircuitBreaker(name: "fx", settings: settings())
    _ = calls(&breaker, 10, .failure("x"))
    now += 60_000
    for _ in 0..<3 {
      #expect(breaker.acquire(at: now).permitted)
      _ = breaker.record(.ignored, milliseconds: 1, at: now)
    }
    #expect(breaker.acquire(at: now).permitted)
    #expect(breaker.state == .halfOpen)
  }
}
