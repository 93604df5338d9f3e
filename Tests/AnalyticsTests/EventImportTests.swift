import Foundation
import GRDB
import Storage
import Testing

@testable import Analytics

/// `events import` in-process: what it writes to the rows and to the
/// column blocks funnels read, whatever the input mixes in.
struct EventImportTests {
  let log: EventLog
  let directory: URL

  init() throws {
    directory = FileManager.default.temporaryDirectory.appendingPathComponent("opsdeck-import-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let store = try Store.open(path: directory.appendingPathComponent("ops.db").path, create: true)
    try store.migrate(StorageSchema.migrations + AnalyticsSchema.migrations, now: Date(), version: "test")
    log = EventLog(store: store)
  }

  func importing(_ text: String, skipInvalid: Bool = true) throws -> ImportReport {
    let file = directory.appendingPathComponent("\(UUID().uuidString).jsonl")
    try Data(text.utf8).write(to: file)
    let handle = try FileHandle(forReadingFrom: file)
    defer { try? handle.close() }
    return try EventImport(log: log, skipInvalid: skipInvalid).run(handle, source: file.lastPathComponent)
  }

  /// Every event as (name, ts, account, user), sorted: from the rows, and
  /// from the column blocks plus the rows not folded yet.
  func rowsAndColumns() throws -> (rows: [[Int64]], columns: [[Int64]]) {
    try log.store.pool.read { db in
      let rows = try Row.fetchAll(
        db, sql: "SELECT name_id, ts, account, coalesce(user, 0) FROM analytics_events"
      ).map { row in (0..<4).map { row[$0] as Int64 } }
      let columns = try log.columns(db, names: nil)
      let folded = (0..<columns.count).map { index in
        [Int64(columns.names[index]), columns.ts[index], Int64(columns.accounts[index]), Int64(columns.users[index])]
      }
      let order = { (a: [Int64], b: [Int64]) in a.lexicographicallyPrecedes(b) }
      return (rows.sorted(by: order), folded.sorted(by: order))
    }
  }

  /// Lines of many names and accounts, repeated event ids (within one
  /// statement's rows and across imports), bad lines, escapes: the column
  /// blocks hold exactly the rows written, however each batch went.
  @Test func theColumnsHoldExactlyTheRowsWritten() throws {
    var generator = SystemRandomNumberGenerator()
    var lines: [String] = []
    var expectedBad: [Int] = []
    for index in 0..<20_000 {
      let name = ["signup", "bank.connected", "caf\\u00e9", "page.viewed", "x\(index % 97)"][index % 5]
      let account = "acc\(Int.random(in: 0..<500, using: &generator))"
      let user = index % 3 == 0 ? #","user_id":"u\#(index % 41)""# : ""
      // Every 7th line repeats an id seen a few lines before (often in the same batch).
      let id = index % 7 == 0 ? "e\(max(0, index - 3))" : "e\(index)"
      if index % 1_000 == 999 {
        lines.append(#"{"event":"signup","ts":1}"#)
        expectedBad.append(index + 1)
      } else {
        lines.append(
          #"{"event":"\#(name)","account_id":"\#(account)"\#(user),"ts":\#(1_767_225_600_000 + index * 1000),"properties":{"n":\#(index)},"event_id":"\#(id)"}"#
        )
      }
    }
    let first = try importing(lines.prefix(12_345).joined(separator: "\n") + "\n")
    // One event tracked between the imports: a row not folded yet.
    try log.track(TrackedEvent(name: "signup", accountID: "late", at: Date(timeIntervalSince1970: 1_767_300_000)))
    let second = try importing(lines.joined(separator: "\n"))
    #expect(first.skipped.map(\.line) == expectedBad.filter { $0 <= 12_345 })
    #expect(second.skipped.map(\.line) == expectedBad)
    // The event ids the good lines of the first `count` lines carry.
    func ids(_ count: Int) -> Set<Int> {
      Set((0..<count).filter { !expectedBad.contains($0 + 1) }.map { $0 % 7 == 0 ? max(0, $0 - 3) : $0 })
    }
    let distinct = ids(20_000)
    #expect(first.imported == ids(12_345).count)
    #expect(first.duplicates == 12_345 - expectedBad.filter { $0 <= 12_345 }.count - ids(12_345).count)
    #expect(second.imported == distinct.count - ids(12_345).count)
    #expect(second.duplicates == 20_000 - expectedBad.count - second.imported)
    #expect(try log.count() == distinct.count + 1)
    let (rows, columns) = try rowsAndColumns()
    #expect(rows.count == distinct.count + 1)
    #expect(rows == columns)
    #expect(
      try log.store.pool.read { db in
        try String.fetchOne(db, sql: "SELECT name FROM analytics_event_names WHERE name LIKE 'caf%'")
      } == "café")
  }

  /// A statement of many rows that SQLite refuses is undone whole and
  /// written again row by row: the one row at fault is refused by its line.
  @Test func aRefusedBatchIsWrittenAgainRowByRow() throws {
    let refused = try log.store.writeTransaction { db -> [Int] in
      var batch = ImportBatch()
      for row in 0..<ImportBatch.rows {
        let properties = row == 5 ? "{" : "{\"n\":\(row)}"
        properties.utf8CString.withUnsafeBufferPointer { text in
          text.withMemoryRebound(to: UInt8.self) { bytes in
            batch.append(
              line: row + 1, name: 1, account: 1, user: nil, ts: Int64(row),
              properties: .bytes(UnsafeBufferPointer(rebasing: bytes.dropLast())),
              eventID: nil)
          }
        }
      }
      try db.execute(sql: "INSERT INTO analytics_event_names (id, name) VALUES (1, 'a')")
      try db.execute(sql: "INSERT INTO analytics_actors (id, kind, key) VALUES (1, 'account', 'acme')")
      let outcome = try batch.write(
        db, multiple: log.store.rawStatement(ImportBatch.insertSQL), single: log.store.rawStatement(EventLog.insertSQL))
      #expect(outcome.imported == ImportBatch.rows - 1 && outcome.duplicates == 0)
      return outcome.refused.map(\.0)
    }
    #expect(refused == [6])
    #expect(try log.count() == ImportBatch.rows - 1)
  }

  /// A line longer than the limit is refused as it is read (never held):
  /// the lines around it are imported, or nothing is.
  @Test func aLineTooLongIsRefusedWithoutHoldingIt() throws {
    let long =
      #"{"event":"a","account_id":"acme","ts":1,"x":""# + String(repeating: "y", count: EventImport.maxLine + 10)
      + #""}"#
    let text =
      #"{"event":"a","account_id":"acme","ts":1}"# + "\n" + long + "\n" + #"{"event":"b","account_id":"acme","ts":2}"#
    let report = try importing(text)
    #expect(report.imported == 2)
    #expect(report.skipped.map(\.line) == [2])
    #expect(report.skipped.first?.reason == "a line longer than 4 MB")
    #expect(throws: ImportLineError.self) { try importing(text, skipInvalid: false) }
    #expect(try log.count() == 2)
  }

  /// Numbers are JSON's (no NaN, hex or leading zeros); invalid UTF-8 is refused.
  @Test func propertiesAreJSONAndTextIsUTF8() throws {
    let bad = [#"{"n":NaN}"#, #"{"n":0x10}"#, #"{"n":01}"#, #"{"n":1.}"#, #"{"n":-}"#, #"{"n":1e}"#]
    var text = bad.map { #"{"event":"a","account_id":"acme","ts":1,"properties":\#($0)}"# }.joined(separator: "\n")
    text += "\n" + #"{"event":"a","account_id":"acme","ts":1,"properties":{"n":-0.5e+3,"m":[true,false,null]}}"#
    var data = Data(text.utf8)
    data.append(contentsOf: Array("\n{\"event\":\"a\",\"account_id\":\"ac".utf8) + [0xFF] + Array("\",\"ts\":1}".utf8))
    let file = directory.appendingPathComponent("bad.jsonl")
    try data.write(to: file)
    let report = try EventImport(log: log, skipInvalid: true).run(try FileHandle(forReadingFrom: file), source: "bad")
    #expect(report.imported == 1)
    #expect(report.skipped.map(\.line) == [1, 2, 3, 4, 5, 6, 8])
    #expect(report.skipped.last?.reason == "not valid UTF-8")
  }
}
