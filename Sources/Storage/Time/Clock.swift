import Foundation
import Synchronization

/// Where every engine reads the time. Engines never call `Date()`: the
/// console and the daemon use ``SystemClock``, tests and `--now` use a
/// ``ManualClock`` that only moves when told to.
public protocol Clock: Sendable {
  func now() -> Date
}

public struct SystemClock: Clock {
  public init() {}
  public func now() -> Date { Date() }
}

/// A clock that stands still until a test (or a simulation) advances it.
public final class ManualClock: Clock {
  private let current: Mutex<Date>

  public init(_ start: Date = Date(timeIntervalSince1970: 1_767_225_600)) {
    current = Mutex(start)
  }

  public func now() -> Date { current.withLock { $0 } }

  public func advance(by interval: TimeInterval) {
    current.withLock { $0 = $0.addingTimeInterval(interval) }
  }

  public func advance(by duration: Duration) {
    advance(by: duration.timeInterval)
  }

  public func set(to instant: Date) {
    current.withLock { $0 = instant }
  }
}

extension Date {
  /// Milliseconds since the epoch, rounded down: how every table stores a time.
  public var epochMilliseconds: Int64 { Int64((timeIntervalSince1970 * 1000).rounded(.down)) }

  public init(epochMilliseconds: Int64) {
    self.init(timeIntervalSince1970: Double(epochMilliseconds) / 1000)
  }
}
