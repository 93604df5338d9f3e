import Foundation
import GRDB
import Storage

/// One event to record.
public struct TrackedEvent: Sendable, Equatable {
  public var name: String
  public var accountID: String
  public var userID: String?
  public var at: Date
  /// The properties as one JSON object's text.
  public var properties: String
  public var eventID: String?

  public init(
    name: String, accountID: String, userID: String? = nil, at: Date, properties: [String: String] = [:],
    eventID: String? = nil
  ) {
    self.init(
      name: name, accountID: accountID, userID: userID, at: at, propertiesJSON: JSONOutput.object(properties),
      eventID: eventID)
  }

  public init(
    name: String, accountID: String, userID: String?, at: Date, propertiesJSON: String, eventID: String?
  ) {
    self.name = name
    self.accountID = accountID
    self.userID = userID
    self.at = at
    self.properties = propertiesJSON
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

/// The event log on the shared database. Names and actors are interned:
/// an event row holds small integers, which is what funnels read.
public struct EventLog: Sendable {
  public let store: Store

  public init(store: Store) {
    self.store = store
  }

  static let insertSQL = """
    INSERT INTO analytics_events (name_id, account, user, ts, properties, event_id)
    VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (event_id) WHERE event_id IS NOT NULL DO NOTHING
    """

  public static func validate(name: String, account: String) -> String? {
    guard !name.isEmpty, name.utf8.count <= 200,
      name.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F })
    else { return "invalid event name '\(name.prefix(60))': expected 1 to 200 printable characters" }
    guard !account.isEmpty, account.utf8.count <= 128 else {
      return "invalid account_id '\(account.prefix(60))': expected 1 to 128 characters"
    }
    return nil
  }

  /// Records an event; one whose event id was seen before is ignored.
  /// Returns whether it was new.
  @discardableResult
  public func track(_ event: TrackedEvent) throws -> Bool {
    if let problem = Self.validate(name: event.name, account: event.accountID) {
      throw AnalyticsInputError(problem)
    }
    guard JSONValue(parsing: event.properties).map({ if case .object = $0 { true } else { false } }) == true else {
      throw AnalyticsInputError("invalid properties: expected a JSON object")
    }
    return try store.writeTransaction { db in
      var interner = Interner(store: store)
      return try interner.insert(db, event, statement: try db.cachedStatement(sql: Self.insertSQL))
    }
  }

  /// Events from an engine, in one transaction with how far that source
  /// has been read (event ids make a repeat harmless). Returns how many were new.
  @discardableResult
  public func track(_ events: [TrackedEvent], source: String, position: Int64) throws -> Int {
    for event in events {
      if let problem = Self.validate(name: event.name, account: event.accountID) { throw AnalyticsInputError(problem) }
    }
    return try store.writeTransaction { db in
      var interner = Interner(store: store)
      let statement = try db.cachedStatement(sql: Self.insertSQL)
      var added = 0
      for event in events where try interner.insert(db, event, statement: statement) { added += 1 }
      try db.execute(
        sql: """
          INSERT INTO analytics_sources (name, position) VALUES (?, ?)
          ON CONFLICT (name) DO UPDATE SET position = max(position, excluded.position)
          """, arguments: [source, position])
      return added
    }
  }

  /// How far a source has been read (0 before the first time).
  public func position(of source: String) throws -> Int64 {
    try store.pool.read { db in
      try Int64.fetchOne(db, sql: "SELECT position FROM analytics_sources WHERE name = ?", arguments: [source]) ?? 0
    }
  }

  /// How many events are recorded.
  public func count() throws -> Int {
    try store.pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM analytics_events") ?? 0 }
  }
}

/// Names and actors to their integer ids, inside one write transaction:
/// looked up once, created when new (through raw statements: an import
/// meets tens of thousands of new actors).
struct Interner {
  var names: [String: Int64] = [:]
  var accounts: [String: Int64] = [:]
  var users: [String: Int64] = [:]
  let findName: RawStatement
  let addName: RawStatement
  let findActor: RawStatement
  let addActor: RawStatement

  init(store: Store) {
    findName = store.rawStatement("SELECT id FROM analytics_event_names WHERE name = ?")
    addName = store.rawStatement("INSERT INTO analytics_event_names (name) VALUES (?)")
    findActor = store.rawStatement("SELECT id FROM analytics_actors WHERE kind = ? AND key = ?")
    addActor = store.rawStatement("INSERT INTO analytics_actors (kind, key) VALUES (?, ?)")
  }

  mutating func name(_ db: GRDB.Database, _ name: String) throws -> Int64 {
    if let id = names[name] { return id }
    try findName.bind(db, 1, name)
    var id = try findName.firstInt64(db)
    if id == nil {
      try addName.bind(db, 1, name)
      try addName.run(db)
      id = db.lastInsertedRowID
    }
    names[name] = id
    return id ?? 0
  }

  mutating func actor(_ db: GRDB.Database, _ key: String, user: Bool) throws -> Int64 {
    if let id = user ? users[key] : accounts[key] { return id }
    let kind = user ? "user" : "account"
    try findActor.bind(db, 1, kind)
    try findActor.bind(db, 2, key)
    var id = try findActor.firstInt64(db)
    if id == nil {
      try addActor.bind(db, 1, kind)
      try addActor.bind(db, 2, key)
      try addActor.run(db)
      id = db.lastInsertedRowID
    }
    if user { users[key] = id } else { accounts[key] = id }
    return id ?? 0
  }

  mutating func insert(_ db: GRDB.Database, _ event: TrackedEvent, statement: GRDB.Statement) throws -> Bool {
    try statement.execute(
      arguments: [
        try name(db, event.name), try actor(db, event.accountID, user: false),
        try event.userID.map { try actor(db, $0, user: true) }, event.at.epochMilliseconds, event.properties,
        event.eventID,
      ])
    return db.changesCount == 1
  }
}

extension EventLog {
  /// The interned ids of those of `names` that have been seen, by name: one query.
  static func nameIDs(_ db: GRDB.Database, _ names: [String]) throws -> [String: Int64] {
    guard !names.isEmpty else { return [:] }
    var ids: [String: Int64] = [:]
    for row in try Row.fetchAll(
      db,
      sql: "SELECT name, id FROM analytics_event_names WHERE name IN (\(databaseQuestionMarks(count: names.count)))",
      arguments: StatementArguments(names))
    {
      ids[row[0]] = row[1]
    }
    return ids
  }

  /// The last event row written (0: none): what a kept report has read up to.
  static func lastRow(_ db: GRDB.Database) throws -> Int64 {
    try Int64.fetchOne(db, sql: "SELECT coalesce(max(id), 0) FROM analytics_events") ?? 0
  }

  /// The last event row folded into the column blocks (0: none).
  static func foldedThrough(_ db: GRDB.Database) throws -> Int64 {
    try Int64.fetchOne(db, sql: "SELECT position FROM analytics_sources WHERE name = 'columns'") ?? 0
  }
}
