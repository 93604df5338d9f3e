import Foundation
import GRDB
import Storage

/// Alerts, their audit trail and silences. One open alert per fingerprint:
/// a repeat raises the count and the last-seen time; every change is an
/// `alert_events` row written in the same transaction as the change.
public final class AlertStore: Sendable {
  public let store: Store
  public let clock: any Clock
  /// Who changes alerts through this store (the Unix user, or the engine).
  public let actor: String

  public init(store: Store, clock: any Clock, actor: String = "opsdeck") {
    self.store = store
    self.clock = clock
    self.actor = actor
  }

  static func milliseconds(_ date: Date) -> Int64 { date.epochMilliseconds }
  static func date(_ milliseconds: Int64?) -> Date? { milliseconds.map(Date.init(epochMilliseconds:)) }

  public static func event(
    _ db: GRDB.Database, _ id: Int64, _ at: Int64, _ kind: String, _ actor: String, _ note: String?
  )
    throws
  {
    try db.cachedStatement(sql: "INSERT INTO alert_events (alert_id, at, kind, actor, note) VALUES (?, ?, ?, ?, ?)")
      .execute(arguments: [id, at, kind, actor, note])
  }

  // MARK: - Raising

  /// Opens an alert, or repeats the open one with the same fingerprint.
  /// A repeat that raises the severity of an acknowledged alert makes it
  /// fire again. Returns its id and whether it is new.
  @discardableResult
  public func raise(_ new: NewAlert) throws -> (id: Int64, created: Bool) {
    try store.writeTransaction { db in try raise(db, new, at: Self.milliseconds(clock.now())) }
  }

  /// Many at once, one transaction (ingest).
  @discardableResult
  public func raise(_ batch: [NewAlert]) throws -> Int {
    try store.writeTransaction { db in
      let now = Self.milliseconds(clock.now())
      var created = 0
      for new in batch where try raise(db, new, at: now).created { created += 1 }
      return created
    }
  }

  private func raise(_ db: GRDB.Database, _ new: NewAlert, at now: Int64) throws -> (id: Int64, created: Bool) {
    let summary = new.summary.trimmingCharacters(in: .whitespacesAndNewlines)
    guard !summary.isEmpty else { throw AlertInputError("invalid summary: it is empty") }
    let fingerprint = new.fingerprint
    if let row = try Row.fetchOne(
      try db.cachedStatement(
        sql: "SELECT id, severity, status FROM alerts WHERE fingerprint = ? AND status != 'resolved'"),
      arguments: [fingerprint])
    {
      let id: Int64 = row[0]
      let old = Severity(rawValue: row[1]) ?? .info
      let status = AlertStatus(rawValue: row[2]) ?? .firing
      let rose = new.severity < old
      let reopen = rose && status == .acknowledged
      try db.cachedStatement(
        sql: """
          UPDATE alerts SET count = count + 1, last_seen = ?, summary = ?, description = coalesce(?, description),
            runbook_url = coalesce(?, runbook_url), severity = ?, status = ?,
            acknowledged_by = CASE WHEN ? THEN NULL ELSE acknowledged_by END,
            acknowledged_at = CASE WHEN ? THEN NULL ELSE acknowledged_at END
          WHERE id = ?
          """
      ).execute(
        arguments: [
          now, summary, new.description, new.runbookURL, (rose ? new.severity : old).rawValue,
          (reopen ? AlertStatus.firing : status).rawValue, reopen, reopen, id,
        ])
      try Self.event(db, id, now, "repeated", actor, rose ? "severity rose to \(new.severity.rawValue)" : nil)
      if reopen { try Self.event(db, id, now, "reopened", actor, "severity rose while acknowledged") }
      return (id, false)
    }
    let labels = JSONOutput.object(new.identity)
    try db.cachedStatement(
      sql: """
        INSERT INTO alerts (fingerprint, severity, status, summary, description, runbook_url, labels, source,
          first_seen, last_seen)
        VALUES (?, ?, 'firing', ?, ?, ?, ?, ?, ?, ?)
        """
    ).execute(
      arguments: [
        fingerprint, new.severity.rawValue, summary, new.description, new.runbookURL, labels, new.source, now, now,
      ])
    let id = db.lastInsertedRowID
    try Self.event(db, id, now, "raised", actor, "from \(new.source)")
    return (id, true)
  }

  // MARK: - People

  public func acknowledge(_ ids: [Int64], note: String? = nil) throws {
    try change(ids, to: .acknowledged, kind: "acknowledged", note: note, from: [.firing])
  }

  public func unacknowledge(_ id: Int64) throws {
    try change([id], to: .firing, kind: "unacked", note: nil, from: [.acknowledged])
  }

  public func resolve(_ ids: [Int64], note: String? = nil) throws {
    try change(ids, to: .resolved, kind: "resolved", note: note, from: [.firing, .acknowledged])
  }

  /// All of `ids` change, or none (one that cannot is named).
  private func change(_ ids: [Int64], to status: AlertStatus, kind: String, note: String?, from: [AlertStatus]) throws {
    guard !ids.isEmpty else { throw AlertInputError("no alert id given") }
    let now = Self.milliseconds(clock.now())
    try store.writeTransaction { db in
      for id in ids {
        guard let current = try String.fetchOne(db, sql: "SELECT status FROM alerts WHERE id = ?", arguments: [id])
        else { throw AlertInputError("no alert \(id)") }
        guard let state = AlertStatus(rawValue: current), from.contains(state) else {
          throw AlertInputError("alert \(id) is \(current); it cannot be \(kind)")
        }
        try db.execute(
          sql: """
            UPDATE alerts SET status = ?1,
              acknowledged_by = CASE WHEN ?1 = 'acknowledged' THEN ?2 WHEN ?1 = 'firing' THEN NULL ELSE acknowledged_by END,
              acknowledged_at = CASE WHEN ?1 = 'acknowledged' THEN ?3 WHEN ?1 = 'firing' THEN NULL ELSE acknowledged_at END,
              resolved_at = CASE WHEN ?1 = 'resolved' THEN ?3 ELSE resolved_at END
            WHERE id = ?4
            """, arguments: [status.rawValue, actor, now, id])
        try Self.event(db, id, now, kind, actor, note)
      }
    }
  }

  /// Quiet until `until`: recorded, not notified; it shows as snoozed.
  public func snooze(_ id: Int64, until: Date) throws {
    let now = Self.milliseconds(clock.now())
    try store.writeTransaction { db in
      try db.execute(
        sql: "UPDATE alerts SET snoozed_until = ? WHERE id = ? AND status != 'resolved'",
        arguments: [Self.milliseconds(until), id])
      guard db.changesCount == 1 else { throw AlertInputError("no open alert \(id)") }
      try Self.event(db, id, now, "snoozed", actor, "until \(Timestamp.format(until))")
    }
  }

  // MARK: - Timers

  /// An acknowledged alert still firing (seen again) after `ackTimeout`
  /// fires again; an open alert not seen for `resolveTimeout` resolves.
  /// Returns how many changed.
  @discardableResult
  public func sweep(ackTimeout: Duration?, resolveTimeout: Duration?) throws -> Int {
    let now = Self.milliseconds(clock.now())
    return try store.writeTransaction { db in
      var changed = 0
      if let ackTimeout, ackTimeout > .zero {
        let ids = try Int64.fetchAll(
          db,
          sql: """
            SELECT id FROM alerts WHERE status = 'acknowledged' AND acknowledged_at <= ? AND last_seen > acknowledged_at
            """, arguments: [now - ackTimeout.milliseconds])
        for id in ids {
          try db.execute(
            sql: "UPDATE alerts SET status = 'firing', acknowledged_by = NULL, acknowledged_at = NULL WHERE id = ?",
            arguments: [id])
          try Self.event(db, id, now, "reopened", "opsdeck", "still firing \(ackTimeout.compactText) after the ack")
        }
        changed += ids.count
      }
      if let resolveTimeout, resolveTimeout > .zero {
        let ids = try Int64.fetchAll(
          db, sql: "SELECT id FROM alerts WHERE status != 'resolved' AND last_seen <= ?",
          arguments: [now - resolveTimeout.milliseconds])
        for id in ids {
          try db.execute(
            sql: "UPDATE alerts SET status = 'resolved', resolved_at = ? WHERE id = ?", arguments: [now, id])
          try Self.event(db, id, now, "resolved", "opsdeck", "not seen for \(resolveTimeout.compactText)")
        }
        changed += ids.count
      }
      return changed
    }
  }

  // MARK: - Reading

  /// The columns ``alert(_:)`` reads, by position (a name lookup per
  /// column per row cost more than the rest of a list of open alerts).
  public static let columns = """
    id, fingerprint, severity, status, summary, description, runbook_url, labels, source, count, first_seen,
    last_seen, acknowledged_by, acknowledged_at, resolved_at, snoozed_until
    """

  public static func alert(_ row: Row) -> Alert {
    let labels = JSONOutput.parseObject(row[7]) ?? [:]
    return Alert(
      id: row[0], fingerprint: row[1], severity: Severity(rawValue: row[2]) ?? .info,
      status: AlertStatus(rawValue: row[3]) ?? .firing, summary: row[4], description: row[5], runbookURL: row[6],
      labels: labels, source: row[8], count: row[9], firstSeen: date(row[10]) ?? Date(),
      lastSeen: date(row[11]) ?? Date(), acknowledgedBy: row[12], acknowledgedAt: date(row[13]),
      resolvedAt: date(row[14]), snoozedUntil: date(row[15]))
  }

  /// Alerts, most severe then oldest first. `silenced` lists open alerts a
  /// silence covers now (or that are snoozed).
  public func list(status: String? = nil, severity: Severity? = nil, limit: Int = 1_000) throws -> [Alert] {
    let now = clock.now()
    return try store.pool.read { db in
      var conditions: [String] = []
      var arguments: [any DatabaseValueConvertible] = []
      switch status {
      case nil: conditions.append("status IN ('firing', 'acknowledged')")
      case "silenced": conditions.append("status IN ('firing', 'acknowledged')")
      case let status?:
        guard AlertStatus(rawValue: status) != nil else {
          throw AlertInputError("invalid status '\(status)': expected firing, acknowledged, resolved or silenced")
        }
        conditions.append("status = ?")
        arguments.append(status)
      }
      if let severity {
        conditions.append("severity = ?")
        arguments.append(severity.rawValue)
      }
      arguments.append(limit)
      let silences = try Self.silences(db).filter { $0.state(at: now) == .active }
      let rows = try Row.fetchAll(
        db,
        sql: """
          SELECT \(Self.columns) FROM alerts WHERE \(conditions.joined(separator: " AND "))
          ORDER BY CASE severity WHEN 'critical' THEN 0 WHEN 'error' THEN 1 WHEN 'warning' THEN 2 ELSE 3 END,
            first_seen, id LIMIT ?
          """, arguments: StatementArguments(arguments))
      var alerts = rows.map(Self.alert).map { alert -> Alert in
        var alert = alert
        var labels = alert.labels
        labels["severity"] = alert.severity.rawValue
        alert.silenced = silences.contains { $0.covers(labels, at: now) }
        return alert
      }
      if status == "silenced" {
        alerts = alerts.filter { $0.silenced || ($0.snoozedUntil.map { $0 > now } ?? false) }
      }
      return alerts
    }
  }

  public func alert(_ id: Int64) throws -> Alert {
    let found = try store.pool.read { db in
      try Row.fetchOne(db, sql: "SELECT \(Self.columns) FROM alerts WHERE id = ?", arguments: [id]).map(Self.alert)
    }
    guard var alert = found else { throw AlertInputError("no alert \(id)") }
    var labels = alert.labels
    labels["severity"] = alert.severity.rawValue
    let now = clock.now()
    alert.silenced = try silences().contains { $0.covers(labels, at: now) }
    return alert
  }

  public func history(_ id: Int64) throws -> [AlertEvent] {
    _ = try alert(id)
    return try store.pool.read { db in
      try Row.fetchAll(
        db, sql: "SELECT at, kind, actor, note FROM alert_events WHERE alert_id = ? ORDER BY id", arguments: [id]
      ).map { AlertEvent(at: Self.date($0[0]) ?? Date(), kind: $0[1], actor: $0[2], note: $0[3]) }
    }
  }

  // MARK: - Silences

  public func silence(matchers: [LabelMatcher], for duration: Duration, comment: String, starting: Date? = nil)
    throws -> Int64
  {
    guard !matchers.isEmpty else { throw AlertInputError("a silence needs at least one --match") }
    guard duration > .zero else { throw AlertInputError("invalid --for: a silence must last more than 0s") }
    guard !comment.trimmingCharacters(in: .whitespaces).isEmpty else {
      throw AlertInputError("a silence needs a --comment saying why")
    }
    let now = clock.now()
    let start = starting ?? now
    return try store.writeTransaction { db in
      try db.execute(
        sql: """
          INSERT INTO silences (matchers, starts_at, ends_at, author, comment, created_at) VALUES (?, ?, ?, ?, ?, ?)
          """,
        arguments: [
          try JSONOutput.string(matchers.map(\.description)), Self.milliseconds(start),
          Self.milliseconds(start) + duration.milliseconds, actor, comment, Self.milliseconds(now),
        ])
      let id = db.lastInsertedRowID
      try AuditLog.record(
        db,
        AuditEntry(
          at: now, actor: actor, action: "silence.add", target: "silence:\(id)",
          detail: matchers.map(\.description).joined(separator: ",")))
      return id
    }
  }

  public func silences() throws -> [Silence] {
    try store.pool.read { db in try Self.silences(db) }
  }

  static func silences(_ db: GRDB.Database) throws -> [Silence] {
    try Row.fetchAll(db, sql: "SELECT * FROM silences ORDER BY id").map { row in
      let texts =
        (try? JSONSerialization.jsonObject(with: Data((row["matchers"] as String).utf8))) as? [String] ?? []
      return Silence(
        id: row["id"], matchers: texts.compactMap { try? LabelMatcher(parsing: $0) },
        startsAt: date(row["starts_at"]) ?? Date(), endsAt: date(row["ends_at"]) ?? Date(), author: row["author"],
        comment: row["comment"], createdAt: date(row["created_at"]) ?? Date())
    }
  }

  /// Ends a silence now.
  public func expireSilence(_ id: Int64) throws {
    let now = clock.now()
    try store.writeTransaction { db in
      try db.execute(
        sql: "UPDATE silences SET ends_at = min(ends_at, ?) WHERE id = ?", arguments: [Self.milliseconds(now), id])
      guard db.changesCount == 1 else { throw AlertInputError("no silence \(id)") }
      try AuditLog.record(
        db, AuditEntry(at: now, actor: actor, action: "silence.expire", target: "silence:\(id)", detail: nil))
    }
  }
}
