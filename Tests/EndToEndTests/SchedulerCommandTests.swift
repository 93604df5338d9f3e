import Foundation
import GRDB
import Testing

@Suite struct SchedulerCommandTests {
  func prepared() throws -> (Workspace, [String]) {
    let workspace = try Workspace()
    let base = ["--db", workspace.path("ops.db")]
    #expect(try workspace.opsdeck(base + ["init", "--no-config"]).status == 0)
    return (workspace, base)
  }

  @Test(arguments: [
    (
      ["jobs", "add", "q", "noop", "--delay", "5x"],
      "opsdeck: --delay: invalid duration '5x': unknown unit 'x' (expected a number and a unit: 250ms, 30s, 5m, 2h, 14d)"
    ),
    (["jobs", "add", "q", "noop", "--data", "{nope"], "opsdeck: --data: not valid JSON: {nope"),
    (["jobs", "add", "q", "noop", "--priority", "0"], "opsdeck: invalid priority 0: expected 1 (highest) to 2097152"),
    (
      ["jobs", "add", "q", "noop", "--backoff", "linear:1s"],
      "opsdeck: invalid backoff 'linear:1s': expected fixed:DUR or exponential:DUR[,jitter=F], such as exponential:1s,jitter=0.2"
    ),
    (
      ["jobs", "add", "q", "noop", "--job-id", "17"],
      "opsdeck: invalid job id '17': custom ids cannot be integers (those are opsdeck's own)"
    ),
    (
      ["jobs", "list", "--state", "stuck"],
      "opsdeck: --state: unknown state 'stuck' (expected waiting, delayed, active, completed or failed)"
    ),
    (["jobs", "show", "999"], "opsdeck: no job with id '999'"),
    (["jobs", "retry"], "opsdeck: expected a job id, or --queue QUEUE --failed"),
    (["schedules", "add", "x", "q", "noop"], "opsdeck: expected exactly one of --cron EXPR or --every DURATION"),
    (
      ["schedules", "add", "x", "q", "noop", "--cron", "0 0 31 2 *"],
      "opsdeck: cron expression '0 0 31 2 *' never fires"
    ),
    (
      ["schedules", "add", "x", "q", "noop", "--cron", "61 * * * *"],
      "opsdeck: invalid cron expression '61 * * * *': minute value 61 is out of range 0-59"
    ),
    (["cron", "next", "0 0 31 2 *"], "opsdeck: cron expression '0 0 31 2 *' never fires"),
    (
      ["cron", "next", "@daily", "--tz", "Mars/Base"],
      "opsdeck: unknown time zone 'Mars/Base' (expected an IANA name such as Europe/Berlin or UTC)"
    ),
    (
      ["queues", "clean", "q", "--state", "active", "--older-than", "1h"],
      "opsdeck: invalid state 'active': active jobs cannot be cleaned"
    ),
  ])
  func badInputIsOneLineAndExitTwoAndWritesNothing(arguments: [String], message: String) throws {
    let (workspace, base) = try prepared()
    let outcome = try workspace.opsdeck(base + arguments)
    #expect(outcome.status == 2)
    #expect(outcome.stderr == message + "\n")
    #expect(outcome.stdout.isEmpty)
    let jobs = try DatabaseQueue(path: workspace.path("ops.db")).read { db in
      try Int.fetchOne(db, sql: "SELECT count(*) FROM jobs") ?? -1
    }
    #expect(jobs == 0)
  }

  @Test func importIsAllOrNothingAndNamesTheBadLine() throws {
    let (workspace, base) = try prepared()
    try workspace.write(
      "jobs.jsonl",
      """
      {"name": "noop", "data": {"n": 1}}
      {"name": "noop", "opts": {"priority": 2, "attempts": 3, "backoff": "fixed:1s"}}

      {"name": "noop", "opts": {"delay": "soon"}}
      """)
    let bad = try workspace.opsdeck(base + ["jobs", "import", "q", "jobs.jsonl"])
    #expect(bad.status == 2)
    #expect(bad.stderr.hasPrefix("opsdeck: jobs.jsonl:4: option delay: invalid duration 'soon'"))
    let list = try workspace.opsdeck(base + ["jobs", "list", "--json"])
    #expect(list.stdout == "[]\n")
    try workspace.write("good.jsonl", "{\"name\": \"noop\"}\n{\"name\": \"noop\", \"opts\": {\"job_id\": \"a\"}}\n")
    #expect(try workspace.opsdeck(base + ["jobs", "import", "q", "good.jsonl"]).stdout == "2\n")
  }

  @Test func addShowRetryRemoveAndPromoteThroughTheCommandLine() throws {
    let (workspace, base) = try prepared()
    let delayed = try workspace.opsdeck(base + ["jobs", "add", "q", "noop", "--delay", "1h", "--json"])
    #expect(delayed.stdout == #"{"created":true,"id":"1"}"# + "\n")
    let again = try workspace.opsdeck(base + ["jobs", "add", "q", "noop", "--job-id", "inv-9"])
    #expect(again.stdout == "inv-9\n")
    let same = try workspace.opsdeck(base + ["jobs", "add", "q", "noop", "--job-id", "inv-9", "--json"])
    #expect(same.stdout == #"{"created":false,"id":"inv-9"}"# + "\n")
    let shown = try workspace.opsdeck(base + ["--now", "2030-01-01T00:00:00Z", "jobs", "show", "1", "--json"])
    let object = try JSONSerialization.jsonObject(with: Data(shown.stdout.utf8)) as? [String: Any]
    for key in [
      "id", "queue", "name", "state", "data", "priority", "attempts_made", "attempts", "failed_reason", "errors",
      "progress", "logs", "created_at", "processed_at", "finished_at", "run_at",
    ] {
      #expect(object?.keys.contains(key) == true, "jobs show --json lacks \(key)")
    }
    #expect(object?["state"] as? String == "delayed")
    #expect(try workspace.opsdeck(base + ["jobs", "promote", "1"]).stdout == "job 1 is waiting\n")
    let retry = try workspace.opsdeck(base + ["jobs", "retry", "1"])
    #expect(retry.status == 2)
    #expect(retry.stderr == "opsdeck: job 1 is waiting; only failed or completed jobs can be retried\n")
    #expect(try workspace.opsdeck(base + ["jobs", "remove", "inv-9"]).stdout == "removed job inv-9\n")
    let queues = try workspace.opsdeck(base + ["queues", "--json"])
    #expect(queues.stdout.contains(#""counts":{"active":0,"completed":0,"delayed":0,"failed":0,"waiting":1}"#))
  }

  /// Every change names the Unix user who made it; a refused change leaves
  /// no entry.
  @Test func operatorActionsAreAuditedWithTheUser() throws {
    let (workspace, base) = try prepared()
    let alice = ["USER": "alice", "SUDO_USER": ""]
    _ = try workspace.opsdeck(base + ["jobs", "add", "q", "noop", "--delay", "1h"])
    #expect(try workspace.opsdeck(base + ["jobs", "promote", "1"], environment: alice).status == 0)
    #expect(try workspace.opsdeck(base + ["jobs", "retry", "1"], environment: alice).status == 2)
    #expect(try workspace.opsdeck(base + ["queues", "pause", "q"], environment: ["SUDO_USER": "bob"]).status == 0)
    let audit = try workspace.opsdeck(base + ["audit", "--json"])
    let entries = try #require(try JSONSerialization.jsonObject(with: Data(audit.stdout.utf8)) as? [[String: Any]])
    #expect(entries.map { $0["action"] as? String } == ["queue.pause", "job.promote"])
    #expect(entries.map { $0["actor"] as? String } == ["bob", "alice"])
    #expect(entries.map { $0["target"] as? String } == ["queue:q", "job:1"])
    let shown = try workspace.opsdeck(base + ["jobs", "show", "1", "--json"])
    #expect(shown.stdout.contains(#""audit":[{"action":"job.promote","actor":"alice""#))
    let only = try workspace.opsdeck(base + ["audit", "--target", "queue:q"])
    #expect(only.stdout.split(separator: "\n").count == 2)
  }

  @Test func failedJobsAreRetriedFromTheCommandLine() throws {
    let (workspace, base) = try prepared()
    for _ in 0..<3 {
      _ = try workspace.opsdeck(base + ["jobs", "add", "mail", "exec", "--data", #"{"command": "false"}"#])
    }
    #expect(try workspace.opsdeck(base + ["work", "--until-empty"]).status == 0)
    let failed = try workspace.opsdeck(base + ["jobs", "list", "--queue", "mail", "--state", "failed", "--json"])
    let jobs = try JSONSerialization.jsonObject(with: Data(failed.stdout.utf8)) as? [[String: Any]]
    #expect(jobs?.count == 3)
    #expect(jobs?.first?["failed_reason"] as? String == "'false' exited with status 1")
    let retried = try workspace.opsdeck(base + ["jobs", "retry", "--queue", "mail", "--failed"])
    #expect(retried.stdout == "3 failed jobs of mail waiting again\n")
  }

  @Test func cronNextPrintsUTCTimes() throws {
    let workspace = try Workspace()
    let outcome = try workspace.opsdeck([
      "cron", "next", "30 2 * * *", "--tz", "Europe/Berlin", "--from", "2026-03-28T00:00:00Z", "--count", "3",
    ])
    #expect(outcome.stdout == "2026-03-28T01:30:00Z\n2026-03-29T01:00:00Z\n2026-03-30T00:30:00Z\n")
    let now = try workspace.opsdeck(["--now", "2026-01-01T10:07:00Z", "cron", "next", "*/15 * * * *", "--count", "2"])
    #expect(now.stdout == "2026-01-01T10:15:00Z\n2026-01-01T10:30:00Z\n")
  }

  @Test func queueControlsFromTheCommandLine() throws {
    let (workspace, base) = try prepared()
    _ = try workspace.opsdeck(base + ["jobs", "add-bulk", "q", "noop", "--count", "5"])
    #expect(try workspace.opsdeck(base + ["queues", "pause", "q"]).stdout == "paused q\n")
    #expect(try workspace.opsdeck(base + ["work", "--until-empty", "--queue", "q"]).status == 0)
    var queues = try workspace.opsdeck(base + ["queues", "--json"]).stdout
    #expect(queues.contains(#""paused":true"#))
    #expect(queues.contains(#""waiting":5"#))
    #expect(try workspace.opsdeck(base + ["queues", "rate-limit", "q", "--max", "2", "--per", "1s"]).status == 0)
    #expect(try workspace.opsdeck(base + ["queues", "resume", "q"]).status == 0)
    #expect(
      try workspace.opsdeck(base + ["queues", "drain", "q"]).stdout == "removed 5 waiting or delayed jobs from q\n")
    queues = try workspace.opsdeck(base + ["queues", "--json"]).stdout
    #expect(queues.contains(#""rate_limit":"2 per 1s""#))
    #expect(queues.contains(#""waiting":0"#))
  }
}
