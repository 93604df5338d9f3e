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
    let position =
      try Int64.fetchOne(db, sql: "SELECT position FROM analytics_sources WHERE name = 'columns'") ?? 0
    // Per name, a slot in these lists (appended in place, never copied).
    var slots: [Int64: Int] = [:]
    var tsLists: [[Int64]] = []
    var accountLists: [[Int32]] = []
    var userLists: [[Int32]] = []
    var last = position
    try RawStatement.scanIntegers(
      db, sql: "SELECT id, name_id, ts, account, coalesce(user, 0) FROM analytics_events WHERE id > ? ORDER BY id",
      arguments: [position], columns: 5
    ) { row in
      let slot: Int
      if let known = slots[row[1]] {
        slot = known
      } else {
        slot = tsLists.count
        slots[row[1]] = slot
        tsLists.append([])
        accountLists.append([])
        userLists.append([])
      }
      tsLists[slot].append(row[2])
      accountLists[slot].append(Int32(truncatingIfNeeded: row[3]))
      userLists[slot].append(Int32(truncatingIfNeeded: row[4]))
      last = row[0]
    }
    guard last > position else { return 0 }
    var folded = 0
    for (name, slot) in slots {
      folded += tsLists[slot].count
      var ts = tsLists[slot]
      var accounts = accountLists[slot]
      var users = userLists[slot]
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
        if count < Self.blockSize {
          ts = Self.array(row[2], as: Int64.self, count: count) + ts
          accounts = Self.array(row[3], as: Int32.self, count: count) + accounts
          users = Self.array(row[4], as: Int32.self, count: count) + users
        } else {
          block += 1
        }
      }
      var start = 0
      while start < ts.count {
        let end = min(ts.count, start + Self.blockSize)
        try db.execute(
          sql: """
            INSERT OR REPLACE INTO analytics_columns (name_id, block, count, ts, accounts, users)
            VALUES (?, ?, ?, ?, ?, ?)
            """,
          arguments: [
            name, block, end - start, Self.blob(Array(ts[start..<end])), Self.blob(Array(accounts[start..<end])),
            Self.blob(Array(users[start..<end])),
          ])
        block += 1
        start = end
      }
    }
    try db.execute(
      sql:
        "INSERT INTO analytics_sources (name, position) VALUES ('columns', ?) ON CONFLICT (name) DO UPDATE SET position = excluded.position",
      arguments: [last])
    return folded
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
  /// folded blocks, then the rows written since.
  func columns(_ db: GRDB.Database, names: [Int64: Int32]?) throws -> EventColumns {
    var columns = EventColumns()
    if names?.isEmpty == true { return columns }
    let position =
      try Int64.fetchOne(db, sql: "SELECT position FROM analytics_sources WHERE name = 'columns'") ?? 0
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
      db, sql: "SELECT name_id, ts, account, coalesce(user, 0) FROM analytics_events WHERE id > ? \(tail)",
      arguments: [position], columns: 4
    ) { row in
      columns.names.append(names?[row[0]] ?? Int32(truncatingIfNeeded: row[0]))
      columns.ts.append(row[1])
      columns.accounts.append(Int32(truncatingIfNeeded: row[2]))
      columns.users.append(Int32(truncatingIfNeeded: row[3]))
    }
    return columns
  }
}
