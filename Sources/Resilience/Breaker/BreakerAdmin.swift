import Foundation
import GRDB
import Storage

/// What a person can do to a breaker (from the CLI or the console).
public enum BreakerCommand: String, Sendable, CaseIterable {
  case forceOpen = "force-open"
  case close
  case reset
  case disable
  case metricsOnly = "metrics-only"

  /// The state the command leaves the breaker in.
  public var resultingState: BreakerState { target }

  var target: BreakerState {
    switch self {
    case .forceOpen: return .forcedOpen
    case .close, .reset: return .closed
    case .disable: return .disabled
    case .metricsOnly: return .metricsOnly
    }
  }
}

/// Reading the shared breaker rows, and changing them by hand. Every
/// process's registry takes the new state on at its next look (a quarter
/// second), so a force-open from the console stops calls in `opsdeck run`.
public enum BreakerAdmin {
  static func date(_ milliseconds: Int64?) -> Date? {
    milliseconds.map(Date.init(epochMilliseconds:))
  }

  /// Every configured breaker (those never used yet read as CLOSED).
  public static func statuses(_ db: GRDB.Database, names: [String], now: Date) throws -> [BreakerStatus] {
    let rows = try Row.fetchAll(db, sql: "SELECT * FROM breakers")
    var byName: [String: Row] = [:]
    for row in rows { byName[row["name"]] = row }
    return Set(names).union(byName.keys).sorted().map { name in
      guard let row = byName[name] else {
        return BreakerStatus(
          name: name, state: .closed, failureRate: nil, slowCallRate: nil, bufferedCalls: 0, failedCalls: 0,
          slowCalls: 0, notPermitted: 0, openedAt: nil, halfOpenAt: nil, lastError: nil, updatedAt: now)
      }
      let state = BreakerState(rawValue: row["state"]) ?? .closed
      return BreakerStatus(
        name: name, state: state, failureRate: row["failure_rate"], slowCallRate: row["slow_call_rate"],
        bufferedCalls: row["buffered_calls"], failedCalls: row["failed_calls"], slowCalls: row["slow_calls"],
        notPermitted: row["not_permitted"], openedAt: date(row["opened_at"]),
        halfOpenAt: state == .open ? date(row["half_open_at"]) : nil, lastError: row["last_error"],
        updatedAt: date(row["updated_at"]) ?? now)
    }
  }

  public static func history(_ db: GRDB.Database, name: String, limit: Int = 50) throws -> [BreakerHistoryEntry] {
    try Row.fetchAll(
      db,
      sql:
        "SELECT at, from_state, to_state, reason, actor FROM breaker_transitions WHERE name = ? ORDER BY id DESC LIMIT ?",
      arguments: [name, limit]
    ).map { row in
      BreakerHistoryEntry(
        at: date(row[0]) ?? Date(), from: BreakerState(rawValue: row[1]) ?? .closed,
        to: BreakerState(rawValue: row[2]) ?? .closed, reason: row[3], actor: row[4])
    }
  }

  public static func calls(_ db: GRDB.Database, name: String, limit: Int = 50) throws -> [BreakerCall] {
    try Row.fetchAll(
      db,
      sql: "SELECT at, outcome, latency_ms, error FROM breaker_calls WHERE name = ? ORDER BY id DESC LIMIT ?",
      arguments: [name, limit]
    ).map { BreakerCall(at: date($0[0]) ?? Date(), outcome: $0[1], latencyMilliseconds: $0[2], error: $0[3]) }
  }

  /// Applies `command` to breaker `name` in one transaction with its
  /// history row and an audit entry. Moving to the state it is in is
  /// refused (reset always works).
  @discardableResult
  public static func apply(
    _ command: BreakerCommand, to name: String, store: Store, at now: Date, actor: String
  ) throws -> BreakerTransition {
    let milliseconds = now.epochMilliseconds
    return try store.writeTransaction { db in
      try BreakerRegistry.ensureRow(db, name, now: milliseconds)
      let current =
        BreakerState(
          rawValue: try String.fetchOne(db, sql: "SELECT state FROM breakers WHERE name = ?", arguments: [name]) ?? "")
        ?? .closed
      let target = command.target
      if command != .reset && current == target { throw IllegalTransition(name: name, state: current) }
      let transition = BreakerTransition(
        from: current, to: target, atMilliseconds: milliseconds,
        reason: command == .reset ? "reset by hand" : "\(command.rawValue) by hand", actor: actor)
      try BreakerRegistry.insert(db, name, transition)
      try db.execute(
        sql: """
          UPDATE breakers SET state = ?, version = version + 1, opened_at = ?, half_open_at = NULL,
            half_opened_at = NULL, opens_in_row = 0, failure_rate = NULL, slow_call_rate = NULL, buffered_calls = 0,
            failed_calls = 0, slow_calls = 0, not_permitted = CASE WHEN ?3 THEN 0 ELSE not_permitted END,
            updated_at = ?
          WHERE name = ?
          """,
        arguments: [target.rawValue, target == .forcedOpen ? milliseconds : nil, target == .closed, milliseconds, name])
      try AuditLog.record(
        db,
        AuditEntry(
          at: now, actor: actor, action: "breaker.\(command.rawValue)", target: "breaker:\(name)",
          detail: "was \(current.rawValue)"))
      return transition
    }
  }
}
