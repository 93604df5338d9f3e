import Foundation
import Testing

/// Alerts routed to real local receivers: PagerDuty's Events API and
/// Slack's incoming webhook, played by the test HTTP server.
@Suite struct NotificationTests {
  func prepared(type: String, answer: String, backoff: String = "fixed:50ms", extra: String = "") throws -> (
    Workspace, HTTPReceiver, [String]
  ) {
    let workspace = try Workspace()
    let receiver = try HTTPReceiver(in: workspace)
    try receiver.answer(answer)
    try workspace.write(
      "ops.toml",
      """
      [alerting]
      notify_backoff = "\(backoff)"
      [[alerting.receivers]]
      name = "oncall"
      type = "\(type)"
      url = "\(receiver.base)/\(type)"
      routing_key = "R0UT1NGKEY"
      [alerting.route]
      receiver = "oncall"
      group_wait = "0s"
      \(extra.replacingOccurrences(of: "RECEIVER", with: receiver.base))
      """)
    let base = ["--db", workspace.path("ops.db"), "--config", workspace.path("ops.toml")]
    #expect(try workspace.opsdeck(base + ["init", "--no-config"]).status == 0)
    return (workspace, receiver, base)
  }

  /// alerts.watch plans; a worker on the alerts queue delivers.
  func watch(_ workspace: Workspace, _ base: [String]) throws {
    _ = try workspace.opsdeck(base + ["jobs", "add", "alerts", "alerts.watch"])
    _ = try workspace.opsdeck(base + ["work", "--until-empty", "--queue", "alerts"])
  }

  func bodies(_ receiver: HTTPReceiver) throws -> [[String: Any]] {
    try receiver.requests().map {
      try JSONSerialization.jsonObject(with: Data(($0["body"] as? String ?? "").utf8)) as? [String: Any] ?? [:]
    }
  }

  @Test func pagerDutyGetsTriggerAcknowledgeAndResolveFieldByField() throws {
    let (workspace, receiver, base) = try prepared(type: "pagerduty", answer: "202")
    let long = String(repeating: "x", count: 1_100)
    let id = try workspace.opsdeck(
      base + [
        "alerts", "raise", "--severity", "critical", "--summary", "payments API down " + long, "--label",
        "service=payments", "--runbook", "https://runbooks.example/payments",
      ]
    ).stdout.trimmingCharacters(in: .newlines)
    try watch(workspace, base)
    try watch(workspace, base)
    var sent = try bodies(receiver)
    #expect(sent.count == 1, "one trigger, however often the watcher looks")
    let trigger = try #require(sent.first)
    #expect(trigger["routing_key"] as? String == "R0UT1NGKEY")
    #expect(trigger["event_action"] as? String == "trigger")
    let dedup = try #require(trigger["dedup_key"] as? String)
    #expect(dedup.hasPrefix("opsdeck-"))
    let payload = try #require(trigger["payload"] as? [String: Any])
    #expect((payload["summary"] as? String)?.count == 1_024)
    #expect(payload["severity"] as? String == "critical")
    #expect(payload["source"] as? String == "cli")
    #expect((payload["custom_details"] as? [String: String])?["service"] == "payments")
    #expect(((trigger["links"] as? [[String: String]])?.first)?["href"] == "https://runbooks.example/payments")
    _ = try workspace.opsdeck(base + ["alerts", "ack", id])
    try watch(workspace, base)
    _ = try workspace.opsdeck(base + ["alerts", "resolve", id])
    try watch(workspace, base)
    sent = try bodies(receiver)
    #expect(sent.map { $0["event_action"] as? String } == ["trigger", "acknowledge", "resolve"])
    #expect(sent.allSatisfy { $0["dedup_key"] as? String == dedup })
    let trail = try workspace.opsdeck(base + ["alerts", "history", id]).stdout
    #expect(trail.contains("notified") && trail.contains("oncall trigger") && trail.contains("oncall resolve"))
  }

  @Test func aReceiverThatFailsThenAcceptsGetsExactlyOneDelivery() throws {
    let (workspace, receiver, base) = try prepared(type: "slack", answer: "500", backoff: "fixed:1s")
    _ = try workspace.opsdeck(
      base + ["alerts", "raise", "--severity", "error", "--summary", "webhooks failing", "--label", "endpoint=3"])
    _ = try workspace.opsdeck(base + ["jobs", "add", "alerts", "alerts.watch"])
    // The first try meets the 500; the retry, after the fixed backoff, the 202.
    let worker = try Programs.start(
      Programs.opsdeck, base + ["work", "--until-empty", "--queue", "alerts"], in: workspace.url)
    var waited = 0
    while try receiver.count() == 0 && waited < 200 {
      usleep(10_000)
      waited += 1
    }
    try receiver.answer("202")
    _ = try worker.wait(timeout: 30)
    try watch(workspace, base)
    let requests = try receiver.requests()
    #expect(requests.count == 2)
    let slack = try bodies(receiver).last ?? [:]
    #expect((slack["text"] as? String) == "🟠 ERROR: webhooks failing")
    let blocks = slack["blocks"] as? [[String: Any]] ?? []
    #expect(blocks.first?["type"] as? String == "header")
    let trail = try workspace.opsdeck(base + ["alerts", "history", "1"]).stdout
    #expect(trail.contains("notification_failed") && trail.contains("notified"))
  }

  @Test func aCriticalDatabaseDownMutesTheWarningsItCauses() throws {
    let (workspace, receiver, base) = try prepared(
      type: "webhook", answer: "200",
      extra: """
        [[alerting.inhibit_rules]]
        source_matchers = ["alertname=DatabaseDown", "severity=critical"]
        target_matchers = ["severity=warning"]
        equal = ["cluster"]
        """)
    let raise = base + ["alerts", "raise", "--label", "cluster=eu"]
    _ = try workspace.opsdeck(
      raise + ["--severity", "critical", "--summary", "db down", "--label", "alertname=DatabaseDown"])
    _ = try workspace.opsdeck(raise + ["--severity", "warning", "--summary", "slow queries"])
    _ = try workspace.opsdeck(
      base + ["alerts", "raise", "--severity", "warning", "--summary", "slow", "--label", "cluster=us"])
    try watch(workspace, base)
    // One group (no group_by): one message, without the muted warning.
    let sent = try bodies(receiver)
    #expect(sent.count == 1)
    let summaries = (sent.first?["alerts"] as? [[String: Any]] ?? []).compactMap { $0["summary"] as? String }
    #expect(summaries.sorted() == ["db down", "slow"])
    // The muted warning is still recorded, open.
    #expect(try workspace.opsdeck(base + ["alerts", "list"]).stdout.contains("slow queries"))
  }

  /// Unacknowledged, an alert climbs to the next level after its delay;
  /// acknowledged, it stops.
  @Test func anUnacknowledgedAlertEscalatesAndAnAckStopsIt() throws {
    let (workspace, receiver, base) = try prepared(
      type: "webhook", answer: "200",
      extra: """
        [[alerting.receivers]]
        name = "manager"
        type = "webhook"
        url = "RECEIVER/manager"
        [[alerting.escalation_policies]]
        name = "critical"
        matchers = ["severity=critical"]
        [[alerting.escalation_policies.levels]]
        receivers = ["manager"]
        after = "15m"
        """)
    let at = { (time: String) in ["--now", "2026-11-25T09:\(time):00Z"] }
    let first = try workspace.opsdeck(
      base + at("00") + ["alerts", "raise", "--severity", "critical", "--summary", "db down"]
    )
    .stdout.trimmingCharacters(in: .newlines)
    let second = try workspace.opsdeck(
      base + at("00") + ["alerts", "raise", "--severity", "critical", "--summary", "api down"]
    )
    .stdout.trimmingCharacters(in: .newlines)
    try watch(workspace, base + at("01"))
    _ = try workspace.opsdeck(base + at("05") + ["alerts", "ack", second])
    try watch(workspace, base + at("16"))
    let paths = try receiver.requests().compactMap { $0["path"] as? String }
    // Both in the route's one group: one message; the ack is no news to a webhook.
    #expect(paths.filter { $0 == "/webhook" }.count == 1)
    #expect(paths.filter { $0 == "/manager" }.count == 1, "\(paths)")
    let trail = try workspace.opsdeck(base + ["alerts", "history", first]).stdout
    #expect(trail.contains("escalated") && trail.contains("critical level 1: manager"))
    #expect(!(try workspace.opsdeck(base + ["alerts", "history", second]).stdout.contains("escalated")))
  }

  /// Alertmanager's grouping: one message per group_by value, alerts that
  /// join or resolve after group_interval, the group's resolve when all have.
  @Test func alertsAreGroupedByTheirLabelsAndNotifiedTogether() throws {
    let (workspace, receiver, base) = try prepared(
      type: "webhook", answer: "200", extra: "group_by = [\"alertname\"]\ngroup_interval = \"10m\"")
    let at = { (time: String) in ["--now", "2026-11-25T10:\(time):00Z"] }
    func raise(_ time: String, _ name: String, _ host: String) throws -> String {
      try workspace.opsdeck(
        base + at(time) + [
          "alerts", "raise", "--severity", "warning", "--summary", "\(name) on \(host)", "--label", "alertname=\(name)",
          "--label", "host=\(host)",
        ]
      ).stdout.trimmingCharacters(in: .newlines)
    }
    let a = try raise("00", "DiskFull", "a")
    let b = try raise("00", "DiskFull", "b")
    _ = try raise("00", "Down", "c")
    try watch(workspace, base + at("01"))
    var sent = try bodies(receiver)
    #expect(sent.count == 2)
    let disk = try #require(sent.first { ($0["group_labels"] as? [String: String])?["alertname"] == "DiskFull" })
    #expect((disk["alerts"] as? [[String: Any]])?.count == 2)
    #expect(disk["summary"] as? String == "[FIRING:2] alertname=DiskFull: DiskFull on a (+1 more)")
    // A third disk joins: no message before group_interval, then one with all three.
    _ = try raise("02", "DiskFull", "d")
    try watch(workspace, base + at("05"))
    #expect(try receiver.count() == 2)
    try watch(workspace, base + at("11"))
    sent = try bodies(receiver)
    #expect(sent.count == 3)
    #expect((sent.last?["alerts"] as? [[String: Any]])?.count == 3)
    // Resolving all of them: the group's resolve at once, listing each.
    _ = try workspace.opsdeck(base + at("12") + ["alerts", "resolve", a, b, "4"])
    try watch(workspace, base + at("12"))
    sent = try bodies(receiver)
    #expect(sent.count == 4)
    #expect(sent.last?["event"] as? String == "resolve")
    #expect(
      (sent.last?["alerts"] as? [[String: Any]])?.compactMap { $0["status"] as? String } == [
        "resolved", "resolved", "resolved",
      ])
    // Each alert's trail names the message it rode in.
    let trail = try workspace.opsdeck(base + ["alerts", "history", a]).stdout
    #expect(
      trail.contains("oncall trigger (with 1 more)") && trail.contains("oncall resolve (with 2 more)"), "\(trail)")
    // A new episode of the same group waits group_wait again and is a new message.
    _ = try raise("30", "DiskFull", "a")
    try watch(workspace, base + at("31"))
    #expect(try receiver.count() == 5)
  }

  @Test func aBadRouteIsOneLine() throws {
    let workspace = try Workspace()
    try workspace.write("ops.toml", "[alerting.route]\nreceiver = \"nobody\"\n")
    let outcome = try workspace.opsdeck(["--config", workspace.path("ops.toml"), "config", "check"])
    #expect(outcome.status == 2)
    #expect(outcome.stderr.contains("alerting.route.receiver: no receiver named 'nobody'"), "\(outcome.stderr)")
  }
}
