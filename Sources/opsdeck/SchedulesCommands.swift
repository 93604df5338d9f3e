import ArgumentParser
import Foundation
import OpsDeck
import Scheduler
import Storage

struct SchedulesCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "schedules",
    abstract: "Repeatable jobs: cron patterns or fixed intervals.",
    subcommands: [Add.self, List.self, Remove.self])

  struct Add: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Add or replace a schedule.",
      discussion: """
        Exactly one next job exists per schedule, whatever the number of processes. After
        downtime the next run is computed from now: missed runs are not replayed.

        Examples:
          opsdeck schedules add fx-daily fx fx.sync --cron '0 6 * * 1-5' --tz Europe/Berlin
          opsdeck schedules add heartbeat health noop --every 30s
        """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The schedule's id.") var id: String
    @Argument(help: "The queue.") var queue: String
    @Argument(help: "The job name.") var name: String
    @Option(help: ArgumentHelp("A cron pattern (5 fields, 6 with seconds, or @daily …).", valueName: "expr"))
    var cron: String?
    @Option(help: ArgumentHelp("The IANA time zone of --cron (default UTC).", valueName: "zone")) var tz: String?
    @Option(help: ArgumentHelp("A fixed interval instead of --cron (30s, 1h).", valueName: "duration"))
    var every: String?
    @Option(help: ArgumentHelp("The data of every job, as JSON.", valueName: "json")) var data = "{}"
    @Option(help: "Stop after this many runs.") var limit: Int?
    @Option(help: ArgumentHelp("No run before this time.", valueName: "iso8601")) var start: String?
    @Option(help: ArgumentHelp("No run after this time.", valueName: "iso8601")) var end: String?

    func run() throws {
      let repeats: Repeat
      switch (cron, every) {
      case (let pattern?, nil):
        repeats = .cron(try CronExpression(parsing: pattern), timeZone: tz ?? "UTC")
      case (nil, let interval?):
        guard tz == nil else { throw UsageError("--tz applies to --cron only") }
        let milliseconds = try Parse.milliseconds(interval, flag: "--every") ?? 0
        guard milliseconds > 0 else { throw UsageError("--every: expected a positive duration") }
        repeats = .every(milliseconds: milliseconds)
      default:
        throw UsageError("expected exactly one of --cron EXPR or --every DURATION")
      }
      let spec = ScheduleSpec(
        id: id, queue: queue, name: name, repeats: repeats, data: try Parse.json(data, flag: "--data"), limit: limit,
        start: try Parse.time(start, flag: "--start"), end: try Parse.time(end, flag: "--end"))
      let runtime = try global.runtime()
      let schedules = Schedules(jobs: try runtime.jobStore(.write))
      try schedules.upsert(spec)
      let next = try schedules.list().first { $0.id == id }?.nextRunAt
      Output.line("schedule \(TerminalText.sanitize(id)) next runs at \(next.map(Timestamp.format) ?? "never")")
    }
  }

  struct List: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Every schedule with its next run.", discussion: "Example:\n  opsdeck schedules list --json")
    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
      let schedules = try Schedules(jobs: global.runtime().jobStore(.view)).list()
      if json { return try Output.json(schedules) }
      Output.columns(
        ["ID", "QUEUE", "NAME", "REPEAT", "TZ", "NEXT RUN", "RUNS", "SOURCE"],
        schedules.map { schedule in
          [
            schedule.id, schedule.queue, schedule.name, schedule.cron ?? "every \(schedule.every ?? "?")", schedule.tz,
            schedule.nextRunAt.map(Timestamp.format) ?? "-",
            schedule.limit.map { "\(schedule.fired)/\($0)" } ?? "\(schedule.fired)", schedule.source,
          ]
        })
    }
  }

  struct Remove: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Delete a schedule and its pending job.", discussion: "Example:\n  opsdeck schedules remove heartbeat")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The schedule's id.") var id: String

    func run() throws {
      try Schedules(jobs: global.runtime().jobStore(.write)).remove(id)
      Output.line("removed schedule \(TerminalText.sanitize(id))")
    }
  }
}

struct CronCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "cron", abstract: "Try cron patterns.", subcommands: [Next.self])

  struct Next: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Print the next fire times of a pattern, one UTC ISO-8601 time per line.",
      discussion: """
        Example:
          opsdeck cron next '30 2 * * *' --tz Europe/Berlin --from 2026-03-28T00:00:00Z --count 3
        """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The pattern.") var expression: String
    @Option(help: ArgumentHelp("The IANA time zone (default UTC).", valueName: "zone")) var tz = "UTC"
    @Option(help: ArgumentHelp("Start after this time (default now).", valueName: "iso8601")) var from: String?
    @Option(help: "How many times.") var count = 5

    func run() throws {
      let cron = try CronExpression(parsing: expression)
      let zone = try Schedules.timeZone(tz)
      guard count >= 1 else { throw UsageError("--count: expected 1 or more") }
      var instant = try Parse.time(from, flag: "--from") ?? global.runtime().clock.now()
      for index in 0..<count {
        guard let next = cron.next(after: instant, in: zone) else {
          if index == 0 { throw UsageError("cron expression '\(expression)' never fires") }
          return
        }
        Output.line(Timestamp.format(next))
        instant = next
      }
    }
  }
}
