import Foundation
import GRDB
import Storage

/// What an import did.
public struct ImportReport: Sendable, Equatable {
  public var imported = 0
  /// Lines whose event id was seen before (in the database or earlier in
  /// the same input): not written again.
  public var duplicates = 0
  /// Bad lines (with `skipInvalid`): line number and reason.
  public var skipped: [(line: Int, reason: String)] = []
  public var lines = 0

  public static func == (lhs: ImportReport, rhs: ImportReport) -> Bool {
    lhs.imported == rhs.imported && lhs.duplicates == rhs.duplicates && lhs.lines == rhs.lines
      && lhs.skipped.map(\.line) == rhs.skipped.map(\.line)
  }
}

/// A bad line, when the import is all or nothing.
public struct ImportLineError: ReportableError {
  public let source: String
  public let line: Int
  public let reason: String
  public var description: String { TerminalText.sanitize("\(source):\(line): \(reason); nothing was imported") }
  public var isBadInput: Bool { true }
}

/// JSON lines of `{"event","account_id","user_id","ts","properties","event_id"}`
/// into the event log, streamed (the input is never held whole), in one
/// transaction: by default the first bad line rolls everything back; with
/// `skipInvalid` bad lines are reported and the rest imported.
///
/// Half a million lines a second is the goal, so a line's text is never
/// made into Swift strings on the way: fields are byte ranges of the line,
/// names and actors are interned by their bytes, and rows go to SQLite in
/// statements of ``ImportBatch/rows`` rows bound straight from a byte arena.
public struct EventImport {
  public let log: EventLog
  public var skipInvalid = false
  /// Called now and then with the bytes read so far and the lines parsed.
  public var progress: ((Int, Int) -> Void)? = nil

  public init(log: EventLog, skipInvalid: Bool = false) {
    self.log = log
    self.skipInvalid = skipInvalid
  }

  /// The longest line read; a longer one is refused as it is read, so the
  /// memory an import takes does not depend on its input.
  public static let maxLine = 4 << 20

  /// Reads `handle` to its end. `source` names it in errors.
  public func run(_ handle: FileHandle, source: String) throws -> ImportReport {
    // A big import touches index pages all over the file: a page cache
    // of its own size keeps them in memory until the commit.
    try log.store.pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA cache_size = -65536") }
    defer {
      try? log.store.pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA cache_size = -2000") }
    }
    var report = ImportReport()
    try log.store.writeTransaction { db in
      var run = try ImportRun(import: self, db: db, source: source)
      try run.read(handle.fileDescriptor)
      report = run.report
    }
    // Refused rows are found when their batch is written: after later lines.
    report.skipped.sort { $0.line < $1.line }
    return report
  }
}

/// One import, inside its transaction.
struct ImportRun {
  let settings: EventImport
  let db: GRDB.Database
  let source: String
  let single: RawStatement
  let multiple: RawStatement
  var report = ImportReport()
  var interner: ByteInterner
  var batch = ImportBatch()
  var folder = ColumnFolder()
  /// The last row of the events table: the rows after it are this import's.
  var lastRow: Int64
  var batches = 0

  init(import settings: EventImport, db: GRDB.Database, source: String) throws {
    self.settings = settings
    self.db = db
    self.source = source
    let store = settings.log.store
    single = store.rawStatement(EventLog.insertSQL)
    multiple = store.rawStatement(ImportBatch.insertSQL)
    interner = ByteInterner(Interner(store: store))
    // The rows written here go into the columns as they are written:
    // those written before, first.
    _ = try settings.log.compact(db)
    lastRow = try EventLog.lastRow(db)
  }

  /// Reads the file to its end: a thread of its own reads and parses the
  /// lines (``LineParser``), this one interns and writes them.
  mutating func read(_ descriptor: Int32) throws {
    let handoff = Handoff()
    let done = DispatchSemaphore(value: 0)
    let thread = Thread {
      LineParser.run(descriptor, into: handoff)
      done.signal()
    }
    thread.start()
    // However this ends, the reading thread stops before the file closes.
    defer {
      handoff.cancel()
      done.wait()
    }
    var lastProgress = Date()
    while let parsed = handoff.take() {
      try consume(parsed)
      if let progress = settings.progress, Date().timeIntervalSince(lastProgress) > 0.2 {
        lastProgress = Date()
        progress(parsed.bytesRead, parsed.linesRead)
      }
    }
    if let failure = handoff.failure { throw AnalyticsInputError("\(source): cannot read: \(failure)") }
    report.lines = handoff.linesRead
    try flush()
    settings.progress?(handoff.bytesRead, report.lines)
    try folder.finish(db, through: lastRow)
  }

  mutating func refuse(_ problem: ImportProblem, line: Int) throws {
    guard settings.skipInvalid else { throw ImportLineError(source: source, line: line, reason: problem.reason) }
    report.skipped.append((line, problem.reason))
  }

  /// Parsed lines into rows: names and actors interned, rows batched.
  mutating func consume(_ parsed: ParsedLines) throws {
    try parsed.arena.withUnsafeBufferPointer { arena in
      func text(_ range: Range<Int>) -> LineText { .bytes(UnsafeBufferPointer(rebasing: arena[range])) }
      for line in parsed.lines {
        do {
          if let problem = line.problem { throw ImportProblem(problem) }
          let name = try interner.name(db, text(line.name))
          let account = try interner.actor(db, UnsafeBufferPointer(rebasing: arena[line.account]), user: false)
          let user = try line.user.map { try interner.actor(db, UnsafeBufferPointer(rebasing: arena[$0]), user: true) }
          batch.append(
            line: line.line, name: name, account: account, user: user, ts: line.ts,
            properties: line.properties.map(text), eventID: line.eventID.map(text))
        } catch let problem as ImportProblem {
          try refuse(problem, line: line.line)
        }
        if batch.count == ImportBatch.rows { try flush() }
      }
    }
  }

  mutating func flush() throws {
    guard batch.count > 0 else { return }
    let outcome = try batch.write(db, multiple: multiple, single: single)
    report.imported += outcome.imported
    report.duplicates += outcome.duplicates
    for (line, problem) in outcome.refused { try refuse(problem, line: line) }
    if outcome.imported == batch.count, db.lastInsertedRowID == lastRow + Int64(batch.count) {
      // Every row written, in order: fold them from here.
      for row in 0..<batch.count {
        folder.append(
          name: batch.names[row], ts: batch.ts[row], account: batch.accounts[row], user: batch.users[row] ?? 0)
      }
      lastRow += Int64(batch.count)
    } else if outcome.imported > 0 {
      // Some were duplicates or refused: fold what the table holds now.
      var folder = self.folder
      var lastRow = self.lastRow
      try RawStatement.scanIntegers(
        db,
        sql: "SELECT id, name_id, ts, account, coalesce(user, 0) FROM analytics_events WHERE id > ? ORDER BY id",
        arguments: [lastRow], columns: 5
      ) { row in
        folder.append(name: row[1], ts: row[2], account: row[3], user: row[4])
        lastRow = row[0]
      }
      self.folder = folder
      self.lastRow = lastRow
    }
    batch.removeAll()
    batches += 1
    if batches % 4096 == 0 { try folder.flushFull(db) }
  }
}

/// One line as the reading thread parsed it: an event's fields as ranges
/// of its batch's arena, or why it was refused.
struct ParsedLine: Sendable {
  var line: Int
  var problem: String? = nil
  var name = 0..<0
  var account = 0..<0
  var user: Range<Int>? = nil
  var ts: Int64 = 0
  var properties: Range<Int>? = nil
  var eventID: Range<Int>? = nil
}

/// Parsed lines on their way from the reading thread to the writer, with
/// how far the reading had got.
struct ParsedLines: Sendable {
  var arena: [UInt8] = []
  var lines: [ParsedLine] = []
  var bytesRead = 0
  var linesRead = 0
}

/// Batches of parsed lines between the two threads: at most `capacity`
/// waiting, so the reader never runs far ahead of the writer.
final class Handoff: @unchecked Sendable {
  private let condition = NSCondition()
  private var queue: [ParsedLines] = []
  private var finished = false
  private var cancelled = false
  private(set) var failure: String?
  private(set) var bytesRead = 0
  private(set) var linesRead = 0
  let capacity = 4

  /// Hands a batch over; false when the writer has stopped.
  func put(_ batch: ParsedLines) -> Bool {
    condition.withLock {
      while queue.count >= capacity && !cancelled { condition.wait() }
      guard !cancelled else { return false }
      queue.append(batch)
      condition.broadcast()
      return true
    }
  }

  /// The next batch; nil once the reader has finished and all are taken.
  func take() -> ParsedLines? {
    condition.withLock {
      while queue.isEmpty && !finished { condition.wait() }
      guard !queue.isEmpty else { return nil }
      condition.broadcast()
      return queue.removeFirst()
    }
  }

  func finish(bytes: Int, lines: Int, failure: String? = nil) {
    condition.withLock {
      bytesRead = bytes
      linesRead = lines
      self.failure = failure
      finished = true
      condition.broadcast()
    }
  }

  func cancel() {
    condition.withLock {
      cancelled = true
      condition.broadcast()
    }
  }
}

/// The reading thread of an import: the file a buffer at a time, split
/// into lines, each parsed into a ``ParsedLine``.
struct LineParser {
  var current = ParsedLines()
  var lineNumber = 0
  /// A batch is handed over at this many lines or bytes of fields, so at
  /// most a few tens of megabytes wait between the threads.
  static let batchLines = 2_048
  static let batchBytes = 4 << 20

  static func run(_ descriptor: Int32, into handoff: Handoff) {
    var parser = LineParser()
    var buffer = [UInt8](repeating: 0, count: EventImport.maxLine)
    var filled = 0
    var bytesRead = 0
    // Inside a line longer than the limit: skipping to its end.
    var skippingLong = false
    while true {
      let count = buffer.withUnsafeMutableBytes { raw in
        Foundation.read(descriptor, raw.baseAddress! + filled, min(1 << 20, raw.count - filled))
      }
      if count < 0 {
        if errno == EINTR { continue }
        handoff.finish(bytes: bytesRead, lines: parser.lineNumber, failure: String(cString: strerror(errno)))
        return
      }
      if count == 0 { break }
      bytesRead += count
      filled += count
      var start = 0
      buffer.withUnsafeBufferPointer { buffer in
        let base = buffer.baseAddress!
        while start < filled, let found = memchr(base + start, 0x0A, filled - start) {
          let index = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
          if skippingLong {
            skippingLong = false
          } else {
            parser.parse(UnsafeBufferPointer(rebasing: buffer[start..<index]))
          }
          start = index + 1
        }
      }
      if start == 0, filled == buffer.count || (skippingLong && filled > 0) {
        // No end of line in a whole buffer.
        if !skippingLong {
          parser.lineNumber += 1
          parser.current.lines.append(
            ParsedLine(line: parser.lineNumber, problem: "a line longer than \(EventImport.maxLine >> 20) MB"))
          skippingLong = true
        }
        filled = 0
        continue
      }
      buffer.withUnsafeMutableBytes { raw in
        _ = memmove(raw.baseAddress!, raw.baseAddress! + start, filled - start)
      }
      filled -= start
      if parser.current.lines.count >= batchLines || parser.current.arena.count >= batchBytes {
        parser.current.bytesRead = bytesRead
        parser.current.linesRead = parser.lineNumber
        guard handoff.put(parser.current) else { return }
        parser.current = ParsedLines()
      }
    }
    if filled > 0, !skippingLong {
      buffer.withUnsafeBufferPointer { parser.parse(UnsafeBufferPointer(rebasing: $0[0..<filled])) }
    }
    parser.current.bytesRead = bytesRead
    parser.current.linesRead = parser.lineNumber
    guard handoff.put(parser.current) else { return }
    handoff.finish(bytes: bytesRead, lines: parser.lineNumber)
  }

  mutating func parse(_ line: UnsafeBufferPointer<UInt8>) {
    lineNumber += 1
    // A blank line (the last one, often) is no event and no error.
    if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { return }
    do {
      guard UTF8Check.isValid(line) else { throw ImportProblem("not valid UTF-8") }
      let event = try JSONLineEvent.parse(line)
      try event.account.withBytes { bytes in
        guard !bytes.isEmpty, bytes.count <= 128 else {
          throw ImportProblem("invalid account_id '\(event.account.string.prefix(60))': expected 1 to 128 characters")
        }
      }
      var parsed = ParsedLine(line: lineNumber)
      parsed.name = store(event.name)
      parsed.account = store(event.account)
      parsed.user = event.user.map { store($0) }
      parsed.ts = event.ts
      parsed.properties = event.properties.map { store($0) }
      parsed.eventID = event.eventID.map { store($0) }
      current.lines.append(parsed)
    } catch let problem as ImportProblem {
      current.lines.append(ParsedLine(line: lineNumber, problem: problem.reason))
    } catch {
      current.lines.append(ParsedLine(line: lineNumber, problem: "\(error)"))
    }
  }

  mutating func store(_ text: LineText) -> Range<Int> {
    text.withBytes { bytes in
      let start = current.arena.count
      current.arena.append(contentsOf: bytes)
      return start..<current.arena.count
    }
  }
}

/// Rows parsed but not yet written: integers in arrays, texts in one byte
/// arena the statement binds from without a copy.
struct ImportBatch {
  static let rows = 64
  static let insertSQL = """
    INSERT INTO analytics_events (name_id, account, user, ts, properties, event_id) VALUES
    \(Array(repeating: "(?, ?, ?, ?, ?, ?)", count: rows).joined(separator: ", "))
    ON CONFLICT (event_id) WHERE event_id IS NOT NULL DO NOTHING
    """

  var lines: [Int] = []
  var names: [Int64] = []
  var accounts: [Int64] = []
  var users: [Int64?] = []
  var ts: [Int64] = []
  /// Per row: where its properties and event id are in `arena` (nil: none).
  var properties: [Range<Int>] = []
  var eventIDs: [Range<Int>?] = []
  var arena: [UInt8] = []

  var count: Int { lines.count }

  init() {
    arena.reserveCapacity(Self.rows * 256)
  }

  mutating func append(
    line: Int, name: Int64, account: Int64, user: Int64?, ts time: Int64, properties text: LineText?,
    eventID: LineText?
  ) {
    func store(_ text: LineText) -> Range<Int> {
      text.withBytes { bytes in
        let start = arena.count
        arena.append(contentsOf: bytes)
        return start..<arena.count
      }
    }
    lines.append(line)
    names.append(name)
    accounts.append(account)
    users.append(user)
    ts.append(time)
    properties.append(store(text ?? .literal("{}")))
    eventIDs.append(eventID.map(store))
  }

  mutating func removeAll() {
    lines.removeAll(keepingCapacity: true)
    names.removeAll(keepingCapacity: true)
    accounts.removeAll(keepingCapacity: true)
    users.removeAll(keepingCapacity: true)
    ts.removeAll(keepingCapacity: true)
    properties.removeAll(keepingCapacity: true)
    eventIDs.removeAll(keepingCapacity: true)
    arena.removeAll(keepingCapacity: true)
  }

  /// Writes the rows: a full batch in one statement, a short one row by
  /// row. A statement that fails is undone whole by SQLite, so a failed
  /// batch is written again row by row to find the line at fault.
  func write(
    _ db: GRDB.Database, multiple: RawStatement, single: RawStatement
  ) throws -> (imported: Int, duplicates: Int, refused: [(Int, ImportProblem)]) {
    var imported = 0
    var refused: [(Int, ImportProblem)] = []
    try arena.withUnsafeBufferPointer { arena in
      func bind(_ statement: RawStatement, row: Int, at offset: Int32) throws {
        try statement.bind(db, offset + 1, names[row])
        try statement.bind(db, offset + 2, accounts[row])
        try statement.bind(db, offset + 3, users[row])
        try statement.bind(db, offset + 4, ts[row])
        try statement.bind(db, offset + 5, text: UnsafeBufferPointer(rebasing: arena[properties[row]]))
        if let eventID = eventIDs[row] {
          try statement.bind(db, offset + 6, text: UnsafeBufferPointer(rebasing: arena[eventID]))
        } else {
          try statement.bindNull(db, offset + 6)
        }
      }
      if count == Self.rows {
        for row in 0..<count { try bind(multiple, row: row, at: Int32(row * 6)) }
        do {
          try multiple.run(db)
          imported = db.changesCount
          return
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
          // One row at fault: found below.
        }
      }
      for row in 0..<count {
        try bind(single, row: row, at: 0)
        do {
          try single.run(db)
          imported += db.changesCount
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_CHECK {
          refused.append((lines[row], ImportProblem("invalid properties: not a JSON object")))
        }
      }
    }
    return (imported, count - imported - refused.count, refused)
  }
}

/// Why a line was refused.
struct ImportProblem: Error {
  let reason: String
  init(_ reason: String) { self.reason = reason }
}

/// A string field of a line: its bytes in the line, or, when it had
/// escapes, the string they make.
enum LineText {
  case bytes(UnsafeBufferPointer<UInt8>)
  case string(String)

  static func literal(_ text: StaticString) -> LineText {
    .bytes(UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
  }

  var string: String {
    switch self {
    case .bytes(let bytes): String(decoding: bytes, as: UTF8.self)
    case .string(let string): string
    }
  }

  func withBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
    switch self {
    case .bytes(let bytes): return try body(bytes)
    case .string(let string):
      var copy = string
      return try copy.withUTF8(body)
    }
  }
}

/// One line's fields, read straight from its bytes: a flat object whose
/// `properties` value is kept as its JSON text (SQLite checks it).
struct JSONLineEvent {
  var name = LineText.literal("")
  var account = LineText.literal("")
  var user: LineText?
  var ts: Int64 = 0
  var properties: LineText?
  var eventID: LineText?

  static func parse(_ line: UnsafeBufferPointer<UInt8>) throws -> JSONLineEvent {
    var reader = ByteReader(bytes: line)
    var event = JSONLineEvent()
    var sawName = false
    var sawAccount = false
    var sawTime = false
    reader.skipSpace()
    guard reader.take(UInt8(ascii: "{")) else { throw ImportProblem("not a JSON object") }
    reader.skipSpace()
    if !reader.take(UInt8(ascii: "}")) {
      repeat {
        reader.skipSpace()
        let key = try reader.text()
        reader.skipSpace()
        guard reader.take(UInt8(ascii: ":")) else { throw ImportProblem("expected ':' after \"\(key.string)\"") }
        reader.skipSpace()
        switch Field(key) {
        case .event:
          event.name = try reader.text(field: "event")
          sawName = true
        case .accountID:
          event.account = try reader.textOrNumber(field: "account_id")
          sawAccount = true
        case .userID: event.user = try reader.optionalText(field: "user_id")
        case .eventID: event.eventID = try reader.optionalText(field: "event_id")
        case .ts:
          event.ts = try reader.timestamp()
          sawTime = true
        case .properties:
          if reader.takeNull() {
            event.properties = nil
          } else {
            guard reader.peek == UInt8(ascii: "{") else { throw ImportProblem("properties: expected an object") }
            event.properties = .bytes(try reader.rawValue())
          }
        case nil: _ = try reader.rawValue()
        }
        reader.skipSpace()
      } while reader.take(UInt8(ascii: ","))
      guard reader.take(UInt8(ascii: "}")) else { throw ImportProblem("expected ',' or '}'") }
    }
    reader.skipSpace()
    guard reader.atEnd else { throw ImportProblem("text after the object") }
    guard sawName else { throw ImportProblem("missing \"event\"") }
    guard sawAccount else { throw ImportProblem("missing \"account_id\"") }
    guard sawTime else { throw ImportProblem("missing \"ts\"") }
    return event
  }

  /// The keys a line's object may have that mean something.
  enum Field {
    case event, accountID, userID, eventID, ts, properties

    init?(_ key: LineText) {
      let found: Field? = key.withBytes { bytes in
        func named(_ literal: StaticString, _ field: Field) -> Field? {
          literal.utf8CodeUnitCount == bytes.count && memcmp(literal.utf8Start, bytes.baseAddress!, bytes.count) == 0
            ? field : nil
        }
        switch bytes.count {
        case 2: return named("ts", .ts)
        case 5: return named("event", .event)
        case 7: return named("user_id", .userID)
        case 8: return named("event_id", .eventID)
        case 10: return named("account_id", .accountID) ?? named("properties", .properties)
        default: return nil
        }
      }
      guard let found else { return nil }
      self = found
    }
  }
}

/// Names and actors to ids by their bytes, in front of ``Interner``: an
/// import meets the same few names and thousands of accounts over and over.
struct ByteInterner {
  var interner: Interner
  var names = ByteTable()
  var accounts = ByteTable()
  var users = ByteTable()

  init(_ interner: Interner) {
    self.interner = interner
  }

  /// A name seen the first time is checked here; a known one was valid.
  mutating func name(_ db: GRDB.Database, _ text: LineText) throws -> Int64 {
    try text.withBytes { bytes in
      if let id = names.find(bytes) { return id }
      let name = text.string
      if let problem = EventLog.validate(name: name, account: "-") { throw ImportProblem(problem) }
      let id = try interner.name(db, name)
      names.insert(bytes, id)
      return id
    }
  }

  mutating func actor(_ db: GRDB.Database, _ bytes: UnsafeBufferPointer<UInt8>, user: Bool) throws -> Int64 {
    if let id = user ? users.find(bytes) : accounts.find(bytes) { return id }
    let id = try interner.actor(db, String(decoding: bytes, as: UTF8.self), user: user)
    if user { users.insert(bytes, id) } else { accounts.insert(bytes, id) }
    return id
  }
}

/// A hash table from byte strings to integers: keys kept in one arena,
/// open addressing, FNV-1a. The last key found is checked first (lines
/// of one account tend to come together).
struct ByteTable {
  private var arena: [UInt8] = []
  private var starts: [Int] = []
  private var lengths: [Int] = []
  private var values: [Int64] = []
  private var slots = [Int32](repeating: -1, count: 64)
  private var last = -1

  private static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
    return Int(truncatingIfNeeded: hash ^ (hash >> 29))
  }

  private func matches(_ entry: Int, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    guard lengths[entry] == bytes.count else { return false }
    guard !bytes.isEmpty else { return true }
    return arena.withUnsafeBufferPointer {
      memcmp($0.baseAddress! + starts[entry], bytes.baseAddress!, bytes.count) == 0
    }
  }

  mutating func find(_ bytes: UnsafeBufferPointer<UInt8>) -> Int64? {
    if last >= 0, matches(last, bytes) { return values[last] }
    let mask = slots.count - 1
    var slot = Self.hash(bytes) & mask
    while slots[slot] >= 0 {
      let entry = Int(slots[slot])
      if matches(entry, bytes) {
        last = entry
        return values[entry]
      }
      slot = (slot + 1) & mask
    }
    return nil
  }

  mutating func insert(_ bytes: UnsafeBufferPointer<UInt8>, _ value: Int64) {
    let entry = values.count
    starts.append(arena.count)
    lengths.append(bytes.count)
    arena.append(contentsOf: bytes)
    values.append(value)
    last = entry
    if values.count * 2 > slots.count {
      slots = [Int32](repeating: -1, count: slots.count * 2)
      for index in 0..<values.count { place(index) }
    } else {
      place(entry)
    }
  }

  private mutating func place(_ entry: Int) {
    let mask = slots.count - 1
    var slot =
      arena.withUnsafeBufferPointer {
        Self.hash(UnsafeBufferPointer(rebasing: $0[starts[entry]..<(starts[entry] + lengths[entry])]))
      } & mask
    while slots[slot] >= 0 { slot = (slot + 1) & mask }
    slots[slot] = Int32(entry)
  }
}

/// Whether bytes are UTF-8: ASCII eight bytes at a time, the rest by the
/// standard library's check.
enum UTF8Check {
  static func isValid(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    guard let base = bytes.baseAddress else { return true }
    var index = 0
    let raw = UnsafeRawPointer(base)
    while index + 8 <= bytes.count {
      if raw.loadUnaligned(fromByteOffset: index, as: UInt64.self) & 0x8080_8080_8080_8080 != 0 { return slow(bytes) }
      index += 8
    }
    while index < bytes.count {
      if bytes[index] >= 0x80 { return slow(bytes) }
      index += 1
    }
    return true
  }

  private static func slow(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    String(validating: bytes, as: UTF8.self) != nil
  }
}

/// A cursor over one line's bytes.
struct ByteReader {
  let bytes: UnsafeBufferPointer<UInt8>
  var index = 0

  var atEnd: Bool { index >= bytes.count }
  var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

  mutating func skipSpace() {
    while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x09 || bytes[index] == 0x0D {
      index += 1
    }
  }

  mutating func take(_ byte: UInt8) -> Bool {
    guard index < bytes.count, bytes[index] == byte else { return false }
    index += 1
    return true
  }

  mutating func takeNull() -> Bool {
    guard index + 4 <= bytes.count, bytes[index] == 0x6E, bytes[index + 1] == 0x75, bytes[index + 2] == 0x6C,
      bytes[index + 3] == 0x6C
    else { return false }
    index += 4
    return true
  }

  /// A string's text: its bytes in the line, or the string its escapes make.
  mutating func text(field: String? = nil) throws -> LineText {
    guard take(UInt8(ascii: "\"")) else {
      throw ImportProblem(field.map { "\($0): expected a string" } ?? "expected a quoted key")
    }
    let start = index
    var escaped = false
    while index < bytes.count {
      index = Self.plainRun(bytes, from: index)
      guard index < bytes.count else { break }
      let byte = bytes[index]
      if byte == UInt8(ascii: "\"") {
        let raw = UnsafeBufferPointer(rebasing: bytes[start..<index])
        index += 1
        return escaped ? .string(try Self.unescape(raw)) : .bytes(raw)
      }
      if byte == UInt8(ascii: "\\") {
        escaped = true
        index += 1
      } else if byte < 0x20 {
        throw ImportProblem("a control character inside a string")
      }
      index += 1
    }
    throw ImportProblem("a string without its closing quote")
  }

  /// The first index from `index` on whose byte ends or interrupts a
  /// string (a quote, a backslash, a control character), eight bytes at a
  /// time while none of the eight does; the end if none does.
  static func plainRun(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
    guard let base = bytes.baseAddress else { return start }
    let raw = UnsafeRawPointer(base)
    let ones: UInt64 = 0x0101_0101_0101_0101
    let highs: UInt64 = 0x8080_8080_8080_8080
    func hasZero(_ word: UInt64) -> Bool { (word &- ones) & ~word & highs != 0 }
    var index = start
    while index + 8 <= bytes.count {
      let word = raw.loadUnaligned(fromByteOffset: index, as: UInt64.self)
      let below20 = (word &- ones &* 0x20) & ~word & highs != 0
      if below20 || hasZero(word ^ (ones &* 0x22)) || hasZero(word ^ (ones &* 0x5C)) { break }
      index += 8
    }
    while index < bytes.count {
      let byte = bytes[index]
      if byte == 0x22 || byte == 0x5C || byte < 0x20 { return index }
      index += 1
    }
    return index
  }

  mutating func optionalText(field: String) throws -> LineText? {
    takeNull() ? nil : try text(field: field)
  }

  mutating func textOrNumber(field: String) throws -> LineText {
    if peek == UInt8(ascii: "\"") { return try text(field: field) }
    let start = index
    while index < bytes.count, (0x30...0x39).contains(bytes[index]) || bytes[index] == UInt8(ascii: "-") { index += 1 }
    guard index > start else { throw ImportProblem("\(field): expected a string") }
    return .bytes(UnsafeBufferPointer(rebasing: bytes[start..<index]))
  }

  /// `"2026-11-25T09:30:00Z"` (any ISO 8601 opsdeck reads), or an integer
  /// of epoch milliseconds.
  mutating func timestamp() throws -> Int64 {
    if peek == UInt8(ascii: "\"") {
      let text = try text(field: "ts")
      if let fast = text.withBytes(Self.fastTimestamp) { return fast }
      guard let date = try? Timestamp.parse(text.string) else {
        throw ImportProblem("ts: invalid time '\(text.string.prefix(40))': expected ISO 8601 or epoch milliseconds")
      }
      return date.epochMilliseconds
    }
    let start = index
    if peek == UInt8(ascii: "-") { index += 1 }
    var value: Int64 = 0
    while index < bytes.count, (0x30...0x39).contains(bytes[index]) {
      value = value &* 10 &+ Int64(bytes[index] - 0x30)
      index += 1
    }
    guard index > start, index - start < 18 else { throw ImportProblem("ts: expected ISO 8601 or epoch milliseconds") }
    if peek == UInt8(ascii: ".") { throw ImportProblem("ts: epoch milliseconds are a whole number") }
    return bytes[start] == UInt8(ascii: "-") ? -value : value
  }

  /// `YYYY-MM-DDTHH:MM:SS[.fff]Z`, the common case, without Foundation.
  static func fastTimestamp(_ utf8: UnsafeBufferPointer<UInt8>) -> Int64? {
    guard utf8.count >= 20, utf8.last == UInt8(ascii: "Z"), utf8[4] == 0x2D, utf8[7] == 0x2D,
      utf8[10] == UInt8(ascii: "T"), utf8[13] == 0x3A, utf8[16] == 0x3A
    else { return nil }
    func number(_ range: Range<Int>) -> Int? {
      var value = 0
      for position in range {
        let digit = Int(utf8[position]) - 0x30
        guard (0...9).contains(digit) else { return nil }
        value = value * 10 + digit
      }
      return value
    }
    guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10), let hour = number(11..<13),
      let minute = number(14..<16), let second = number(17..<19), (1...12).contains(month), (1...31).contains(day),
      hour < 24, minute < 60, second < 61
    else { return nil }
    var millis = 0
    if utf8.count > 20 {
      guard utf8[19] == UInt8(ascii: "."), utf8.count <= 30, let fraction = number(20..<(utf8.count - 1)) else {
        return nil
      }
      let digits = utf8.count - 21
      millis = digits >= 3 ? fraction / Int(pow(10, Double(digits - 3))) : fraction * Int(pow(10, Double(3 - digits)))
    } else if utf8.count != 20 {
      return nil
    }
    let days = Int(Timestamp.days(fromCivil: year, month, day))
    return Int64(((days * 24 + hour) * 60 + minute) * 60 + second) * 1000 + Int64(millis)
  }

  /// Skips one JSON value and returns its bytes.
  mutating func rawValue() throws -> UnsafeBufferPointer<UInt8> {
    let start = index
    try skipValue(depth: 0)
    return UnsafeBufferPointer(rebasing: bytes[start..<index])
  }

  mutating func skipValue(depth: Int) throws {
    guard depth < 64 else { throw ImportProblem("nested too deep") }
    skipSpace()
    guard let byte = peek else { throw ImportProblem("a value is missing") }
    switch byte {
    case UInt8(ascii: "\""): _ = try text()
    case UInt8(ascii: "{"), UInt8(ascii: "["):
      let close = byte == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
      index += 1
      skipSpace()
      if take(close) { return }
      repeat {
        skipSpace()
        if byte == UInt8(ascii: "{") {
          _ = try text()
          skipSpace()
          guard take(UInt8(ascii: ":")) else { throw ImportProblem("expected ':' in an object") }
        }
        try skipValue(depth: depth + 1)
        skipSpace()
      } while take(UInt8(ascii: ","))
      guard take(close) else { throw ImportProblem("an unclosed \(close == UInt8(ascii: "}") ? "object" : "array")") }
    default:
      let start = index
      while index < bytes.count, !",}] \t\r".utf8.contains(bytes[index]) { index += 1 }
      let word = UnsafeBufferPointer(rebasing: bytes[start..<index])
      guard Self.isLiteral(word) || Self.isNumber(word) else {
        throw ImportProblem("an invalid value '\(String(decoding: word, as: UTF8.self).prefix(20))'")
      }
    }
  }

  static func isLiteral(_ word: UnsafeBufferPointer<UInt8>) -> Bool {
    word.elementsEqual("true".utf8) || word.elementsEqual("false".utf8) || word.elementsEqual("null".utf8)
  }

  /// JSON's number grammar: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
  static func isNumber(_ word: UnsafeBufferPointer<UInt8>) -> Bool {
    var index = 0
    func digits() -> Int {
      let start = index
      while index < word.count, (0x30...0x39).contains(word[index]) { index += 1 }
      return index - start
    }
    if index < word.count, word[index] == UInt8(ascii: "-") { index += 1 }
    let integer = digits()
    guard integer > 0, integer == 1 || word[index - integer] != 0x30 else { return false }
    if index < word.count, word[index] == UInt8(ascii: ".") {
      index += 1
      guard digits() > 0 else { return false }
    }
    if index < word.count, word[index] == UInt8(ascii: "e") || word[index] == UInt8(ascii: "E") {
      index += 1
      if index < word.count, word[index] == UInt8(ascii: "+") || word[index] == UInt8(ascii: "-") { index += 1 }
      guard digits() > 0 else { return false }
    }
    return index == word.count
  }

  static func unescape(_ raw: UnsafeBufferPointer<UInt8>) throws -> String {
    var scalars = String.UnicodeScalarView()
    var utf8 = [UInt8]()
    var index = 0
    func flush() {
      if !utf8.isEmpty {
        scalars.append(contentsOf: String(decoding: utf8, as: UTF8.self).unicodeScalars)
        utf8.removeAll(keepingCapacity: true)
      }
    }
    func hex4(_ at: Int) throws -> UInt32 {
      guard at + 4 <= raw.count else { throw ImportProblem("a bad \\u escape") }
      var value: UInt32 = 0
      for position in at..<(at + 4) {
        guard let digit = Int(String(UnicodeScalar(raw[position])), radix: 16) else {
          throw ImportProblem("a bad \\u escape")
        }
        value = value * 16 + UInt32(digit)
      }
      return value
    }
    while index < raw.count {
      let byte = raw[index]
      guard byte == UInt8(ascii: "\\") else {
        utf8.append(byte)
        index += 1
        continue
      }
      guard index + 1 < raw.count else { throw ImportProblem("a string ending in a backslash") }
      let next = raw[index + 1]
      index += 2
      switch next {
      case UInt8(ascii: "\""): utf8.append(0x22)
      case UInt8(ascii: "\\"): utf8.append(0x5C)
      case UInt8(ascii: "/"): utf8.append(0x2F)
      case UInt8(ascii: "b"): utf8.append(0x08)
      case UInt8(ascii: "f"): utf8.append(0x0C)
      case UInt8(ascii: "n"): utf8.append(0x0A)
      case UInt8(ascii: "r"): utf8.append(0x0D)
      case UInt8(ascii: "t"): utf8.append(0x09)
      case UInt8(ascii: "u"):
        var code = try hex4(index)
        index += 4
        if (0xD800...0xDBFF).contains(code), index + 6 <= raw.count, raw[index] == UInt8(ascii: "\\"),
          raw[index + 1] == UInt8(ascii: "u")
        {
          let low = try hex4(index + 2)
          if (0xDC00...0xDFFF).contains(low) {
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
            index += 6
          }
        }
        flush()
        scalars.append(UnicodeScalar(code) ?? "\u{FFFD}")
      default: throw ImportProblem("a bad escape \\\(String(UnicodeScalar(next)))")
      }
    }
    flush()
    return String(scalars)
  }
}
