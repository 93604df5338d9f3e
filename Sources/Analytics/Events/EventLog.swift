import Foundation
import GRDB
import Storage

/// One event to record.
public struct TrackedEvent: Sendable, Equatable {
  public var name: String
  public var accountID: String
  public var userID: String?
  public var at: Date
  public var properties: [String: String]
  public var eventID: String?

  public init(
    name: String, accountID: String, userID: String? = nil, at: Date, properties: [String: String] = [:],
    eventID: String? = nil
  ) {
    self.name = name
    self.accountID = accountID
    self.userID = userID
    self.at = at
    self.properties = properties
    self.eventID = eventID
  }
}

/// A bad event: one line naming the input.
public struct AnalyticsInputError: ReportableError {
  public let message: String
  public init(_ message: String) { self.message = message }
  public var description: String { TerminalText.sanitize(message) }
  public var isBadInput: Bool { true }
}

/// The event log on the shared database.
public struct EventLog: Sendable {
  public let store: Store

  public init(store: Store) {
    self.store = store
  }

  public static func validate(_ event: TrackedEvent) throws {
    let name = event.name
    guard !name.isEmpty, name.count <= 200,
      name.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F })
    else { throw AnalyticsInputError("invalid event name '\(name)': expected 1 to 200 printable characters") }
    guard !event.accountID.isEmpty, event.accountID.count <= 128 else {
      throw AnalyticsInputError("invalid account '\(event.accountID)': expected 1 to 128 characters")
    }
  }

  /// Records an event; one whose event id was seen before is ignored.
  /// Returns whether it was new.
  @discardableResult
  public func track(_ event: TrackedEvent) throws -> Bool {
    try Self.validate(event)
    return try store.writeTransaction { db in try insert(db, event) }
  }

  func nameID(_ db: GRDB.Database, _ name: String) throws -> Int64 {
    if let id = try Int64.fetchOne(
      db.cachedStatement(sql: "SELECT id FROM analytics_event_names WHERE name = ?"), arguments: [name])
    {
      return id
    }
    try db.cachedStatement(sql: "INSERT INTO analytics_event_names (name) VALUES (?)").execute(arguments: [name])
    return db.lastInsertedRowID
  }

  func insert(_ db: GRDB.Database, _ event: TrackedEvent) throws -> Bool {
    let properties = JSONOutput.object(event.properties)
    try db.cachedStatement(
      sql: """
        INSERT INTO analytics_events (name_id, account_id, user_id, ts, properties, event_id)
        VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (event_id) WHERE event_id IS NOT NULL DO NOTHING
        """
    ).execute(
      arguments: [
        try nameID(db, event.name), event.accountID, event.userID, event.at.epochMilliseconds, properties,
        event.eventID,
      ])
    return db.changesCount == 1
  }

  /// How many events are recorded.
  public func count() throws -> Int {
    try store.pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM analytics_events") ?? 0 }
  }
}
