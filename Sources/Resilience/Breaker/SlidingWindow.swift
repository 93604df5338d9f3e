/// The calls a breaker judges by: the last N calls, or the calls of the last
/// N seconds (one bucket per second, as resilience4j aggregates them).
struct SlidingWindow: Sendable, Equatable {
  struct Totals: Sendable, Equatable {
    var calls = 0
    var failed = 0
    var slow = 0
  }

  private let kind: BreakerSettings.WindowKind
  private let size: Int
  /// Count window: one entry per call (bit 0 failed, bit 1 slow), a ring.
  private var ring: [UInt8] = []
  private var next = 0
  /// Time window: per-second buckets, a ring indexed by epoch second.
  private var buckets: [Totals] = []
  private var bucketSeconds: [Int64] = []
  private(set) var totals = Totals()
  /// The second the time window last expired up to (once per second is enough).
  private var expiredAt = Int64.min

  init(kind: BreakerSettings.WindowKind, size: Int) {
    self.kind = kind
    self.size = max(1, size)
    if kind == .time {
      buckets = Array(repeating: Totals(), count: self.size)
      bucketSeconds = Array(repeating: Int64.min, count: self.size)
    } else {
      ring.reserveCapacity(self.size)
    }
  }

  mutating func record(failed: Bool, slow: Bool, at milliseconds: Int64) {
    switch kind {
    case .count:
      let entry = UInt8(failed ? 1 : 0) | UInt8(slow ? 2 : 0)
      if ring.count < size {
        ring.append(entry)
      } else {
        let old = ring[next]
        totals.calls -= 1
        totals.failed -= Int(old & 1)
        totals.slow -= Int(old >> 1 & 1)
        ring[next] = entry
      }
      next = (next + 1) % size
    case .time:
      let second = milliseconds / 1000
      expire(before: second)
      let index = Int(second % Int64(size))
      if bucketSeconds[index] != second {
        bucketSeconds[index] = second
        buckets[index] = Totals()
      }
      buckets[index].calls += 1
      buckets[index].failed += failed ? 1 : 0
      buckets[index].slow += slow ? 1 : 0
    }
    totals.calls += 1
    totals.failed += failed ? 1 : 0
    totals.slow += slow ? 1 : 0
  }

  /// The totals now: a time window first lets go of seconds that left it.
  mutating func current(at milliseconds: Int64) -> Totals {
    if kind == .time { expire(before: milliseconds / 1000) }
    return totals
  }

  /// Drops the buckets older than the window ending at `second`.
  private mutating func expire(before second: Int64) {
    if second == expiredAt { return }
    expiredAt = second
    let oldest = second - Int64(size) + 1
    for index in buckets.indices where bucketSeconds[index] != Int64.min && bucketSeconds[index] < oldest {
      totals.calls -= buckets[index].calls
      totals.failed -= buckets[index].failed
      totals.slow -= buckets[index].slow
      buckets[index] = Totals()
      bucketSeconds[index] = Int64.min
    }
  }
}
