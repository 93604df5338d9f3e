import Foundation
import GRDB
import Storage
import Synchronization

/// A call the breaker let through; hand it back to ``BreakerRegistry/record(_:_:)``.
public struct BreakerPermit: Sendable {
  public let name: String
  public let startedAt: Int64
}

/// A call refused without being made: the breaker is open.
public struct BreakerRejection: ReportableError, Equatable {
  public let name: String
  public let state: BreakerState
  /// When an OPEN breaker lets a trial call through.
  public let halfOpenAt: Date?
  public var description: String {
    let retry = halfOpenAt.map { " until \(Timestamp.format($0))" } ?? ""
    return "\(name): circuit breaker is \(state.rawValue)\(retry); the call was not made"
  }
  public var isBadInput: Bool { false }
}

/// What `breakers`, the Breakers pane and `probe` show of one breaker.
public struct BreakerStatus: Sendable, Equatable {
  public var name: String
  public var state: BreakerState
  public var failureRate: Double?
  public var slowCallRate: Double?
  public var bufferedCalls: Int
  public var failedCalls: Int
  public var slowCalls: Int
  public var notPermitted: Int
  public var openedAt: Date?
  public var halfOpenAt: Date?
  public var lastError: String?
  public var updatedAt: Date
}

/// One past transition, as `breakers history` prints it.
public struct BreakerHistoryEntry: Sendable, Equatable {
  public var at: Date
  public var from: BreakerState
  public var to: BreakerState
  public var reason: String
  public var actor: String?
}

/// One call's outcome as the breaker saw it.
public struct BreakerCall: Sendable, Equatable {
  public var at: Date
  public var outcome: String
  public var latencyMilliseconds: Int64
  public var error: String?
}

/// The breakers of this process, shared with every other through SQLite:
/// each call is counted in memory (no write per call); transitions are
/// written when they happen, and every quarter second a breaker in use
/// publishes its rates and recent calls and takes on any state another
/// process (or a person, from the console or the CLI) gave it.
public final class BreakerRegistry: Sendable {
  public let store: Store
  public let clock: any Clock
  public let actor: String
  /// How often a breaker in use looks at the shared row.
  public let syncInterval: Int64
  private let entries: Mutex<[String: Entry]>

  struct Entry: Sendable {
    var breaker: CircuitBreaker
    /// The shared row's version this process last saw or wrote.
    var version: Int64 = -1
    var syncedAt: Int64? = nil
    var calls = RecentCalls()
    /// Refusals already added to the shared count.
    var publishedNotPermitted = 0
  }

  public init(
    store: Store, clock: any Clock, settings: [String: BreakerSettings], actor: String = "opsdeck",
    syncInterval: Int64 = 250
  ) {
    self.store = store
    self.clock = clock
    self.actor = actor
    self.syncInterval = syncInterval
    entries = Mutex(settings.mapValues { Entry(breaker: CircuitBreaker(name: "", settings: $0)) })
    entries.withLock { all in
      for (name, entry) in all { all[name]?.breaker = CircuitBreaker(name: name, settings: entry.breaker.settings) }
    }
  }

  public var names: [String] { entries.withLock { $0.keys.sorted() } }

  /// Adds a breaker made at run time (one per webhook endpoint); one that
  /// exists keeps its state.
  public func ensure(_ name: String, settings: BreakerSettings) {
    entries.withLock { all in
      if all[name] == nil { all[name] = Entry(breaker: CircuitBreaker(name: name, settings: settings)) }
    }
  }

  private var now: Int64 { clock.now().epochMilliseconds }

  // MARK: - Calls

  /// A permit for one call, or ``BreakerRejection`` when the breaker is open.
  public func acquire(_ name: String) throws -> BreakerPermit {
    let now = self.now
    try syncIfDue(name, now: now)
    let (permitted, transitions, state, halfOpenAt) = try withEntry(name) { entry in
      let result = entry.breaker.acquire(at: now)
      if !result.permitted { Self.remember(&entry, now, "rejected", 0, nil) }
      return (result.permitted, result.transitions, entry.breaker.state, entry.breaker.halfOpenAt)
    }
    try write(name, transitions)
    guard permitted else {
      throw BreakerRejection(
        name: name, state: state, halfOpenAt: halfOpenAt.map(Date.init(epochMilliseconds:)))
    }
    return BreakerPermit(name: name, startedAt: now)
  }

  /// Records how a permitted call went. Returns the call's outcome word
  /// (`ok`, `slow` or `failed`).
  @discardableResult
  public func record(_ permit: BreakerPermit, _ result: CallResult) throws -> String {
    let now = self.now
    let latency = max(0, now - permit.startedAt)
    let (transitions, outcome) = try withEntry(permit.name) { entry -> ([BreakerTransition], String) in
      let transitions = entry.breaker.record(result, milliseconds: latency, at: now)
      let outcome: String
      var error: String? = nil
      switch result {
      case .failure(let message):
        outcome = "failed"
        error = message
      case .success, .ignored:
        outcome = latency > entry.breaker.settings.slowCallMilliseconds ? "slow" : "ok"
      }
      Self.remember(&entry, now, outcome, latency, error)
      return (transitions, outcome)
    }
    try write(permit.name, transitions)
    return outcome
  }

  /// Runs `body` on the entry in place, under the lock (no copy of its
  /// windows: a copy per call would cost more than the call's bookkeeping).
  private func withEntry<R>(_ name: String, _ body: (inout Entry) throws -> R) throws -> R {
    try entries.withLock { all in
      guard all[name] != nil else { throw BreakerUnknown(name: name) }
      return try body(&all[name]!)
    }
  }

  private static func remember(_ entry: inout Entry, _ at: Int64, _ outcome: String, _ latency: Int64, _ error: String?)
  {
    entry.calls.append((at, outcome, latency, error))
  }

  /// The state of `name` in this process now.
  public func state(_ name: String) -> BreakerState? {
    entries.withLock { $0[name]?.breaker.state }
  }

  // MARK: - Sharing

  /// Publishes every breaker's rates and takes on states set elsewhere.
  public func syncAll() throws {
    let now = self.now
    for name in names { try sync(name, now: now) }
  }

  private func syncIfDue(_ name: String, now: Int64) throws {
    let due = try withEntry(name) { entry in entry.syncedAt.map { now - $0 >= syncInterval } ?? true }
    if due { try sync(name, now: now) }
  }

  private func sync(_ name: String, now: Int64) throws {
    let (calls, known) = entries.withLock { all -> ([(Int64, String, Int64, String?)], Int64) in
      guard var entry = all[name] else { return ([], -1) }
      entry.syncedAt = now
      let calls = entry.calls.drain()
      all[name] = entry
      return (calls, entry.version)
    }
    guard known >= -1 else { return }
    try store.writeTransaction { db in
      try Self.ensureRow(db, name, now: now)
      guard let row = try Row.fetchOne(db, sql: "SELECT * FROM breakers WHERE name = ?", arguments: [name]) else {
        return
      }
      let version: Int64 = row["version"]
      let published = entries.withLock { all -> (BreakerMetrics, Int)? in
        guard var entry = all[name] else { return nil }
        if version != entry.version {
          let shared = BreakerState(rawValue: row["state"]) ?? .closed
          if shared != entry.breaker.state || (shared == .closed && entry.version >= 0) {
            if shared == entry.breaker.state {
              entry.breaker = CircuitBreaker(name: name, settings: entry.breaker.settings)
            }
            entry.breaker.adopt(
              shared, openedAt: row["opened_at"], halfOpenedAt: row["half_opened_at"], opensInRow: row["opens_in_row"])
          }
          entry.version = version
        }
        let metrics = entry.breaker.metrics(at: now)
        // Refusals add up across processes; a close starts the count again.
        if metrics.notPermitted < entry.publishedNotPermitted { entry.publishedNotPermitted = 0 }
        let refused = metrics.notPermitted - entry.publishedNotPermitted
        entry.publishedNotPermitted = metrics.notPermitted
        all[name] = entry
        return (metrics, refused)
      }
      guard let (metrics, refused) = published else { return }
      let lastError = entries.withLock { $0[name]?.breaker.lastError }
      try db.execute(
        sql:
          "UPDATE breakers SET not_permitted = not_permitted + ?, last_error = coalesce(?, last_error) WHERE name = ?",
        arguments: [refused, lastError, name])
      // The rates of a process that saw no calls would blank those of the
      // one that did: only a window with calls is published.
      if metrics.bufferedCalls > 0 {
        try db.execute(
          sql: """
            UPDATE breakers SET failure_rate = ?, slow_call_rate = ?, buffered_calls = ?, failed_calls = ?,
              slow_calls = ?, updated_at = ?
            WHERE name = ?
            """,
          arguments: [
            metrics.failureRate, metrics.slowCallRate, metrics.bufferedCalls, metrics.failedCalls, metrics.slowCalls,
            now, name,
          ])
      }
      if !calls.isEmpty {
        let insert = try db.cachedStatement(
          sql: "INSERT INTO breaker_calls (name, at, outcome, latency_ms, error) VALUES (?, ?, ?, ?, ?)")
        for call in calls { try insert.execute(arguments: [name, call.0, call.1, call.2, call.3]) }
        try db.execute(
          sql: """
            DELETE FROM breaker_calls WHERE name = ?1 AND id <= coalesce(
              (SELECT id FROM breaker_calls WHERE name = ?1 ORDER BY id DESC LIMIT 1 OFFSET 200), 0)
            """, arguments: [name])
      }
    }
  }

  /// Writes transitions this process made and moves the shared version on.
  private func write(_ name: String, _ transitions: [BreakerTransition]) throws {
    guard let last = transitions.last else { return }
    let (openedAt, halfOpenAt, halfOpenedAt, opens) = entries.withLock { all in
      let breaker = all[name]?.breaker
      return (breaker?.openedAt, breaker?.halfOpenAt, breaker?.halfOpenedAt, breaker?.opensInRow ?? 0)
    }
    let version = try store.writeTransaction { db -> Int64 in
      try Self.ensureRow(db, name, now: last.atMilliseconds)
      for transition in transitions { try Self.insert(db, name, transition) }
      if last.to == .closed {
        // A close starts a fresh window (and a fresh count of refusals).
        try db.execute(
          sql: """
            UPDATE breakers SET failure_rate = NULL, slow_call_rate = NULL, buffered_calls = 0, failed_calls = 0,
              slow_calls = 0, not_permitted = 0
            WHERE name = ?
            """, arguments: [name])
      }
      return try Int64.fetchOne(
        db,
        sql: """
          UPDATE breakers SET state = ?, version = version + 1, opened_at = ?, half_open_at = ?, half_opened_at = ?,
            opens_in_row = ?, updated_at = ?
          WHERE name = ? RETURNING version
          """,
        arguments: [last.to.rawValue, openedAt, halfOpenAt, halfOpenedAt, opens, last.atMilliseconds, name]) ?? 0
    }
    entries.withLock { all in all[name]?.version = version }
  }

  static func ensureRow(_ db: GRDB.Database, _ name: String, now: Int64) throws {
    try db.execute(
      sql: "INSERT INTO breakers (name, updated_at) VALUES (?, ?) ON CONFLICT(name) DO NOTHING", arguments: [name, now])
  }

  static func insert(_ db: GRDB.Database, _ name: String, _ transition: BreakerTransition) throws {
    try db.execute(
      sql: "INSERT INTO breaker_transitions (name, at, from_state, to_state, reason, actor) VALUES (?, ?, ?, ?, ?, ?)",
      arguments: [
        name, transition.atMilliseconds, transition.from.rawValue, transition.to.rawValue, transition.reason,
        transition.actor,
      ])
  }
}

/// A dependency that has no breaker configured.
public struct BreakerUnknown: ReportableError, Equatable {
  public let name: String
  public init(name: String) { self.name = name }
  public var description: String { "no dependency named '\(name)' (add [dependencies.\(name)] to the configuration)" }
  public var isBadInput: Bool { true }
}

/// The last 100 calls since the last publish: a ring, so a busy breaker
/// pays no copying per call.
struct RecentCalls: Sendable {
  typealias Call = (Int64, String, Int64, String?)
  static let capacity = 100
  private var ring: [Call] = []
  private var next = 0

  mutating func append(_ call: Call) {
    if ring.count < Self.capacity {
      ring.append(call)
    } else {
      ring[next] = call
    }
    next = (next + 1) % Self.capacity
  }

  /// The calls, oldest first; empties the ring.
  mutating func drain() -> [Call] {
    defer {
      ring.removeAll(keepingCapacity: true)
      next = 0
    }
    guard ring.count == Self.capacity else { return ring }
    return Array(ring[next...] + ring[..<next])
  }
}
