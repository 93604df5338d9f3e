import Foundation
import GRDB

/// One change a person (or an engine) made: who, when, what, to what.
/// Written in the same transaction as the change itself, so the trail never
/// claims a change that did not happen or misses one that did.
public struct AuditEntry: Sendable, Equatable, Encodable {
  public var at: Date
  public var actor: String
  /// What was done, `noun.verb`: `job.retry`, `queue.pause`.
  public var action: String
  /// What it was done to, `kind:id`: `job:42`, `queue:emails`.
  public var target: String
  public var detail: String?

  public init(at: Date, actor: String, action: String, target: String, detail: String? = nil) {
    self.at = at
    self.actor = actor
    self.action = action
    self.target = target
    self.detail = detail
  }

  enum CodingKeys: String, CodingKey { case at, actor, action, target, detail }

  /// Every key, nulls included: scripts see the same shape every time.
  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(at, forKey: .at)
    try container.encode(actor, forKey: .actor)
    try container.encode(action, forKey: .action)
    try container.encode(target, forKey: .target)
    try container.encode(detail, forKey: .detail)
  }
}

public enum AuditLog {
  static let migration = Migration("storage.002_audit") { db in
    try db.execute(
      sql: """
        CREATE TABLE audit_log (
          id INTEGER PRIMARY KEY,
          at INTEGER NOT NULL,
          actor TEXT NOT NULL,
          action TEXT NOT NULL,
          target TEXT NOT NULL,
          detail TEXT
        );
        CREATE INDEX audit_log_target ON audit_log(target, id);
        """)
  }

  /// Records `entry` inside the caller's transaction.
  public static func record(_ db: GRDB.Database, _ entry: AuditEntry) throws {
    try db.execute(
      sql: "INSERT INTO audit_log (at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)",
      arguments: [
        entry.at.epochMilliseconds, entry.actor, entry.action, entry.target, entry.detail,
      ])
  }

  /// The newest entries, newest first; only those about `target` when given.
  public static func entries(_ db: GRDB.Database, target: String? = nil, limit: Int = 100) throws -> [AuditEntry] {
    let sql =
      target == nil
      ? "SELECT at, actor, action, target, detail FROM audit_log ORDER BY id DESC LIMIT ?2"
      : "SELECT at, actor, action, target, detail FROM audit_log WHERE target = ?1 ORDER BY id DESC LIMIT ?2"
    return try Row.fetchAll(db, sql: sql, arguments: [target, limit]).map { row in
      AuditEntry(
        at: Date(epochMilliseconds: row[0]), actor: row[1], action: row[2],
        target: row[3], detail: row[4])
    }
  }
}
