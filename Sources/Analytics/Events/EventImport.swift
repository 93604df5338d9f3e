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
public struct EventImport {
  public let log: EventLog
  public var skipInvalid = false
  /// Called now and then with the bytes read so far and the lines parsed.
  public var progress: ((Int, Int) -> Void)? = nil

  public init(log: EventLog, skipInvalid: Bool = false) {
    self.log = log
    self.skipInvalid = skipInvalid
  }

  /// Reads `handle` to its end. `source` names it in errors.
  public func run(_ handle: FileHandle, source: String) throws -> ImportReport {
    var report = ImportReport()
    let statement = log.store.rawStatement(EventLog.insertSQL)
    // A big import touches index pages all over the file: a page cache
    // of its own size keeps them in memory until the commit.
    try log.store.pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA cache_size = -262144") }
    defer {
      try? log.store.pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA cache_size = -2000") }
    }
    try log.store.writeTransaction { db in
      var interner = Interner(store: log.store)
      var pending = [UInt8]()
      var bytesRead = 0
      var lastProgress = Date()
      func handleLine(_ line: UnsafeBufferPointer<UInt8>) throws {
        report.lines += 1
        // A blank line (the last one, often) is no event and no error.
        if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { return }
        do {
          let event = try JSONLineEvent.parse(line)
          if let problem = EventLog.validate(name: event.name, account: event.account) {
            throw ImportProblem(problem)
          }
          let name = try interner.name(db, event.name)
          let account = try interner.actor(db, event.account, user: false)
          let user = try event.user.map { try interner.actor(db, $0, user: true) }
          try statement.bind(db, 1, name)
          try statement.bind(db, 2, account)
          try statement.bind(db, 3, user)
          try statement.bind(db, 4, event.ts)
          try statement.bind(db, 5, event.properties ?? "{}")
          try statement.bind(db, 6, event.eventID)
          do {
            try statement.run(db)
          } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_CHECK {
            throw ImportProblem("invalid properties: not a JSON object")
          }
          if db.changesCount == 1 { report.imported += 1 } else { report.duplicates += 1 }
        } catch let problem as ImportProblem {
          guard skipInvalid else { throw ImportLineError(source: source, line: report.lines, reason: problem.reason) }
          report.skipped.append((report.lines, problem.reason))
        }
      }
      while true {
        let chunk = handle.readData(ofLength: 1 << 20)
        if chunk.isEmpty { break }
        bytesRead += chunk.count
        pending.append(contentsOf: chunk)
        var start = 0
        try pending.withUnsafeBufferPointer { buffer in
          var index = 0
          let count = buffer.count
          while index < count {
            if buffer[index] == 0x0A {
              try handleLine(UnsafeBufferPointer(rebasing: buffer[start..<index]))
              start = index + 1
            }
            index += 1
          }
        }
        pending.removeFirst(start)
        if let progress, Date().timeIntervalSince(lastProgress) > 0.2 {
          lastProgress = Date()
          progress(bytesRead, report.lines)
        }
      }
      if !pending.isEmpty {
        try pending.withUnsafeBufferPointer { try handleLine($0) }
      }
      progress?(bytesRead, report.lines)
      // Fold the new events into the columns funnels read, in the same transaction.
      _ = try log.compact(db)
    }
    return report
  }
}

/// Why a line was refused.
struct ImportProblem: Error {
  let reason: String
  init(_ reason: String) { self.reason = reason }
}

/// One line's fields, read straight from its bytes: a flat object whose
/// `properties` value is kept as its JSON text (SQLite checks it).
struct JSONLineEvent {
  var name = ""
  var account = ""
  var user: String?
  var ts: Int64 = 0
  var properties: String?
  var eventID: String?

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
        let key = try reader.string()
        reader.skipSpace()
        guard reader.take(UInt8(ascii: ":")) else { throw ImportProblem("expected ':' after \"\(key)\"") }
        reader.skipSpace()
        switch key {
        case "event":
          event.name = try reader.string(field: "event")
          sawName = true
        case "account_id":
          event.account = try reader.stringOrNumber(field: "account_id")
          sawAccount = true
        case "user_id": event.user = try reader.optionalString(field: "user_id")
        case "event_id": event.eventID = try reader.optionalString(field: "event_id")
        case "ts":
          event.ts = try reader.timestamp()
          sawTime = true
        case "properties":
          if reader.takeNull() {
            event.properties = nil
          } else {
            guard reader.peek == UInt8(ascii: "{") else { throw ImportProblem("properties: expected an object") }
            event.properties = try reader.rawValue()
          }
        default: _ = try reader.rawValue()
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

  mutating func string(field: String? = nil) throws -> String {
    guard take(UInt8(ascii: "\"")) else {
      throw ImportProblem(field.map { "\($0): expected a string" } ?? "expected a quoted key")
    }
    let start = index
    var escaped = false
    while index < bytes.count {
      let byte = bytes[index]
      if byte == UInt8(ascii: "\"") {
        let raw = UnsafeBufferPointer(rebasing: bytes[start..<index])
        index += 1
        return escaped ? try Self.unescape(raw) : String(decoding: raw, as: UTF8.self)
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

  mutating func optionalString(field: String) throws -> String? {
    takeNull() ? nil : try string(field: field)
  }

  mutating func stringOrNumber(field: String) throws -> String {
    if peek == UInt8(ascii: "\"") { return try string(field: field) }
    let start = index
    while index < bytes.count, (0x30...0x39).contains(bytes[index]) || bytes[index] == UInt8(ascii: "-") { index += 1 }
    guard index > start else { throw ImportProblem("\(field): expected a string") }
    return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
  }

  /// `"2026-11-25T09:30:00Z"` (any ISO 8601 opsdeck reads), or an integer
  /// of epoch milliseconds.
  mutating func timestamp() throws -> Int64 {
    if peek == UInt8(ascii: "\"") {
      let text = try string(field: "ts")
      if let fast = Self.fastTimestamp(text) { return fast }
      guard let date = try? Timestamp.parse(text) else {
        throw ImportProblem("ts: invalid time '\(text.prefix(40))': expected ISO 8601 or epoch milliseconds")
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
  static func fastTimestamp(_ text: String) -> Int64? {
    let utf8 = Array(text.utf8)
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

  /// Skips one JSON value and returns its text.
  mutating func rawValue() throws -> String {
    let start = index
    try skipValue(depth: 0)
    return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
  }

  mutating func skipValue(depth: Int) throws {
    guard depth < 64 else { throw ImportProblem("nested too deep") }
    skipSpace()
    guard let byte = peek else { throw ImportProblem("a value is missing") }
    switch byte {
    case UInt8(ascii: "\""): _ = try string()
    case UInt8(ascii: "{"), UInt8(ascii: "["):
      let close = byte == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
      index += 1
      skipSpace()
      if take(close) { return }
      repeat {
        skipSpace()
        if byte == UInt8(ascii: "{") {
          _ = try string()
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
      let word = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
      guard word == "true" || word == "false" || word == "null" || Double(word) != nil else {
        throw ImportProblem("an invalid value '\(word.prefix(20))'")
      }
    }
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
