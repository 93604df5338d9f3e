import Foundation
import GRDB
import Testing

/// The Scheduler with real processes: several workers on one file, a worker
/// killed with SIGKILL, graceful stops.
@Suite struct SchedulerProcessTests {
  func processedCount(_ stderr: String) -> Int {
    guard let range = stderr.range(of: #"worker stopped processed=(\d+)"#, options: .regularExpression) else {
      return -1
    }
    return Int(stderr[range].split(separator: "=").last ?? "") ?? -1
  }

  @Test func twoWorkersCompleteTenThousandJobsWithNoneRunTwice() throws {
    let workspace = try Workspace()
    let db = workspace.path("ops.db")
    #expect(try workspace.opsdeck(["--db", db, "init", "--no-config"]).status == 0)
    let added = try workspace.opsdeck(["--db", db, "jobs", "add-bulk", "load", "noop", "--count", "10000"])
    #expect(added.stdout == "10000\n")
    let workers = try (0..<2).map { _ in
      try Programs.start(
        Programs.opsdeck, ["--db", db, "work", "--queue", "load", "--until-empty", "--concurrency", "50"],
        in: workspace.url)
    }
    let outcomes = try workers.map { try $0.wait() }
    for outcome in outcomes { #expect(outcome.status == 0, "\(outcome.stderr)") }
    let processed = outcomes.map { processedCount($0.stderr) }
    #expect(processed.allSatisfy { $0 >= 0 })
    #expect(processed.reduce(0, +) == 10_000, "each attempt ran once: \(processed)")
    #expect(try scalar(db, "SELECT count(*) FROM jobs WHERE state = 3 AND attempts_made = 1") == 10_000)
    #expect(try scalar(db, "SELECT count(*) FROM job_errors") == 0)
    #expect(try scalar(db, "SELECT completed FROM queues WHERE name = 'load'") == 10_000)
  }

  @Test func aWorkerKilledMidJobLosesNothing() throws {
    let workspace = try Workspace()
    let db = workspace.path("ops.db")
    try workspace.write("ops.toml", "[scheduler]\nstalled_interval = \"300ms\"\nlock_duration = \"1s\"\n")
    let base = ["--db", db, "--config", "ops.toml"]
    #expect(try workspace.opsdeck(base + ["init"]).status == 0)
    let lines = (0..<12).map { index in
      #"{"name": "exec", "data": {"command": "sh", "args": ["-c", "sleep 0.3"]}, "opts": {"job_id": "slow-\#(index)"}}"#
    }
    #expect(
      try workspace.opsdeck(base + ["jobs", "import", "slow", "-"], stdin: lines.joined(separator: "\n")).stdout
        == "12\n")
    let doomed = try Programs.start(Programs.opsdeck, base + ["work", "--concurrency", "4"], in: workspace.url)
    var active = 0
    for _ in 0..<400 where active == 0 {
      usleep(10_000)
      active = (try? scalar(db, "SELECT count(*) FROM jobs WHERE state = 2")) ?? 0
    }
    #expect(active > 0)
    kill(doomed.pid, SIGKILL)
    _ = try doomed.wait()
    let survivor = try workspace.opsdeck(base + ["work", "--until-empty", "--concurrency", "4"])
    #expect(survivor.status == 0, "\(survivor.stderr)")
    #expect(try scalar(db, "SELECT count(*) FROM jobs WHERE state = 3") == 12)
    #expect(try scalar(db, "SELECT count(*) FROM jobs WHERE stalled_count = 1") >= 1)
    #expect(survivor.stderr.contains("stalled job returned to waiting"))
  }

  @Test func sigtermLetsRunningJobsFinishWithinTheGrace() throws {
    let workspace = try Workspace()
    let db = workspace.path("ops.db")
    #expect(try workspace.opsdeck(["--db", db, "init", "--no-config"]).status == 0)
    for _ in 0..<2 {
      _ = try workspace.opsdeck(["--db", db, "jobs", "add", "q", "sleep", "--data", #"{"ms": 400}"#])
    }
    let worker = try Programs.start(Programs.opsdeck, ["--db", db, "work", "--grace", "10s"], in: workspace.url)
    for _ in 0..<400 where ((try? scalar(db, "SELECT count(*) FROM jobs WHERE state = 2")) ?? 0) < 2 { usleep(5_000) }
    kill(worker.pid, SIGTERM)
    let outcome = try worker.wait()
    #expect(outcome.status == 0, "\(outcome.stderr)")
    #expect(try scalar(db, "SELECT count(*) FROM jobs WHERE state = 3") == 2)
  }

  @Test func pastTheGraceRunningJobsAreReleasedForAnotherWorker() throws {
    let workspace = try Workspace()
    let db = workspace.path("ops.db")
    #expect(try workspace.opsdeck(["--db", db, "init", "--no-config"]).status == 0)
    _ = try workspace.opsdeck(["--db", db, "jobs", "add", "q", "sleep", "--data", #"{"ms": 30000}"#])
    let worker = try Programs.start(Programs.opsdeck, ["--db", db, "work", "--grace", "100ms"], in: workspace.url)
    for _ in 0..<400 where ((try? scalar(db, "SELECT count(*) FROM jobs WHERE state = 2")) ?? 0) < 1 { usleep(5_000) }
    kill(worker.pid, SIGINT)
    let outcome = try worker.wait()
    #expect(outcome.status == 0, "\(outcome.stderr)")
    #expect(outcome.stderr.contains("released unfinished jobs count=1"))
    #expect(
      try scalar(db, "SELECT count(*) FROM jobs WHERE state = 0 AND stalled_count = 0 AND attempts_made = 0") == 1)
  }

  @Test func aJobAddedByAnotherProcessIsPickedUp() throws {
    let workspace = try Workspace()
    let db = workspace.path("ops.db")
    #expect(try workspace.opsdeck(["--db", db, "init", "--no-config"]).status == 0)
    let worker = try Programs.start(Programs.opsdeck, ["--db", db, "work", "--queue", "q"], in: workspace.url)
    defer { kill(worker.pid, SIGKILL) }
    usleep(200_000)
    let id = try workspace.opsdeck(["--db", db, "jobs", "add", "q", "noop"]).stdout.trimmingCharacters(in: .newlines)
    var state = ""
    for _ in 0..<500 where state != "completed" {
      usleep(10_000)
      let shown = try workspace.opsdeck(["--db", db, "jobs", "show", id, "--json"])
      state = (try? jsonField(shown.stdout, "state")) ?? ""
    }
    #expect(state == "completed")
  }

  @Test func schedulesRunThroughTheWorker() throws {
    let workspace = try Workspace()
    let db = workspace.path("ops.db")
    #expect(try workspace.opsdeck(["--db", db, "init", "--no-config"]).status == 0)
    let add = try workspace.opsdeck([
      "--db", db, "schedules", "add", "beat", "q", "noop", "--every", "200ms", "--limit", "3",
    ])
    #expect(add.status == 0, "\(add.stderr)")
    let worker = try Programs.start(Programs.opsdeck, ["--db", db, "work"], in: workspace.url)
    defer { kill(worker.pid, SIGKILL) }
    var completed = 0
    for _ in 0..<500 where completed < 3 {
      usleep(10_000)
      completed = (try? scalar(db, "SELECT count(*) FROM jobs WHERE state = 3 AND schedule_id = 'beat'")) ?? 0
    }
    #expect(completed == 3)
    let list = try workspace.opsdeck(["--db", db, "schedules", "list", "--json"])
    #expect(list.stdout.contains(#""fired":3"#))
    #expect(list.stdout.contains(#""next_run_at":null"#))
  }
}

@Suite struct HandlerProcessTests {
  @Test func anAttemptLongerThanItsTimeoutFails() throws {
    let workspace = try Workspace()
    let db = workspace.path("ops.db")
    #expect(try workspace.opsdeck(["--db", db, "init", "--no-config"]).status == 0)
    let id = try workspace.opsdeck([
      "--db", db, "jobs", "add", "q", "exec", "--timeout", "300ms", "--data",
      #"{"command": "sleep", "args": ["30"]}"#,
    ]).stdout.trimmingCharacters(in: .newlines)
    let outcome = try workspace.opsdeck(["--db", db, "work", "--until-empty"])
    #expect(outcome.status == 0)
    let shown = try workspace.opsdeck(["--db", db, "jobs", "show", id, "--json"])
    #expect(try jsonField(shown.stdout, "state") == "failed")
    #expect(try jsonField(shown.stdout, "failed_reason") == "job timed out after 300ms")
    let own = try workspace.opsdeck([
      "--db", db, "jobs", "add", "q", "exec", "--data", #"{"command": "sleep", "args": ["30"], "timeout": "200ms"}"#,
    ]).stdout.trimmingCharacters(in: .newlines)
    #expect(try workspace.opsdeck(["--db", db, "work", "--until-empty"]).status == 0)
    let killed = try workspace.opsdeck(["--db", db, "jobs", "show", own, "--json"])
    #expect(try jsonField(killed.stdout, "failed_reason") == "'sleep' timed out after 200ms")
  }

  @Test func leasesAreRenewedWhileALongJobRuns() throws {
    let workspace = try Workspace()
    let db = workspace.path("ops.db")
    try workspace.write("ops.toml", "[scheduler]\nstalled_interval = \"100ms\"\n")
    let base = ["--db", db, "--config", "ops.toml"]
    #expect(try workspace.opsdeck(base + ["init"]).status == 0)
    _ = try workspace.opsdeck(base + ["jobs", "add", "q", "sleep", "--data", #"{"ms": 1500}"#])
    let outcome = try workspace.opsdeck(base + ["work", "--until-empty", "--lock-duration", "400ms"])
    #expect(outcome.status == 0, "\(outcome.stderr)")
    #expect(!outcome.stderr.contains("stalled"))
    #expect(try scalar(db, "SELECT count(*) FROM jobs WHERE state = 3 AND stalled_count = 0") == 1)
  }

  @Test func execRunsWithoutAShellAndSeesItsJob() throws {
    let workspace = try Workspace()
    let db = workspace.path("ops.db")
    #expect(try workspace.opsdeck(["--db", db, "init", "--no-config"]).status == 0)
    let id = try workspace.opsdeck([
      "--db", db, "jobs", "add", "reports", "exec", "--job-id", "report-7", "--data",
      #"{"command": "sh", "args": ["-c", "echo $OPSDECK_JOB_ID $OPSDECK_JOB_QUEUE $OPSDECK_JOB_ATTEMPT; echo '$HOME;'"]}"#,
    ]).stdout.trimmingCharacters(in: .newlines)
    #expect(try workspace.opsdeck(["--db", db, "work", "--until-empty"]).status == 0)
    let shown = try workspace.opsdeck(["--db", db, "jobs", "show", id, "--json"])
    #expect(
      try jsonField(shown.stdout, "return_value") == "report-7 reports 1\n$HOME;", "\(shown.stdout) \(shown.stderr)")
    let missing = try workspace.opsdeck([
      "--db", db, "jobs", "add", "reports", "exec", "--data", #"{"command": "/no/such/program"}"#,
    ]).stdout.trimmingCharacters(in: .newlines)
    #expect(try workspace.opsdeck(["--db", db, "work", "--until-empty"]).status == 0)
    let failed = try workspace.opsdeck(["--db", db, "jobs", "show", missing, "--json"])
    #expect(try jsonField(failed.stdout, "failed_reason")?.hasPrefix("cannot run '/no/such/program'") == true)
  }

  @Test func anUnknownJobNameFailsWithTheKnownHandlers() throws {
    let workspace = try Workspace()
    let db = workspace.path("ops.db")
    #expect(try workspace.opsdeck(["--db", db, "init", "--no-config"]).status == 0)
    let id = try workspace.opsdeck(["--db", db, "jobs", "add", "q", "frobnicate"]).stdout
      .trimmingCharacters(in: .newlines)
    #expect(try workspace.opsdeck(["--db", db, "work", "--until-empty"]).status == 0)
    let shown = try workspace.opsdeck(["--db", db, "jobs", "show", id, "--json"])
    #expect(
      try jsonField(shown.stdout, "failed_reason")
        == "no handler registered for job name 'frobnicate' (known: alert.notify, alerts.watch, email.send, exec, fx.sync, health.check, lifecycle.tick, noop, sleep, webhook.deliver)"
    )
  }
}
