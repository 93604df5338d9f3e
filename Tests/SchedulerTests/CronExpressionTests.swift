import Foundation
import Scheduler
import Storage
import Testing

struct CronExpressionTests {
  func fires(_ pattern: String, from start: String, zone: String = "UTC", count: Int = 3) throws -> [String] {
    let cron = try CronExpression(parsing: pattern)
    let timeZone = try #require(TimeZone(identifier: zone))
    var instant = try Timestamp.parse(start)
    var fired: [String] = []
    for _ in 0..<count {
      guard let next = cron.next(after: instant, in: timeZone) else { break }
      fired.append(Timestamp.format(next))
      instant = next
    }
    return fired
  }

  @Test func stepsListsAndRanges() throws {
    #expect(
      try fires("*/15 * * * *", from: "2026-01-01T10:07:00Z")
        == ["2026-01-01T10:15:00Z", "2026-01-01T10:30:00Z", "2026-01-01T10:45:00Z"])
    #expect(
      try fires("0 9-17/4 * * *", from: "2026-01-01T10:00:00Z")
        == ["2026-01-01T13:00:00Z", "2026-01-01T17:00:00Z", "2026-01-02T09:00:00Z"])
    #expect(
      try fires("5,35 1 * * *", from: "2026-01-01T01:05:00Z")
        == ["2026-01-01T01:35:00Z", "2026-01-02T01:05:00Z", "2026-01-02T01:35:00Z"])
    #expect(
      try fires("10/20 * * * *", from: "2026-01-01T00:00:00Z") == [
        "2026-01-01T00:10:00Z", "2026-01-01T00:30:00Z", "2026-01-01T00:50:00Z",
      ])
  }

  @Test func namesForMonthsAndDays() throws {
    // 2026-01-01 is a Thursday.
    #expect(
      try fires("0 9 * jan-mar MON-FRI", from: "2026-01-01T09:00:00Z")
        == ["2026-01-02T09:00:00Z", "2026-01-05T09:00:00Z", "2026-01-06T09:00:00Z"])
    #expect(try fires("0 0 * * 7", from: "2026-01-01T00:00:00Z", count: 1) == ["2026-01-04T00:00:00Z"])
    #expect(try fires("0 0 1 DEC *", from: "2026-01-01T00:00:00Z", count: 1) == ["2026-12-01T00:00:00Z"])
  }

  @Test func secondsFieldWhenThereAreSix() throws {
    #expect(
      try fires("*/20 * * * * *", from: "2026-01-01T00:00:05Z")
        == ["2026-01-01T00:00:20Z", "2026-01-01T00:00:40Z", "2026-01-01T00:01:00Z"])
  }

  @Test func macros() throws {
    #expect(try fires("@hourly", from: "2026-01-01T10:30:00Z", count: 1) == ["2026-01-01T11:00:00Z"])
    #expect(try fires("@daily", from: "2026-01-01T10:30:00Z", count: 1) == ["2026-01-02T00:00:00Z"])
    #expect(try fires("@weekly", from: "2026-01-01T10:30:00Z", count: 1) == ["2026-01-04T00:00:00Z"])
    #expect(try fires("@monthly", from: "2026-01-01T10:30:00Z", count: 1) == ["2026-02-01T00:00:00Z"])
    #expect(try fires("@yearly", from: "2026-01-01T10:30:00Z", count: 1) == ["2027-01-01T00:00:00Z"])
  }

  @Test func dayOfMonthAndDayOfWeekAreOredWhenBothAreRestricted() throws {
    // The 13th, or any Friday.
    #expect(
      try fires("0 0 13 * 5", from: "2026-01-01T00:00:00Z")
        == ["2026-01-02T00:00:00Z", "2026-01-09T00:00:00Z", "2026-01-13T00:00:00Z"])
    // A field starting with * is unrestricted (Vixie): odd days that are Fridays.
    #expect(
      try fires("0 0 */2 * 5", from: "2026-01-01T00:00:00Z", count: 2) == [
        "2026-01-09T00:00:00Z", "2026-01-23T00:00:00Z",
      ])
  }

  @Test func monthEndsAndLeapDays() throws {
    #expect(
      try fires("0 0 31 * *", from: "2026-01-31T00:00:00Z")
        == ["2026-03-31T00:00:00Z", "2026-05-31T00:00:00Z", "2026-07-31T00:00:00Z"])
    #expect(
      try fires("0 12 29 2 *", from: "2026-01-01T00:00:00Z", count: 2)
        == ["2028-02-29T12:00:00Z", "2032-02-29T12:00:00Z"])
    #expect(
      try fires("59 23 28-29 2 *", from: "2028-02-28T23:59:00Z", count: 2) == [
        "2028-02-29T23:59:00Z", "2029-02-28T23:59:00Z",
      ])
  }

  @Test func thirtyFirstOfFebruaryNeverFires() throws {
    let cron = try CronExpression(parsing: "0 0 31 2 *")
    #expect(cron.next(after: Date(timeIntervalSince1970: 0), in: .gmt) == nil)
    #expect(try CronExpression(parsing: "0 0 30 2 *").next(after: Date(), in: .gmt) == nil)
  }

  @Test func berlinSpringForwardFiresAtTheEndOfTheGap() throws {
    // 2026-03-29: 02:00 CET jumps to 03:00 CEST (01:00Z). 02:30 does not exist.
    #expect(
      try fires("30 2 * * *", from: "2026-03-28T12:00:00Z", zone: "Europe/Berlin")
        == ["2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z", "2026-03-31T00:30:00Z"])
    // Two skipped times in the gap fire once, at its end.
    #expect(
      try fires("0,30 2 * * *", from: "2026-03-28T23:00:00Z", zone: "Europe/Berlin", count: 2)
        == ["2026-03-29T01:00:00Z", "2026-03-30T00:00:00Z"])
    #expect(
      try fires("0 3 * * *", from: "2026-03-28T12:00:00Z", zone: "Europe/Berlin", count: 2)
        == ["2026-03-29T01:00:00Z", "2026-03-30T01:00:00Z"])
  }

  @Test func berlinFallBackFiresARepeatedTimeOnce() throws {
    // 2026-10-25: 03:00 CEST goes back to 02:00 CET (01:00Z); 02:30 happens twice.
    #expect(
      try fires("30 2 * * *", from: "2026-10-24T12:00:00Z", zone: "Europe/Berlin")
        == ["2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z", "2026-10-27T01:30:00Z"])
    // Starting inside the second pass does not fire the first pass again.
    #expect(
      try fires("45 2 * * *", from: "2026-10-25T01:40:00Z", zone: "Europe/Berlin", count: 1)
        == ["2026-10-25T01:45:00Z"])
  }

  @Test func newYorkDSTBothWays() throws {
    // 2026-03-08: 02:00 EST jumps to 03:00 EDT (07:00Z).
    #expect(
      try fires("0 2 * * *", from: "2026-03-07T12:00:00Z", zone: "America/New_York", count: 2)
        == ["2026-03-08T07:00:00Z", "2026-03-09T06:00:00Z"])
    // 2026-11-01: 02:00 EDT goes back to 01:00 EST (06:00Z).
    #expect(
      try fires("30 1 * * *", from: "2026-10-31T12:00:00Z", zone: "America/New_York", count: 2)
        == ["2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"])
    #expect(
      try fires("0 9 * * *", from: "2026-10-31T12:00:00Z", zone: "America/New_York", count: 2)
        == ["2026-10-31T13:00:00Z", "2026-11-01T14:00:00Z"])
  }

  @Test(arguments: [
    ("60 * * * *", "minute value 60 is out of range 0-59"),
    ("* * *", "expected 5 fields (minute hour day month weekday) or 6 with seconds, got 3"),
    ("5-1 * * * *", "minute range 5-1 runs backwards"),
    ("*/0 * * * *", "minute step '0' is not a positive number"),
    ("@reboot", "unknown macro '@reboot' (known: @yearly, @monthly, @weekly, @daily, @hourly)"),
    ("0 0 * * MON-FOO", "day-of-week field has 'FOO', which is not a number or a name"),
    ("0 24 * * *", "hour value 24 is out of range 0-23"),
    ("0 0 0 * *", "day-of-month value 0 is out of range 1-31"),
    ("0 0 * 13 *", "month value 13 is out of range 1-12"),
    ("0 ? * * *", "'?' is only allowed in day-of-month and day-of-week"),
    ("1,,2 * * * *", "minute field '1,,2' has an empty list item"),
  ])
  func malformedPatternsSayWhichFieldAndWhy(pattern: String, reason: String) {
    #expect(throws: CronSyntaxError(expression: pattern, reason: reason)) { try CronExpression(parsing: pattern) }
  }
}
