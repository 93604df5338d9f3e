import ArgumentParser
import Foundation
import OpsDeck
import Scheduler
import Storage

struct JobsCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "jobs",
    abstract: "Add, list, inspect and act on jobs.",
    subcommands: [Add.self, AddBulk.self, Import.self, List.self, Show.self, Retry.self, Remove.self, Promote.self])

  struct Add: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Add a job to a queue and print its id.",
      discussion: """
        NAME chooses the handler (noop, sleep, exec, …). A job id of your own makes the
        add idempotent: adding it again returns the existing job.

        Example:
          opsdeck jobs add reports exec --data '{"command":"/usr/bin/true"}' --attempts 3 \\
            --backoff exponential:5s,jitter=0.2 --delay 30s
        """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The queue.") var queue: String
    @Argument(help: "The job name, which selects its handler.") var name: String
    @Option(help: ArgumentHelp("The job's data as JSON.", valueName: "json")) var data = "{}"
    @Option(help: ArgumentHelp("Wait this long before it may run (30s, 5m).", valueName: "duration")) var delay: String?
    @Option(help: ArgumentHelp("1 is the highest, up to 2097152; without it, jobs run first.", valueName: "n"))
    var priority: Int?
    @Option(help: ArgumentHelp("Attempts before the job fails (default 1).", valueName: "n")) var attempts: Int?
    @Option(help: ArgumentHelp("fixed:DUR or exponential:DUR[,jitter=F].", valueName: "spec")) var backoff: String?
    @Option(help: ArgumentHelp("A job id of your own (not an integer).", valueName: "id")) var jobId: String?
    @Option(help: ArgumentHelp("Fail an attempt that runs longer than this.", valueName: "duration"))
    var timeout: String?
    @Option(help: ArgumentHelp("Keep this many completed jobs (a count) or for this long (24h).", valueName: "n|age"))
    var removeOnComplete: String?
    @Option(help: ArgumentHelp("Keep this many failed jobs (a count) or for this long (7d).", valueName: "n|age"))
    var removeOnFail: String?
    @Flag(help: "Print {\"id\", \"created\"} as JSON.") var json = false

    func run() throws {
      var options = JobOptions()
      options.delayMilliseconds = try Parse.milliseconds(delay, flag: "--delay") ?? 0
      options.priority = priority
      options.attempts = attempts ?? 1
      if let backoff { options.backoff = try Backoff(parsing: backoff) }
      options.jobID = jobId
      options.timeoutMilliseconds = try Parse.milliseconds(timeout, flag: "--timeout")
      if let removeOnComplete { options.removeOnComplete = try Retention(parsing: removeOnComplete) }
      if let removeOnFail { options.removeOnFail = try Retention(parsing: removeOnFail) }
      try options.validate()
      let data = try Parse.json(self.data, flag: "--data")
      let added = try global.runtime().jobStore(.write).add(queue: queue, name: name, data: data, options: options)
      if json {
        Output.line(#"{"created":\#(added.created),"id":\#(try JSONOutput.string(added.id))}"#)
      } else {
        Output.line(TerminalText.sanitize(added.id))
      }
    }
  }

  struct AddBulk: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "add-bulk",
      abstract: "Add many copies of one job, one transaction per 10,000.",
      discussion: """
        Example:
          opsdeck jobs add-bulk load noop --count 100000
        """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The queue.") var queue: String
    @Argument(help: "The job name.") var name: String
    @Option(help: "How many jobs.") var count: Int
    @Option(help: ArgumentHelp("The data of every job, as JSON.", valueName: "json")) var data = "{}"

    func run() throws {
      guard count >= 1 else { throw UsageError("--count: expected 1 or more, got \(count)") }
      let data = try Parse.json(self.data, flag: "--data")
      let added = try global.runtime().jobStore(.write).addCopies(queue: queue, name: name, data: data, count: count)
      Output.line("\(added)")
    }
  }

  struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Add jobs from JSON lines, all or nothing.",
      discussion: """
        Each line is {"name": "...", "data": {...}, "opts": {...}}; opts takes delay, priority,
        attempts, backoff, job_id, timeout, remove_on_complete and remove_on_fail. One bad line
        rejects the whole file with its line number, and nothing is added.

        Example:
          opsdeck jobs import emails jobs.jsonl
        """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The queue.") var queue: String
    @Argument(help: "A JSON-lines file, or - for standard input.") var file: String

    func run() throws {
      let text = String(decoding: try Parse.input(file), as: UTF8.self)
      let source = file == "-" ? "stdin" : file
      var jobs: [NewJob] = []
      for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty { continue }
        do {
          jobs.append(try Self.job(from: trimmed))
        } catch {
          throw UsageError("\(source):\(index + 1): \(error)")
        }
      }
      let created = try global.runtime().jobStore(.write).addBulk(queue: queue, jobs: jobs, chunk: max(jobs.count, 1))
      Output.line("\(created)")
    }

    static func job(from line: String) throws -> NewJob {
      guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
        throw UsageError("not a JSON object")
      }
      if let unknown = object.keys.sorted().first(where: { !["name", "data", "opts"].contains($0) }) {
        throw UsageError("unknown key '\(unknown)' (expected name, data, opts)")
      }
      guard let name = object["name"] as? String, !name.isEmpty else { throw UsageError("\"name\" is missing") }
      var data = "{}"
      if let value = object["data"] {
        let encoded = try JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .sortedKeys])
        data = String(decoding: encoded, as: UTF8.self)
      }
      var options = JobOptions()
      if let opts = object["opts"] {
        guard let dictionary = opts as? [String: Any] else { throw UsageError("\"opts\" is not an object") }
        options = try JobOptions(json: dictionary)
      }
      return NewJob(name: name, data: data, options: options)
    }
  }

  struct List: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "List jobs, newest activity first.",
      discussion: """
        Example:
          opsdeck jobs list --queue emails --state failed --json
        """)

    @OptionGroup var global: GlobalOptions
    @Option(help: "Only this queue.") var queue: String?
    @Option(help: "waiting, delayed, active, completed or failed.") var state: String?
    @Option(help: "At most this many jobs.") var limit = 50
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
      let state = try self.state.map(JobsCommand.state)
      guard limit >= 1 else { throw UsageError("--limit: expected 1 or more") }
      let runtime = try global.runtime()
      let jobs = try runtime.jobStore(.view).list(queue: queue, state: state, limit: limit)
      if json { return try Output.json(jobs) }
      let now = runtime.clock.now()
      Output.columns(
        ["ID", "QUEUE", "NAME", "STATE", "ATTEMPTS", "AGE", "RUN", "REASON"],
        jobs.map {
          [
            $0.id, $0.queue, $0.name, $0.state.name, "\($0.attemptsMade)/\($0.attempts)",
            Output.relative($0.createdAt, now: now), $0.runAt.map { Output.relative($0, now: now) } ?? "-",
            $0.failedReason ?? "",
          ]
        })
    }
  }

  struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Show one job: data, every attempt's error, progress, logs.",
      discussion: """
        Example:
          opsdeck jobs show 42 --json
        """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The job id.") var id: String
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
      let detail = try global.runtime().jobStore(.view).job(id)
      if json { return try Output.json(detail) }
      let summary = detail.summary
      var rows: [(String, String)] = [
        ("id", summary.id), ("queue", summary.queue), ("name", summary.name), ("state", summary.state.name),
        ("priority", summary.priority == 0 ? "none" : "\(summary.priority)"),
        ("attempts", "\(summary.attemptsMade) of \(summary.attempts)"),
        ("created", Timestamp.format(summary.createdAt)),
      ]
      if let runAt = summary.runAt { rows.append(("run at", Timestamp.format(runAt))) }
      if let processed = summary.processedAt { rows.append(("processed", Timestamp.format(processed))) }
      if let finished = summary.finishedAt { rows.append(("finished", Timestamp.format(finished))) }
      if let backoff = detail.backoff { rows.append(("backoff", backoff)) }
      if let reason = summary.failedReason { rows.append(("failed reason", reason)) }
      if let progress = detail.progress { rows.append(("progress", progress)) }
      if let value = detail.returnValue { rows.append(("return value", value)) }
      if detail.stalledCount > 0 { rows.append(("stalled", "\(detail.stalledCount) times")) }
      if let schedule = detail.scheduleID { rows.append(("schedule", schedule)) }
      Output.table(rows)
      Output.line("data")
      let pretty = JSONValue(parsing: detail.data)?.prettyText ?? detail.data
      for line in pretty.split(separator: "\n") { Output.line("  " + TerminalText.sanitize(String(line))) }
      for error in detail.errors {
        Output.line("attempt \(error.attempt) failed at \(Timestamp.format(error.at))")
        for line in error.error.split(separator: "\n") { Output.line("  " + TerminalText.sanitize(String(line))) }
      }
      for log in detail.logs {
        Output.line("log \(Timestamp.format(log.at))  \(TerminalText.sanitize(log.line))")
      }
    }
  }

  struct Retry: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Retry a failed job, or every failed job of a queue.",
      discussion: """
        Examples:
          opsdeck jobs retry 42
          opsdeck jobs retry --queue emails --failed
        """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The job id.") var id: String?
    @Option(help: "The queue whose failed jobs to retry (with --failed).") var queue: String?
    @Flag(help: "Retry every failed job of --queue.") var failed = false

    func run() throws {
      switch (id, queue, failed) {
      case (let id?, nil, false):
        try global.runtime().jobStore(.write).retry(id)
        Output.line("job \(TerminalText.sanitize(id)) is waiting")
      case (nil, let queue?, true):
        let count = try global.runtime().jobStore(.write).retryAllFailed(queue: queue)
        Output.line("\(count) failed job\(count == 1 ? "" : "s") of \(TerminalText.sanitize(queue)) waiting again")
      default:
        throw UsageError("expected a job id, or --queue QUEUE --failed")
      }
    }
  }

  struct Remove: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Delete a job that no worker holds.", discussion: "Example:\n  opsdeck jobs remove 42")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The job id.") var id: String

    func run() throws {
      try global.runtime().jobStore(.write).remove(id)
      Output.line("removed job \(TerminalText.sanitize(id))")
    }
  }

  struct Promote: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Run a delayed job now.", discussion: "Example:\n  opsdeck jobs promote 42")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The job id.") var id: String

    func run() throws {
      try global.runtime().jobStore(.write).promote(id)
      Output.line("job \(TerminalText.sanitize(id)) is waiting")
    }
  }

  static func state(_ text: String) throws -> JobState {
    guard let state = JobState(name: text) else {
      throw UsageError("--state: unknown state '\(text)' (expected waiting, delayed, active, completed or failed)")
    }
    return state
  }
}
