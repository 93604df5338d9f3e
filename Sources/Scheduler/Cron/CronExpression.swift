import Foundation
import Storage

public struct CronSyntaxError: ReportableError, Equatable {
  public let expression: String
  public let reason: String
  public init(expression: String, reason: String) {
    self.expression = expression
    self.reason = reason
  }
  public var description: String { TerminalText.sanitize("invalid cron expression '\(expression)': \(reason)") }
  public var isBadInput: Bool { true }
}

/// A cron pattern: 5 fields (minute hour day-of-month month day-of-week) or
/// 6 with seconds first; lists, ranges, steps, month and day names, and the
/// `@hourly` … `@yearly` macros. Day-of-month and day-of-week follow Vixie
/// cron: when both are restricted (neither starts with `*`), a day matching
/// either fires.
public struct CronExpression: Sendable, Equatable, CustomStringConvertible {
  public let text: String
  let seconds: UInt64
  let minutes: UInt64
  let hours: UInt64
  let daysOfMonth: UInt64
  let months: UInt64
  let daysOfWeek: UInt64
  let dayOfMonthIsStar: Bool
  let dayOfWeekIsStar: Bool

  public var description: String { text }

  private static let macros: [String: String] = [
    "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
  ]
  private static let monthNames = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
  private static let dayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]

  public init(parsing text: String) throws(CronSyntaxError) {
    self.text = text
    var source = text.trimmingCharacters(in: .whitespaces)
    if source.hasPrefix("@") {
      guard let expanded = Self.macros[source.lowercased()] else {
        throw CronSyntaxError(
          expression: text, reason: "unknown macro '\(source)' (known: @yearly, @monthly, @weekly, @daily, @hourly)")
      }
      source = expanded
    }
    var fields = source.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
    guard fields.count == 5 || fields.count == 6 else {
      throw CronSyntaxError(
        expression: text,
        reason: "expected 5 fields (minute hour day month weekday) or 6 with seconds, got \(fields.count)")
    }
    if fields.count == 5 { fields.insert("0", at: 0) }
    func field(_ index: Int, _ name: String, _ range: ClosedRange<Int>, names: [String] = [], nameBase: Int = 0)
      throws(CronSyntaxError) -> UInt64
    {
      try Self.parseField(fields[index], name: name, range: range, names: names, nameBase: nameBase, expression: text)
    }
    seconds = try field(0, "second", 0...59)
    minutes = try field(1, "minute", 0...59)
    hours = try field(2, "hour", 0...23)
    daysOfMonth = try field(3, "day-of-month", 1...31)
    months = try field(4, "month", 1...12, names: Self.monthNames, nameBase: 1)
    var weekdays = try field(5, "day-of-week", 0...7, names: Self.dayNames)
    if weekdays & (1 << 7) != 0 { weekdays = (weekdays | 1) & ~(1 << 7) }  // 7 is Sunday too
    daysOfWeek = weekdays
    dayOfMonthIsStar = fields[3].hasPrefix("*") || fields[3].hasPrefix("?")
    dayOfWeekIsStar = fields[5].hasPrefix("*") || fields[5].hasPrefix("?")
  }

  private static func parseField(
    _ field: String, name: String, range: ClosedRange<Int>, names: [String], nameBase: Int, expression: String
  ) throws(CronSyntaxError) -> UInt64 {
    func fail(_ reason: String) -> CronSyntaxError { CronSyntaxError(expression: expression, reason: reason) }
    func value(_ token: Substring) throws(CronSyntaxError) -> Int {
      if let number = Int(token) {
        guard range.contains(number) else {
          throw fail("\(name) value \(number) is out of range \(range.lowerBound)-\(range.upperBound)")
        }
        return number
      }
      if let index = names.firstIndex(of: token.lowercased()) { return index + nameBase }
      throw fail("\(name) field has '\(token)', which is not a number" + (names.isEmpty ? "" : " or a name"))
    }
    var bits: UInt64 = 0
    for item in field.split(separator: ",", omittingEmptySubsequences: false) {
      if item.isEmpty { throw fail("\(name) field '\(field)' has an empty list item") }
      let parts = item.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
      var step = 1
      if parts.count == 2 {
        guard let parsed = Int(parts[1]), parsed > 0 else {
          throw fail("\(name) step '\(parts[1])' is not a positive number")
        }
        step = parsed
      }
      let base = parts[0]
      var low: Int
      var high: Int
      if base == "*" || base == "?" {
        if base == "?" && name != "day-of-month" && name != "day-of-week" {
          throw fail("'?' is only allowed in day-of-month and day-of-week")
        }
        low = range.lowerBound
        high = name == "day-of-week" ? 6 : range.upperBound
      } else if let dash = base.firstIndex(of: "-") {
        low = try value(base[..<dash])
        high = try value(base[base.index(after: dash)...])
        guard low <= high else { throw fail("\(name) range \(base) runs backwards") }
      } else {
        low = try value(base)
        high = parts.count == 2 ? (name == "day-of-week" ? 6 : range.upperBound) : low
      }
      var current = low
      while current <= high {
        bits |= 1 << UInt64(current)
        current += step
      }
    }
    return bits
  }

  // MARK: - Matching wall-clock times

  func matchesDay(year: Int, month: Int, day: Int) -> Bool {
    let weekday = Int((Timestamp.days(fromCivil: year, month, day) % 7 + 11) % 7)  // 1970-01-01 was a Thursday
    let dayOfMonth = daysOfMonth & (1 << UInt64(day)) != 0
    let dayOfWeek = daysOfWeek & (1 << UInt64(weekday)) != 0
    if dayOfMonthIsStar || dayOfWeekIsStar { return dayOfMonth && dayOfWeek }
    return dayOfMonth || dayOfWeek
  }

  /// The first wall-clock time strictly after `wall` that matches, within
  /// 400 years (a whole Gregorian cycle): nil means never.
  func nextWall(after wall: WallTime) -> WallTime? {
    var candidate = wall.adding(seconds: 1)
    let lastYear = wall.year + 401
    while candidate.year <= lastYear {
      if months & (1 << UInt64(candidate.month)) == 0 {
        candidate = candidate.startOfNextMonth()
        continue
      }
      if !matchesDay(year: candidate.year, month: candidate.month, day: candidate.day) {
        candidate = candidate.startOfNextDay()
        continue
      }
      if let hour = Self.next(hours, from: candidate.hour, below: 24) {
        if hour != candidate.hour {
          candidate = WallTime(candidate.year, candidate.month, candidate.day, hour, 0, 0)
        }
      } else {
        candidate = candidate.startOfNextDay()
        continue
      }
      if let minute = Self.next(minutes, from: candidate.minute, below: 60) {
        if minute != candidate.minute {
          candidate = WallTime(candidate.year, candidate.month, candidate.day, candidate.hour, minute, 0)
        }
      } else {
        candidate = candidate.startOfNextHour()
        continue
      }
      if let second = Self.next(seconds, from: candidate.second, below: 60) {
        return WallTime(candidate.year, candidate.month, candidate.day, candidate.hour, candidate.minute, second)
      }
      candidate = candidate.startOfNextMinute()
    }
    return nil
  }

  private static func next(_ bits: UInt64, from value: Int, below limit: Int) -> Int? {
    let masked = (bits >> UInt64(value)) << UInt64(value)
    guard masked != 0 else { return nil }
    let found = masked.trailingZeroBitCount
    return found < limit ? found : nil
  }

  // MARK: - Instants

  /// The first instant strictly after `instant` at which the pattern fires
  /// in `timeZone`. A local time skipped by a DST change fires at the first
  /// instant after the gap; a local time that happens twice fires once.
  /// Nil when the pattern can never fire (`0 0 31 2 *`).
  public func next(after instant: Date, in timeZone: TimeZone) -> Date? {
    let after = Int64((instant.timeIntervalSince1970).rounded(.down))
    var wall = WallTime(local: after, in: timeZone)
    for _ in 0..<10_000 {
      guard let candidate = nextWall(after: wall) else { return nil }
      if let fire = candidate.firstInstant(in: timeZone, after: after) {
        return Date(timeIntervalSince1970: Double(fire))
      }
      wall = candidate
    }
    return nil
  }
}

/// A local date and time without a zone: what a wall clock shows.
struct WallTime: Comparable {
  var year: Int
  var month: Int
  var day: Int
  var hour: Int
  var minute: Int
  var second: Int

  init(_ year: Int, _ month: Int, _ day: Int, _ hour: Int, _ minute: Int, _ second: Int) {
    (self.year, self.month, self.day, self.hour, self.minute, self.second) = (year, month, day, hour, minute, second)
  }

  /// What clocks in `timeZone` show at `seconds` since 1970.
  init(local seconds: Int64, in timeZone: TimeZone) {
    let offset = Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(seconds))))
    self.init(wallSeconds: seconds + offset)
  }

  init(wallSeconds: Int64) {
    let days = wallSeconds >= 0 ? wallSeconds / 86_400 : (wallSeconds - 86_399) / 86_400
    let secondOfDay = Int(wallSeconds - days * 86_400)
    let (year, month, day) = Timestamp.civil(fromDays: days)
    self.init(year, month, day, secondOfDay / 3600, secondOfDay / 60 % 60, secondOfDay % 60)
  }

  /// Seconds since 1970 if this wall time were UTC.
  var wallSeconds: Int64 {
    Timestamp.days(fromCivil: year, month, day) * 86_400 + Int64(hour * 3600 + minute * 60 + second)
  }

  func adding(seconds: Int64) -> WallTime { WallTime(wallSeconds: wallSeconds + seconds) }
  func startOfNextMinute() -> WallTime { WallTime(year, month, day, hour, minute, 0).adding(seconds: 60) }
  func startOfNextHour() -> WallTime { WallTime(year, month, day, hour, 0, 0).adding(seconds: 3600) }
  func startOfNextDay() -> WallTime { WallTime(year, month, day, 0, 0, 0).adding(seconds: 86_400) }
  func startOfNextMonth() -> WallTime {
    month == 12 ? WallTime(year + 1, 1, 1, 0, 0, 0) : WallTime(year, month + 1, 1, 0, 0, 0)
  }

  static func < (lhs: WallTime, rhs: WallTime) -> Bool { lhs.wallSeconds < rhs.wallSeconds }

  /// The earliest instant after `after` at which clocks in `timeZone` show
  /// this time; in a DST gap, the instant the gap ends. Nil when every
  /// instant showing it is not after `after`.
  func firstInstant(in timeZone: TimeZone, after: Int64) -> Int64? {
    let wall = wallSeconds
    func offset(_ instant: Int64) -> Int64 {
      Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(instant))))
    }
    let offsets = Set([offset(wall - 86_400), offset(wall), offset(wall + 86_400)])
    let instants = offsets.map { wall - $0 }.filter { offset($0) == wall - $0 }.sorted()
    if !instants.isEmpty { return instants.first { $0 > after } }
    // A gap: the change happens between wall − larger offset and wall −
    // smaller offset; the first instant after it shows a later time.
    var low = wall - (offsets.max() ?? 0)
    var high = wall - (offsets.min() ?? 0)
    let before = offset(low)
    while high - low > 1 {
      let middle = (low + high) / 2
      if offset(middle) == before { low = middle } else { high = middle }
    }
    return high > after ? high : nil
  }
}
