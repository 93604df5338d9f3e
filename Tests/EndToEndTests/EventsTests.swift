import Foundation
import Testing

/// `events import` and `funnel` through the real binary.
@Suite struct EventsTests {
  func prepared() throws -> (Workspace, [String]) {
    let workspace = try Workspace()
    let base = ["--db", workspace.path("ops.db")]
    #expect(try workspace.opsdeck(base + ["init", "--no-config"]).status == 0)
    return (workspace, base)
  }

  let lines = """
    {"event":"signup","account_id":"acme","user_id":"ana","ts":"2026-01-01T00:00:00Z","properties":{"plan":"trial"},"event_id":"1"}
    {"event":"bank.connected","account_id":"acme","ts":"2026-01-01T00:00:10.250Z","event_id":"2"}
    {"event":"signup","account_id":"globex","ts":1767225600000,"properties":{"plan":"growth","note":"caf\\u00e9 \\"quoted\\""}}
    {"event":"signup","account_id":"acme","user_id":"ana","ts":"2026-01-01T00:00:00Z","event_id":"1"}

    """

  @Test func anImportIsAllOrNothingUnlessToldToSkip() throws {
    let (workspace, base) = try prepared()
    // Line 5 is blank (skipped), line 6 has no account.
    let bad = lines + "\n" + #"{"event":"bank.connected","ts":"2026-01-01T00:01:00Z"}"# + "\n"
    try workspace.write("bad.jsonl", bad)
    let refused = try workspace.opsdeck(base + ["events", "import", "bad.jsonl"])
    #expect(refused.status == 2)
    #expect(
      refused.stderr == "opsdeck: bad.jsonl:6: missing \"account_id\"; nothing was imported\n", "\(refused.stderr)")
    #expect(try scalar(workspace.path("ops.db"), "SELECT count(*) FROM analytics_events") == 0)
    let skipped = try workspace.opsdeck(base + ["events", "import", "-", "--skip-invalid"], stdin: bad)
    #expect(skipped.status == 0, "\(skipped.stderr)")
    #expect(skipped.stdout.hasPrefix("imported 3, skipped 1, 1 duplicate event ids ignored\n"), "\(skipped.stdout)")
    #expect(skipped.stdout.contains("line 6: missing \"account_id\""))
    #expect(try scalar(workspace.path("ops.db"), "SELECT count(*) FROM analytics_events") == 3)
    let funnel = try workspace.opsdeck(base + ["funnel", "--steps", "signup,bank.connected", "--json"])
    #expect(funnel.status == 0, "\(funnel.stderr)")
    let object = try JSONSerialization.jsonObject(with: Data(funnel.stdout.utf8)) as? [String: Any] ?? [:]
    let steps = object["steps"] as? [[String: Any]] ?? []
    #expect(steps.map { $0["count"] as? Int } == [2, 1])
    #expect(steps.last?["conversion_from_first"] as? Double == 0.5)
    #expect(steps.last?["conversion_from_previous"] as? Double == 0.5)
    #expect(steps.last?["median_time_to_convert_s"] as? Double == 10.25)
    #expect(steps.last?["mean_time_to_convert_s"] as? Double == 10.25)
    let keys = Set(steps.first.map { Array($0.keys) } ?? [])
    #expect(
      keys.isSuperset(of: [
        "event", "count", "conversion_from_first", "conversion_from_previous", "mean_time_to_convert_s",
        "median_time_to_convert_s",
      ]))
    let dropped = try workspace.opsdeck(base + ["funnel", "--steps", "signup,bank.connected", "--dropped-at", "2"])
    #expect(dropped.stdout == "globex\n")
    let badFunnel = try workspace.opsdeck(base + ["funnel", "--steps", "signup,bank.connected", "--exclude", "x:2"])
    #expect(badFunnel.status == 2 && badFunnel.stderr.contains("--exclude 'x:2'"))
  }

  /// The engines' own events: a trial started, an upgrade, an e-mail sent —
  /// copied into the event log by lifecycle.tick, once however often it runs.
  @Test func theEnginesRecordTheirOwnEvents() throws {
    let (workspace, base) = try prepared()
    let mail = ["--config", workspace.path("ops.toml")]
    try workspace.writeMaildirConfig()
    let at = { (time: String) in ["--now", "2026-03-02T\(time):00Z"] }
    _ = try workspace.opsdeck(base + mail + at("10:00") + ["accounts", "add", "acme", "--email", "ana@acme.test"])
    _ = try workspace.opsdeck(base + mail + at("10:01") + ["lifecycle", "tick"])
    _ = try workspace.opsdeck(base + mail + at("10:01") + ["work", "--until-empty", "--queue", "email"])
    _ = try workspace.opsdeck(base + mail + at("11:00") + ["accounts", "convert", "acme", "--plan", "growth"])
    for _ in 0..<2 { _ = try workspace.opsdeck(base + mail + at("11:01") + ["lifecycle", "tick"]) }
    let funnel = try workspace.opsdeck(
      base + mail + ["funnel", "--steps", "trial.started,email.sent,plan.upgraded", "--json"])
    let object = try JSONSerialization.jsonObject(with: Data(funnel.stdout.utf8)) as? [String: Any] ?? [:]
    let counts = (object["steps"] as? [[String: Any]] ?? []).map { $0["count"] as? Int }
    #expect(counts == [1, 1, 1], "\(funnel.stdout) \(funnel.stderr)")
    #expect(try scalar(workspace.path("ops.db"), "SELECT count(*) FROM analytics_events") == 3)
  }
}

/// 1 GB of JSON lines through a pipe: the import streams it, holding
/// a few megabytes of it at a time.
@Suite struct BigImportTests {
  @Test func aGigabyteOfInputIsStreamed() throws {
    let workspace = try Workspace()
    let base = ["--db", workspace.path("ops.db")]
    #expect(try workspace.opsdeck(base + ["init", "--no-config"]).status == 0)
    let fifo = workspace.path("events.pipe")
    #expect(mkfifo(fifo, 0o600) == 0)
    // The shell opens the pipe after the spawn has returned. A small Python
    // parent runs opsdeck and reports its peak memory: spawned from this
    // process, a child would report the test runner's as its own (Linux
    // keeps the high-water mark across vfork and exec).
    let measure = """
      import resource, subprocess, sys
      code = subprocess.call(sys.argv[1:])
      sys.stdout.flush()
      print("peak_kb %d" % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
      sys.exit(code)
      """
    let process = try Programs.start(
      "/bin/sh",
      ["-c", "exec python3 -c \"$MEASURE\" \"$0\" \"$@\" < \"$PIPE\"", Programs.opsdeck] + base + [
        "events", "import", "-",
      ], in: workspace.url, environment: ["PIPE": fifo, "MEASURE": measure])
    // One megabyte of lines: ordinary events, and every fourth line
    // carrying a 30 KB context object that is read and not stored.
    let filler = String(repeating: "z", count: 30_000)
    var chunk = ""
    var lines = 0
    while chunk.utf8.count < 1 << 20 {
      let context = lines % 4 == 0 ? #","context":{"trace":"\#(filler)"}"# : ""
      chunk +=
        #"{"event":"page.viewed","account_id":"acc\#(lines % 1_000)","ts":\#(1_767_225_600_000 + lines),"properties":{"path":"/p/\#(lines)"}\#(context)}"#
        + "\n"
      lines += 1
    }
    let bytes = Array(chunk.utf8)
    let writer = open(fifo, O_WRONLY)
    #expect(writer >= 0)
    var written = 0
    while written < 1 << 30 {
      let count = bytes.withUnsafeBytes { Foundation.write(writer, $0.baseAddress!, $0.count) }
      #expect(count == bytes.count)
      guard count == bytes.count else { break }
      written += count
    }
    close(writer)
    let outcome = try process.wait(timeout: 300)
    let repeats = written / bytes.count
    #expect(outcome.status == 0, "\(outcome.stderr)")
    #expect(outcome.stdout.hasPrefix("imported \(lines * repeats), skipped 0"), "\(outcome.stdout)")
    #expect(try scalar(workspace.path("ops.db"), "SELECT count(*) FROM analytics_events") == lines * repeats)
    // Its whole life, opsdeck held a small part of what it read: its own
    // code, SQLite's page cache (64 MB at most) and a 4 MB line buffer.
    let peak = outcome.stdout.split(separator: "\n").last { $0.hasPrefix("peak_kb ") }.flatMap { Int($0.dropFirst(8)) }
    #expect(peak != nil && peak! > 0 && peak! < 150_000, "\(outcome.stdout)")
  }
}
