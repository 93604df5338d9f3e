import Foundation
import GRDB
import Testing

/// `opsdeck run`: the config's schedules and queue limits, SIGHUP reloads,
/// one log line per event, a clean stop on SIGTERM.
@Suite struct DaemonTests {
  func completed(_ path: String, schedule: String) -> Int {
    (try? DatabaseQueue(path: path).read { db in
      try Int.fetchOne(
        db, sql: "SELECT count(*) FROM jobs WHERE state = 3 AND schedule_id = ?", arguments: [schedule])
    }) ?? 0
  }

  func waitFor(_ condition: () -> Bool) -> Bool {
    for _ in 0..<1_000 {
      if condition() { return true }
      usleep(10_000)
    }
    return false
  }

  @Test func runsTheConfigSchedulesReloadsOnHangupAndStopsOnTerm() throws {
    let workspace = try Workspace()
    let db = workspace.path("ops.db")
    let schedule = """
      [queues.beats]
      concurrency = 2
      rate_max = 50
      rate_per = "1s"

      [[schedules]]
      id = "beat"
      queue = "beats"
      name = "noop"
      every = "100ms"
      limit = 2

      """
    try workspace.write("ops.toml", schedule)
    let base = ["--db", db, "--config", "ops.toml"]
    #expect(try workspace.opsdeck(base + ["init"]).status == 0)
    let daemon = try Programs.start(Programs.opsdeck, base + ["run", "--log-format", "json"], in: workspace.url)
    #expect(waitFor { completed(db, schedule: "beat") == 2 })

    try workspace.write(
      "ops.toml",
      schedule + "[[schedules]]\nid = \"second\"\nqueue = \"beats\"\nname = \"noop\"\nevery = \"100ms\"\nlimit = 1\n")
    kill(daemon.pid, SIGHUP)
    #expect(waitFor { completed(db, schedule: "second") == 1 })

    try workspace.write("ops.toml", "[[schedules]]\nid = \"broken\"\nqueue = \"q\"\nname = \"noop\"\n")
    kill(daemon.pid, SIGHUP)
    usleep(300_000)
    kill(daemon.pid, SIGTERM)
    let outcome = try daemon.wait()
    #expect(outcome.status == 0, "\(outcome.stderr)")

    let lines = outcome.stderr.split(separator: "\n")
    let events = lines.compactMap { line in
      (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
    }
    #expect(events.count == lines.count, "every log line is one JSON object")
    let messages = events.compactMap { $0["message"] as? String }
    #expect(messages.first == "opsdeck running")
    #expect(messages.contains("config reloaded"))
    #expect(messages.contains { $0.hasPrefix("config reload failed; keeping the running configuration: ops.toml:1:") })
    #expect(messages.last == "opsdeck stopped")
    // The config on disk is the broken one now: read without it.
    let schedules = try workspace.opsdeck(["--db", db, "schedules", "list", "--json"]).stdout
    #expect(schedules.contains(#""id":"second""#))
    #expect(!schedules.contains("broken"))
    let queues = try workspace.opsdeck(["--db", db, "queues", "--json"]).stdout
    #expect(queues.contains(#""rate_limit":"50 per 1s""#))
  }

  @Test func textLogsAreOneLinePerEvent() throws {
    let workspace = try Workspace()
    let db = workspace.path("ops.db")
    #expect(try workspace.opsdeck(["--db", db, "init", "--no-config"]).status == 0)
    _ = try workspace.opsdeck([
      "--db", db, "jobs", "add", "q", "exec", "--data",
      #"{"command": "sh", "args": ["-c", "printf 'line1\\nline2\\033[31m' >&2; exit 4"]}"#,
    ])
    let outcome = try workspace.opsdeck(["--db", db, "work", "--until-empty"])
    #expect(outcome.status == 0)
    let failure = outcome.stderrLines.first { $0.contains("job failed") }
    #expect(failure?.contains(#"error="'sh' exited with status 4: line1 line2""#) == true, "\(outcome.stderr)")
    #expect(!outcome.stderr.contains("\u{1B}"))
    #expect(outcome.stderrLines.count == 3)
  }
}
