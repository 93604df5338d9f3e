import Foundation
import GRDB
import Storage

/// Events as columns: what a funnel reads. ``EventLog/compact()`` folds the
/// rows written since the last fold into per-name blocks; ``EventLog/columns(names:)``
/// reads the blocks and the rows not folded yet.
public struct EventColumns: Sendable {
  public var ts: [Int64] = []
  public var accounts: [Int32] = []
  /// 0 for an event without a user.
  public var users: [Int32] = []
  /// Index of the event's name in the names asked for.
  public var names: [Int32] = []

  public var count: Int { ts.count }

  mutating func reserve(_ extra: Int) {
    ts.reserveCapacity(ts.count + extra)
    accounts.reserveCapacity(accounts.count + extra)
    users.reserveCapacity(users.count + extra)
    names.reserveCapacity(names.count + extra)
  }
}

extension EventLog {
  static let blockSize = 65_536

  static func blob<T>(_ values: [T]) -> Data { values.withUnsafeBytes { Data($0) } }

  static func array<T>(_ data: Data, as: T.Type, count: Int) -> [T] {
    [T](unsafeUninitializedCapacity: count) { buffer, initialized in
      data.withUnsafeBytes { raw in
        _ = memcpy(buffer.baseAddress!, raw.baseAddress!, min(raw.count, count * MemoryLayout<T>.stride))
      }
      initialized = count
    }
  }

  /// Folds the events written since the last fold into the column blocks
  /// (appending to each name's last block while it has room). Returns how
  /// many events it folded.
  @discardableResult
  public func compact() throws -> Int {
    try store.writeTransaction { db in try compact(db) }
  }

  func compact(_ db: GRDB.Database) throws -> Int {
    let position = try EventLog.foldedThrough(db)
    var folder = ColumnFolder()
    var last = position
    try RawStatement.scanIntegers(
      db, sql: "SELECT id, name_id, ts, account, coalesce(user, 0) FROM analytics_events WHERE id > ? ORDER BY id",
      arguments: [position], columns: 5
    ) { row in
      folder.append(name: row[1], ts: row[2], account: row[3], user: row[4])
      last = row[0]
    }
    guard last > position else { return 0 }
    try folder.finish(db, through: last)
    return folder.folded
  }

  /// Appends `count` values stored in `data` (native byte order, as
  /// ``blob(_:)`` wrote them); a short blob adds what it has.
  static func append<T: FixedWidthInteger>(_ data: Data, count: Int, to array: inout [T]) {
    let available = min(count, data.count / MemoryLayout<T>.stride)
    guard available > 0 else { return }
    let start = array.count
    array.append(contentsOf: repeatElement(0, count: available))
    array.withUnsafeMutableBytes { destination in
      data.withUnsafeBytes { source in
        (destination.baseAddress! + start * MemoryLayout<T>.stride).copyMemory(
          from: source.baseAddress!, byteCount: available * MemoryLayout<T>.stride)
      }
    }
  }

  /// Every event of the given names (nil: every name) as columns: the
  /// folded blocks, then the rows written since (up to row `last`).
  func columns(_ db: GRDB.Database, names: [Int64: Int32]?, through last: Int64 = .max) throws -> EventColumns {
    var columns = EventColumns()
    if names?.isEmpty == true { return columns }
    let position = try EventLog.foldedThrough(db)
    let filter = names.map { "WHERE name_id IN (\($0.keys.map(String.init).joined(separator: ",")))" } ?? ""
    // Sized once, then each block's bytes appended straight from the row.
    let folded = try Int.fetchOne(db, sql: "SELECT coalesce(sum(count), 0) FROM analytics_columns \(filter)") ?? 0
    columns.reserve(folded)
    let blocks = try Row.fetchCursor(
      db, sql: "SELECT name_id, count, ts, accounts, users FROM analytics_columns \(filter)")
    while let row = try blocks.next() {
      let count: Int = row[1]
      let name = names?[row[0]] ?? Int32(truncatingIfNeeded: row[0] as Int64)
      Self.append(row[2], count: count, to: &columns.ts)
      Self.append(row[3], count: count, to: &columns.accounts)
      Self.append(row[4], count: count, to: &columns.users)
      columns.names.append(contentsOf: repeatElement(name, count: count))
    }
    let tail = names.map { "AND name_id IN (\($0.keys.map(String.init).joined(separator: ",")))" } ?? ""
    try RawStatement.scanIntegers(
      db, sql: "SELECT name_id, ts, account, coalesce(user, 0) FROM analytics_events WHERE id > ? AND id <= ? \(tail)",
      arguments: [position, last], columns: 4
    ) { row in
      columns.names.append(names?[row[0]] ?? Int32(truncatingIfNeeded: row[0]))
      columns.ts.append(row[1])
      columns.accounts.append(Int32(truncatingIfNeeded: row[2]))
      columns.users.append(Int32(truncatingIfNeeded: row[3]))
    }
    return columns
  }
}

/// Events on their way into the column blocks, per name: a name's events
/// are written as a block as soon as they fill one, the rest by
/// ``finish(_:through:)``, which also records how far the rows are folded.
/// ``EventLog/compact()`` feeds it from the rows; an import feeds it the
/// rows it has just written, so they are never read back.
struct ColumnFolder {
  private var slots: [Int64: Int] = [:]
  private var pending: [(name: Int64, ts: [Int64], accounts: [Int32], users: [Int32])] = []
  private(set) var folded = 0

  mutating func append(name: Int64, ts: Int64, account: Int64, user: Int64) {
    let slot: Int
    if let known = slots[name] {
      slot = known
    } else {
      slot = pending.count
      slots[name] = slot
      pending.append((name, [], [], []))
    }
    pending[slot].ts.append(ts)
    pending[slot].accounts.append(Int32(truncatingIfNeeded: account))
    pending[slot].users.append(Int32(truncatingIfNeeded: user))
    folded += 1
  }

  /// Writes the names whose pending events fill a block (their last
  /// block topped up first); called now and then, it bounds the memory.
  mutating func flushFull(_ db: GRDB.Database) throws {
    for slot in pending.indices where pending[slot].ts.count >= EventLog.blockSize {
      try write(db, slot)
    }
  }

  /// Writes everything pending and sets the `columns` position to `row`.
  mutating func finish(_ db: GRDB.Database, through row: Int64) throws {
    for slot in pending.indices where !pending[slot].ts.isEmpty { try write(db, slot) }
    try db.execute(
      sql:
        "INSERT INTO analytics_sources (name, position) VALUES ('columns', ?) ON CONFLICT (name) DO UPDATE SET position = excluded.position",
      arguments: [row])
  }

  private mutating func write(_ db: GRDB.Database, _ slot: Int) throws {
    let name = pending[slot].name
    var ts = pending[slot].ts
    var accounts = pending[slot].accounts
    var users = pending[slot].users
    pending[slot].ts.removeAll(keepingCapacity: true)
    pending[slot].accounts.removeAll(keepingCapacity: true)
    pending[slot].users.removeAll(keepingCapacity: true)
    // Top up the name's last block first.
    var block: Int64 = 0
    if let row = try Row.fetchOne(
      db,
      sql: """
        SELECT block, count, ts, accounts, users FROM analytics_columns WHERE name_id = ?
        ORDER BY block DESC LIMIT 1
        """, arguments: [name])
    {
      let count: Int = row[1]
      block = row[0]
      if count < EventLog.blockSize {
        ts = EventLog.array(row[2], as: Int64.self, count: count) + ts
        accounts = EventLog.array(row[3], as: Int32.self, count: count) + accounts
        users = EventLog.array(row[4], as: Int32.self, count: count) + users
      } else {
        block += 1
      }
    }
    var start = 0
    while start < ts.count {
      let end = min(ts.count, start + EventLog.blockSize)
      try db.execute(
        sql: """
          INSERT OR REPLACE INTO analytics_columns (name_id, block, count, ts, accounts, users)
          VALUES (?, ?, ?, ?, ?, ?)
          """,
        arguments: [
          name, block, end - start, EventLog.blob(Array(ts[start..<end])),
          EventLog.blob(Array(accounts[start..<end])), EventLog.blob(Array(users[start..<end])),
        ])
      block += 1
      start = end
    }
  }
}
