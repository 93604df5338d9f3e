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
    try workspace.write(
      "ops.toml",
      """
      [email]
      transport = "file"
      url = "file://\(workspace.path("mail"))"
      [lifecycle]
      templates = "\(LifecycleEmailTests.templates)"
      """)
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
