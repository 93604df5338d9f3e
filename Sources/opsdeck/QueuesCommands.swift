import ArgumentParser
import Foundation
import OpsDeck
import Scheduler
import Storage

struct QueuesCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "queues",
    abstract: "List queues with their counts; pause, resume, drain, clean, rate-limit.",
    subcommands: [List.self, Pause.self, Resume.self, Drain.self, Clean.self, RateLimit.self],
    defaultSubcommand: List.self)

  struct List: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Every queue: paused, counts per state, throughput in the last minute.",
      discussion: "Example:\n  opsdeck queues --json")

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
      let queues = try global.runtime().jobStore(.view).queues()
      if json { return try Output.json(queues) }
      Output.columns(
        [
          "QUEUE", "STATE", "WAITING", "DELAYED", "ACTIVE", "COMPLETED", "FAILED", "DONE/MIN", "FAILED/MIN",
          "RATE LIMIT",
        ],
        queues.map {
          [
            $0.name, $0.paused ? "paused" : "running", "\($0.counts.waiting)", "\($0.counts.delayed)",
            "\($0.counts.active)", "\($0.counts.completed)", "\($0.counts.failed)", "\($0.completedLastMinute)",
            "\($0.failedLastMinute)", $0.rateLimit ?? "-",
          ]
        })
    }
  }

  struct Pause: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Start nothing new in a queue; active jobs finish.",
      discussion: "Example:\n  opsdeck queues pause emails")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The queue.") var queue: String

    func run() throws {
      try global.runtime().jobStore(.write).setPaused(queue, true)
      Output.line("paused \(TerminalText.sanitize(queue))")
    }
  }

  struct Resume: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Let a paused queue run again.", discussion: "Example:\n  opsdeck queues resume emails")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The queue.") var queue: String

    func run() throws {
      try global.runtime().jobStore(.write).setPaused(queue, false)
      Output.line("resumed \(TerminalText.sanitize(queue))")
    }
  }

  struct Drain: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Remove a queue's waiting and delayed jobs.", discussion: "Example:\n  opsdeck queues drain emails")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The queue.") var queue: String

    func run() throws {
      let count = try global.runtime().jobStore(.write).drain(queue)
      Output.line(
        "removed \(count) waiting or delayed job\(count == 1 ? "" : "s") from \(TerminalText.sanitize(queue))")
    }
  }

  struct Clean: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Remove a queue's jobs in one state older than an age.",
      discussion: """
        Finished jobs are aged by when they finished, waiting and delayed ones by when they
        were added. Active jobs are never cleaned.

        Example:
          opsdeck queues clean emails --state completed --older-than 7d
        """)
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The queue.") var queue: String
    @Option(help: "completed, failed, waiting or delayed.") var state: String
    @Option(help: ArgumentHelp("Only jobs older than this (1h, 7d).", valueName: "duration")) var olderThan: String

    func run() throws {
      let state = try JobsCommand.state(self.state)
      let age = try Parse.milliseconds(olderThan, flag: "--older-than") ?? 0
      let count = try global.runtime().jobStore(.write).clean(queue, state: state, olderThan: age)
      Output.line("removed \(count) \(state.name) job\(count == 1 ? "" : "s") from \(TerminalText.sanitize(queue))")
    }
  }

  struct RateLimit: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "rate-limit",
      abstract: "Start at most MAX jobs per DURATION across every worker, or --off.",
      discussion: "Example:\n  opsdeck queues rate-limit webhooks --max 100 --per 1s")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The queue.") var queue: String
    @Option(help: "Jobs per window.") var max: Int?
    @Option(help: ArgumentHelp("The window (1s, 1m).", valueName: "duration")) var per: String?
    @Flag(help: "Remove the limit.") var off = false

    func run() throws {
      let store = try global.runtime().jobStore(.write)
      if off {
        guard max == nil, per == nil else { throw UsageError("--off takes no --max or --per") }
        try store.setRateLimit(queue, max: nil, durationMilliseconds: nil)
        return Output.line("\(TerminalText.sanitize(queue)) has no rate limit")
      }
      guard let max, let window = try Parse.milliseconds(per, flag: "--per"), window > 0 else {
        throw UsageError("expected --max N --per DURATION, or --off")
      }
      try store.setRateLimit(queue, max: max, durationMilliseconds: window)
      Output.line(
        "\(TerminalText.sanitize(queue)) starts at most \(max) jobs per \(Duration.milliseconds(window).compactText)")
    }
  }
}
