import Foundation

public struct TimestampSyntaxError: ReportableError {
  public let text: String
  public var description: String {
    "invalid time '\(TerminalText.sanitize(text))': expected ISO-8601 such as 2026-11-25T09:30:00Z or 2026-11-25"
  }
  public var isBadInput: Bool { true }
}

/// UTC ISO-8601 as every command prints it (`2026-11-25T09:30:00Z`, with
/// `.123` only when there are milliseconds), and the forms it reads.
/// Hand-written because it runs for every job row printed and
/// `ISO8601DateFormatter` is neither fast nor `Sendable`.
public enum Timestamp {
  public static func format(_ date: Date) -> String {
    format(milliseconds: date.epochMilliseconds)
  }

  public static func format(milliseconds: Int64) -> String {
    let seconds = floorDiv(milliseconds, 1000)
    let millis = Int(milliseconds - seconds * 1000)
    let days = floorDiv(seconds, 86_400)
    let secondOfDay = Int(seconds - days * 86_400)
    let (year, month, day) = civil(fromDays: days)
    var text = pad(year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2)
    text += "T" + pad(secondOfDay / 3600, 2) + ":" + pad(secondOfDay / 60 % 60, 2) + ":" + pad(secondOfDay % 60, 2)
    if millis != 0 { text += "." + pad(millis, 3) }
    return text + "Z"
  }

  /// Reads `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM[:SS[.fff]]` followed by `Z` or an
  /// offset `±HH:MM`. A time without a zone is refused: it would be a guess.
  public static func parse(_ text: String) throws(TimestampSyntaxError) -> Date {
    guard let date = parseOrNil(text) else { throw TimestampSyntaxError(text: text) }
    return date
  }

  private static func parseOrNil(_ text: String) -> Date? {
    let bytes = Array(text.utf8)
    var index = 0
    func number(_ width: Int) -> Int? {
      guard index + width <= bytes.count else { return nil }
      var value = 0
      for byte in bytes[index..<index + width] {
        guard byte >= 48, byte <= 57 else { return nil }
        value = value * 10 + Int(byte - 48)
      }
      index += width
      return value
    }
    func expect(_ character: UInt8) -> Bool {
      guard index < bytes.count, bytes[index] == character else { return false }
      index += 1
      return true
    }
    guard let year = number(4), expect(UInt8(ascii: "-")), let month = number(2),
      expect(UInt8(ascii: "-")), let day = number(2)
    else { return nil }
    guard (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day) else { return nil }
    var seconds = Double(days(fromCivil: year, month, day)) * 86_400
    if index == bytes.count { return Date(timeIntervalSince1970: seconds) }
    guard expect(UInt8(ascii: "T")) || expect(UInt8(ascii: " ")), let hour = number(2),
      expect(UInt8(ascii: ":")), let minute = number(2), hour < 24, minute < 60
    else { return nil }
    seconds += Double(hour * 3600 + minute * 60)
    if expect(UInt8(ascii: ":")) {
      guard let second = number(2), second < 60 else { return nil }
      seconds += Double(second)
      if expect(UInt8(ascii: ".")) {
        var scale = 0.1
        var digits = 0
        while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 {
          seconds += Double(bytes[index] - 48) * scale
          scale /= 10
          index += 1
          digits += 1
        }
        guard digits > 0 else { return nil }
      }
    }
    if expect(UInt8(ascii: "Z")) || expect(UInt8(ascii: "z")) {
      return index == bytes.count ? Date(timeIntervalSince1970: seconds) : nil
    }
    let sign: Double
    if expect(UInt8(ascii: "+")) {
      sign = 1
    } else if expect(UInt8(ascii: "-")) {
      sign = -1
    } else {
      return nil
    }
    guard let offsetHours = number(2), offsetHours < 24 else { return nil }
    _ = expect(UInt8(ascii: ":"))
    guard let offsetMinutes = number(2), offsetMinutes < 60, index == bytes.count else { return nil }
    seconds -= sign * Double(offsetHours * 3600 + offsetMinutes * 60)
    return Date(timeIntervalSince1970: seconds)
  }

  /// How far `date` is from `now` for people: `42s`, `3m`, `5h`, `2d`,
  /// and whether it is in the future.
  public static func span(from now: Date, to date: Date) -> (text: String, future: Bool) {
    let seconds = Int(date.timeIntervalSince(now).rounded())
    let magnitude = abs(seconds)
    let text: String
    switch magnitude {
    case ..<60: text = "\(magnitude)s"
    case ..<3_600: text = "\(magnitude / 60)m"
    case ..<86_400: text = "\(magnitude / 3_600)h"
    default: text = "\(magnitude / 86_400)d"
    }
    return (text, seconds > 0)
  }

  private static func pad(_ value: Int, _ width: Int) -> String {
    let digits = String(value)
    return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
  }

  private static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
    a >= 0 ? a / b : (a - b + 1) / b
  }

  private static func daysIn(month: Int, year: Int) -> Int {
    switch month {
    case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
    case 4, 6, 9, 11: return 30
    default: return 31
    }
  }

  // Howard Hinnant's days_from_civil / civil_from_days.
  public static func days(fromCivil year: Int, _ month: Int, _ day: Int) -> Int64 {
    let y = Int64(month <= 2 ? year - 1 : year)
    let era = (y >= 0 ? y : y - 399) / 400
    let yearOfEra = y - era * 400
    let m = Int64(month)
    let dayOfYear = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
    let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
    return era * 146_097 + dayOfEra - 719_468
  }

  public static func civil(fromDays days: Int64) -> (Int, Int, Int) {
    let z = days + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let dayOfEra = z - era * 146_097
    let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
    let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
    let mp = (5 * dayOfYear + 2) / 153
    let day = dayOfYear - (153 * mp + 2) / 5 + 1
    let month = mp < 10 ? mp + 3 : mp - 9
    let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    return (Int(year), Int(month), Int(day))
  }
}
