import Foundation
import Testing

/// The alerts command line, through the real binary.
@Suite struct AlertsTests {
  func prepared() throws -> (Workspace, [String]) {
    let workspace = try Workspace()
    let base = ["--db", workspace.path("ops.db")]
    #expect(try workspace.opsdeck(base + ["init", "--no-config"]).status == 0)
    return (workspace, base)
  }

  func json(_ outcome: Outcome) throws -> [[String: Any]] {
    try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [[String: Any]] ?? []
  }

  @Test func raiseRepeatAckAndTheTrailNamesTheUser() throws {
    let (workspace, base) = try prepared()
    let ana = ["USER": "ana", "SUDO_USER": ""]
    let raise =
      base + ["alerts", "raise", "--severity", "critical", "--summary", "backups failed", "--label", "service=db"]
    #expect(try workspace.opsdeck(raise).stdout == "1\n")
    #expect(try workspace.opsdeck(raise).stdout == "1\n")
    #expect(
      try workspace.opsdeck(base + ["alerts", "raise", "--severity", "warning", "--summary", "disk 85%"]).stdout
        == "2\n")
    let listed = try json(try workspace.opsdeck(base + ["alerts", "list", "--json"]))
    #expect(listed.map { $0["id"] as? Int } == [1, 2])
    for key in [
      "id", "fingerprint", "severity", "status", "summary", "labels", "source", "count", "first_seen", "last_seen",
      "acknowledged_by", "acknowledged_at",
    ] {
      #expect(listed.first?.keys.contains(key) == true, "alerts list --json lacks \(key)")
    }
    #expect(listed.first?["count"] as? Int == 2)
    #expect(
      try workspace.opsdeck(base + ["alerts", "ack", "1", "--note", "on it"], environment: ana).stdout
        == "acknowledged 1\n")
    let trail = try json(try workspace.opsdeck(base + ["alerts", "history", "1", "--json"]))
    #expect(trail.map { $0["kind"] as? String } == ["raised", "repeated", "acknowledged"])
    #expect(trail.last?["actor"] as? String == "ana")
    #expect(trail.last?["note"] as? String == "on it")
    let acked = try json(try workspace.opsdeck(base + ["alerts", "list", "--status", "acknowledged", "--json"]))
    #expect(acked.first?["acknowledged_by"] as? String == "ana")
    // All or nothing: 2 can be resolved, 9 does not exist, so neither is.
    let mixed = try workspace.opsdeck(base + ["alerts", "resolve", "2", "9"])
    #expect(mixed.status == 2)
    #expect(mixed.stderr == "opsdeck: no alert 9\n")
    #expect(try json(try workspace.opsdeck(base + ["alerts", "list", "--status", "firing", "--json"])).count == 1)
  }

  @Test func silencesAndAnAlertmanagerPayload() throws {
    let (workspace, base) = try prepared()
    try workspace.write(
      "am.json",
      """
      {"version": "4", "status": "firing", "receiver": "opsdeck", "groupLabels": {}, "commonLabels": {},
       "commonAnnotations": {}, "externalURL": "http://am:9093", "someNewField": [1, 2],
       "alerts": [{"status": "firing", "labels": {"alertname": "HighLatency", "severity": "warning", "service": "api"},
                   "annotations": {"summary": "p99 over 2s"}, "startsAt": "2026-01-01T00:00:00Z"}]}
      """)
    let ingested = try workspace.opsdeck(base + ["alerts", "ingest", "--format", "alertmanager", "am.json"])
    #expect(ingested.stdout == "1 opened, 0 repeated, 0 resolved\n", "\(ingested.stderr)")
    let silence = try workspace.opsdeck(
      base + [
        "alerts", "silence", "--match", "service=api", "--match", "severity=~warning|info", "--for", "2h",
        "--comment", "deploy",
      ])
    #expect(silence.stdout == "1\n")
    let silenced = try json(try workspace.opsdeck(base + ["alerts", "list", "--status", "silenced", "--json"]))
    #expect(silenced.map { $0["summary"] as? String } == ["p99 over 2s"])
    let silences = try json(try workspace.opsdeck(base + ["alerts", "silences", "--json"]))
    #expect(silences.first?["state"] as? String == "active")
    #expect(try workspace.opsdeck(base + ["alerts", "expire-silence", "1"]).status == 0)
    #expect(try json(try workspace.opsdeck(base + ["alerts", "list", "--status", "silenced", "--json"])).isEmpty)
    let piped = try workspace.opsdeck(
      base + ["alerts", "ingest", "--format", "alertmanager", "-"], stdin: "{\"version\": \"3\", \"alerts\": []}")
    #expect(piped.status == 2)
    #expect(piped.stderr == "opsdeck: Alertmanager payload version 3: expected 4\n")
  }

  /// alerts.watch raises an alert per engine condition and resolves it when
  /// the condition clears: an open breaker, a queue's backlog.
  @Test func theEnginesRaiseAndResolveTheirOwnAlerts() throws {
    let workspace = try Workspace()
    let receiver = try HTTPReceiver(in: workspace)
    try workspace.write(
      "ops.toml",
      """
      [alerting]
      backlog_threshold = 3
      [dependencies.bank]
      url = "\(receiver.base)/health"
      [dependencies.bank.breaker]
      window_size = 2
      minimum_calls = 2
      """)
    let base = ["--db", workspace.path("ops.db"), "--config", workspace.path("ops.toml")]
    #expect(try workspace.opsdeck(base + ["init", "--no-config"]).status == 0)
    try receiver.answer("500")
    _ = try workspace.opsdeck(base + ["probe", "bank", "--count", "2"])
    for _ in 0..<3 { _ = try workspace.opsdeck(base + ["jobs", "add", "reports", "noop"]) }
    _ = try workspace.opsdeck(base + ["queues", "pause", "reports"])
    func watch() throws {
      _ = try workspace.opsdeck(base + ["jobs", "add", "alerts", "alerts.watch"])
      #expect(try workspace.opsdeck(base + ["work", "--until-empty", "--queue", "alerts"]).status == 0)
    }
    try watch()
    let open = try json(try workspace.opsdeck(base + ["alerts", "list", "--json"]))
    #expect(
      Set(open.compactMap { $0["summary"] as? String }) == ["breaker bank is open", "queue reports backlog: 3 waiting"])
    let breaker = try #require(open.first { ($0["summary"] as? String) == "breaker bank is open" })
    #expect(breaker["severity"] as? String == "error")
    #expect(breaker["source"] as? String == "breakers")
    try watch()
    #expect(
      try json(try workspace.opsdeck(base + ["alerts", "list", "--json"])).allSatisfy { $0["count"] as? Int == 2 })
    #expect(try workspace.opsdeck(base + ["breakers", "reset", "bank"]).status == 0)
    _ = try workspace.opsdeck(base + ["queues", "drain", "reports"])
    try watch()
    #expect(try json(try workspace.opsdeck(base + ["alerts", "list", "--json"])).isEmpty)
    let trail = try json(
      try workspace.opsdeck(base + ["alerts", "history", "\(breaker["id"] as? Int ?? 0)", "--json"]))
    #expect(trail.last?["note"] as? String == "the condition cleared")
  }

  /// A job out of attempts, and an account at its hard quota: alerted,
  /// and resolved when a retry succeeds or the plan changes.
  @Test func aFinalFailureAndAHardQuotaAreAlerted() throws {
    let (workspace, base) = try prepared()
    func watch() throws {
      _ = try workspace.opsdeck(base + ["jobs", "add", "alerts", "alerts.watch"])
      #expect(try workspace.opsdeck(base + ["work", "--until-empty", "--queue", "alerts"]).status == 0)
    }
    let job = try workspace.opsdeck(
      base + ["jobs", "add", "reports", "exec", "--data", #"{"command": "exit 3"}"#, "--attempts", "1"]
    ).stdout.trimmingCharacters(in: .newlines)
    _ = try workspace.opsdeck(base + ["work", "--until-empty", "--queue", "reports"])
    _ = try workspace.opsdeck(base + ["accounts", "add", "acme", "--email", "ana@acme.test"])
    _ = try workspace.opsdeck(base + ["usage", "record", "acme", "bank_accounts", "2"])
    try watch()
    let open = try json(try workspace.opsdeck(base + ["alerts", "list", "--json"]))
    let summaries = Set(open.compactMap { $0["summary"] as? String })
    #expect(summaries.contains("job exec on reports failed its last attempt"), "\(summaries)")
    #expect(summaries.contains("account acme reached its hard quota of bank_accounts: 2 of 2"), "\(summaries)")
    let quota = try #require(open.first { ($0["source"] as? String) == "lifecycle" })
    #expect((quota["labels"] as? [String: String])?["alertname"] == "HardQuotaExceeded")
    // The fix: the job is retried (and removed), the account upgraded.
    _ = try workspace.opsdeck(base + ["jobs", "remove", job])
    _ = try workspace.opsdeck(base + ["accounts", "convert", "acme", "--plan", "growth"])
    try watch()
    #expect(try json(try workspace.opsdeck(base + ["alerts", "list", "--json"])).isEmpty)
  }
}
