import Analytics
import ArgumentParser
import Foundation
import OpsDeck
import Storage

struct RetentionCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "retention", abstract: "Retention: cohorts by their start event's period, back by the return event.",
    discussion: """
      First-time (default): an actor's cohort is the period of its first start event ever.
      Recurring: it joins a cohort every period it does the start event. Period 0 is the
      cohort itself; period k counts its actors who did the return event k periods later.
      Buckets are calendar days, weeks (Sunday first, or --week-start monday) or months in
      --tz (default UTC).

      Example:
        opsdeck retention --start-event signup --return-event reconciliation.completed --period week
      """)
  @OptionGroup var global: GlobalOptions
  @Option(help: "The event that puts an actor in a cohort.") var startEvent: String
  @Option(help: "The event that counts as coming back.") var returnEvent: String
  @Option(help: "day, week or month.") var period = "week"
  @Flag(help: "Cohorts by the first start event ever (the default).") var firstTime = false
  @Flag(help: "An actor joins a cohort every period it does the start event.") var recurring = false
  @Option(help: "Cohorts from this time (ISO 8601).") var from: String?
  @Option(help: "Events up to this time (ISO 8601).") var to: String?
  @Option(help: "The IANA zone of the calendar buckets.") var tz = "UTC"
  @Option(help: "sunday or monday.") var weekStart = "sunday"
  @Option(help: "account or user.") var by = "account"
  @Option(help: "How many periods.") var periods = 8
  @Flag(help: "Print JSON.") var json = false

  func run() throws {
    guard !(firstTime && recurring) else { throw ValidationError("choose one of --first-time and --recurring") }
    var query = RetentionQuery(startEvent: startEvent, returnEvent: returnEvent)
    guard let bucket = RetentionPeriod(rawValue: period) else {
      throw ValidationError("invalid --period '\(period)': expected day, week or month")
    }
    query.period = bucket
    query.recurring = recurring
    query.from = try Parse.time(from, flag: "--from")
    query.to = try Parse.time(to, flag: "--to")
    query.timeZone = tz
    guard weekStart == "sunday" || weekStart == "monday" else {
      throw ValidationError("invalid --week-start '\(weekStart)': expected sunday or monday")
    }
    query.weekStartsMonday = weekStart == "monday"
    guard by == "account" || by == "user" else {
      throw ValidationError("invalid --by '\(by)': expected account or user")
    }
    query.byUser = by == "user"
    query.periods = periods
    let cohorts = try global.runtime().eventLog(.view).retention(query)
    if json {
      return try Output.json(
        JSONValue.object([
          "period": .string(bucket.rawValue),
          "cohorts": .array(
            cohorts.map { cohort in
              .object([
                "start": .string(cohort.start), "size": .number(Double(cohort.size)),
                "counts": .array(cohort.counts.map { .number(Double($0)) }),
                "percentages": .array(cohort.percentages.map { .number(($0 * 100).rounded() / 100) }),
              ])
            }),
        ]))
    }
    let headers = ["COHORT", "SIZE"] + (0..<periods).map { "\(bucket.rawValue.prefix(1).uppercased())\($0)" }
    Output.columns(
      headers,
      cohorts.map { cohort in
        [cohort.start, "\(cohort.size)"] + cohort.percentages.map { String(format: "%.0f%%", $0) }
      })
  }
}
