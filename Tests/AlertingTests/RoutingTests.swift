import Alerting
import Testing

/// Alertmanager's routing: the first matching child takes the alert, and
/// the next ones too while `continue` is set; no match, the node's own.
struct RoutingTests {
  func route() throws -> AlertRoute {
    AlertRoute(
      receiver: "default",
      routes: [
        AlertRoute(
          receiver: "pager", matchers: [try LabelMatcher(parsing: "severity=~critical|error")], continue: true),
        AlertRoute(receiver: "slack-db", matchers: [try LabelMatcher(parsing: "service=db")]),
        AlertRoute(
          receiver: "slack-api", matchers: [try LabelMatcher(parsing: "service=api")],
          routes: [AlertRoute(receiver: "api-oncall", matchers: [try LabelMatcher(parsing: "team=payments")])]),
      ])
  }

  func names(_ labels: [String: String]) throws -> [String] {
    try route().receivers(for: labels).map(\.receiver)
  }

  @Test func continueAndFirstMatch() throws {
    #expect(try names(["severity": "critical", "service": "db"]) == ["pager", "slack-db"])
    #expect(try names(["severity": "warning", "service": "db"]) == ["slack-db"])
    #expect(try names(["severity": "critical"]) == ["pager"])
    #expect(try names(["severity": "info", "service": "web"]) == ["default"])
    // A nested match goes deeper; a node whose children do not match keeps it.
    #expect(try names(["severity": "info", "service": "api", "team": "payments"]) == ["api-oncall"])
    #expect(try names(["severity": "info", "service": "api"]) == ["slack-api"])
  }
}

/// A critical "database down" mutes the warnings it causes on its cluster.
struct InhibitionTests {
  func alert(_ id: Int64, _ severity: Severity, _ labels: [String: String], status: AlertStatus = .firing) -> Alert {
    Alert(
      id: id, fingerprint: "f\(id)", severity: severity, status: status, summary: "s", labels: labels, source: "t",
      count: 1, firstSeen: .distantPast, lastSeen: .distantPast)
  }

  @Test func theSourceMutesMatchingTargetsWithEqualLabels() throws {
    let rule = InhibitRule(
      source: [try LabelMatcher(parsing: "alertname=DatabaseDown"), try LabelMatcher(parsing: "severity=critical")],
      target: [try LabelMatcher(parsing: "severity=warning")], equal: ["cluster"])
    let alerts = [
      alert(1, .critical, ["alertname": "DatabaseDown", "cluster": "eu"]),
      alert(2, .warning, ["alertname": "SlowQueries", "cluster": "eu"]),
      alert(3, .warning, ["alertname": "SlowQueries", "cluster": "us"]),
      alert(4, .error, ["alertname": "Errors", "cluster": "eu"]),
    ]
    #expect(InhibitRule.inhibited(alerts, rules: [rule]) == [2])
    // A resolved source mutes nothing.
    var resolved = alerts
    resolved[0].status = .resolved
    #expect(InhibitRule.inhibited(resolved, rules: [rule]).isEmpty)
    // An alert never inhibits itself.
    let selfRule = InhibitRule(
      source: [try LabelMatcher(parsing: "severity=warning")], target: [try LabelMatcher(parsing: "severity=warning")])
    #expect(InhibitRule.inhibited([alerts[1]], rules: [selfRule]).isEmpty)
  }
}

struct EscalationTests {
  @Test func levelsAreReachedByTheirDelaysAndTheLadderRepeats() {
    let policy = EscalationPolicy(
      name: "critical", matchers: [],
      levels: [.init(receivers: ["oncall"], after: .zero), .init(receivers: ["manager"], after: .seconds(900))],
      repeatCount: 1, repeatEvery: .seconds(3_600))
    #expect(policy.reached(after: .seconds(1)).map { "\($0.cycle).\($0.level)" } == ["0.0"])
    #expect(policy.reached(after: .seconds(900)).map { "\($0.cycle).\($0.level)" } == ["0.0", "0.1"])
    #expect(policy.reached(after: .seconds(3_600)).map { "\($0.cycle).\($0.level)" } == ["0.0", "0.1", "1.0"])
    #expect(policy.reached(after: .seconds(99_999)).count == 4)
  }
}

/// Alertmanager's group timers, with opsdeck's acknowledged state, on a
/// manual clock (milliseconds).
struct AlertGroupTests {
  let node = AlertRoute(
    receiver: "r", groupBy: ["alertname"], groupWait: .seconds(30), groupInterval: .seconds(300),
    repeatInterval: .seconds(3_600))
  let s = Int64(1_000)

  func group(started: Int64? = nil, sentAt: Int64? = nil, sent: [Int64: AlertStatus] = [:]) -> AlertGroup {
    AlertGroup(id: 1, receiver: "r", key: "k", labels: [:], startedAt: started, sentAt: sentAt, sent: sent, round: 1)
  }

  @Test func aNewGroupWaitsGroupWaitThenSendsEveryOpenMember() {
    let current: [Int64: AlertStatus] = [1: .firing, 2: .acknowledged]
    #expect(group().step(current: current, node: node, kind: .slack, now: 0) == .wait(startedAt: 0))
    #expect(group(started: 0).step(current: current, node: node, kind: .slack, now: 29 * s) == .wait(startedAt: 0))
    #expect(
      group(started: 0).step(current: current, node: node, kind: .slack, now: 30 * s)
        == .send(event: "trigger", members: current, ends: false))
    // Nothing firing: nothing starts.
    #expect(group().step(current: [2: .acknowledged], node: node, kind: .slack, now: 0) == .wait(startedAt: nil))
  }

  @Test func changesWaitForGroupIntervalAndRepeatsForRepeatInterval() {
    let sent = group(started: 0, sentAt: 30 * s, sent: [1: .firing])
    let joined: [Int64: AlertStatus] = [1: .firing, 3: .firing]
    #expect(sent.step(current: joined, node: node, kind: .slack, now: 329 * s) == .wait(startedAt: 0))
    #expect(
      sent.step(current: joined, node: node, kind: .slack, now: 330 * s)
        == .send(event: "trigger", members: joined, ends: false))
    // A member resolving is a change too, carried as resolved.
    let partly: [Int64: AlertStatus] = [1: .resolved, 3: .firing]
    let both = group(started: 0, sentAt: 30 * s, sent: [1: .firing, 3: .firing])
    #expect(
      both.step(current: partly, node: node, kind: .webhook, now: 330 * s)
        == .send(event: "trigger", members: partly, ends: false))
    // Unchanged: a repeat after repeat_interval, never to PagerDuty.
    #expect(sent.step(current: [1: .firing], node: node, kind: .slack, now: 3_629 * s) == .wait(startedAt: 0))
    #expect(
      sent.step(current: [1: .firing], node: node, kind: .slack, now: 3_630 * s)
        == .send(event: "trigger", members: [1: .firing], ends: false))
    #expect(sent.step(current: [1: .firing], node: node, kind: .pagerduty, now: 99_999 * s) == .wait(startedAt: 0))
  }

  @Test func acknowledgedMembersAreNotRepeatedAndPagerDutyHearsTheAck() {
    let sent = group(started: 0, sentAt: 30 * s, sent: [1: .firing, 2: .firing])
    let acked: [Int64: AlertStatus] = [1: .acknowledged, 2: .acknowledged]
    #expect(
      sent.step(current: acked, node: node, kind: .pagerduty, now: 31 * s)
        == .send(event: "acknowledge", members: acked, ends: false))
    #expect(sent.step(current: acked, node: node, kind: .slack, now: 99_999 * s) == .wait(startedAt: 0))
    // One still firing: no acknowledge.
    #expect(
      sent.step(current: [1: .acknowledged, 2: .firing], node: node, kind: .pagerduty, now: 31 * s)
        == .wait(startedAt: 0))
    // An ack that times out fires again: a change.
    let again = group(started: 0, sentAt: 30 * s, sent: acked)
    #expect(
      again.step(current: [1: .firing, 2: .acknowledged], node: node, kind: .pagerduty, now: 330 * s)
        == .send(event: "trigger", members: [1: .firing, 2: .acknowledged], ends: false))
  }

  @Test func theLastResolveIsSentAtOnceAndEndsTheEpisode() {
    let sent = group(started: 0, sentAt: 30 * s, sent: [1: .firing, 2: .acknowledged])
    let done: [Int64: AlertStatus] = [1: .resolved, 2: .resolved]
    #expect(
      sent.step(current: done, node: node, kind: .slack, now: 31 * s)
        == .send(event: "resolve", members: done, ends: true))
    // Members gone without resolving (silenced): the episode ends quietly.
    #expect(sent.step(current: [:], node: node, kind: .slack, now: 31 * s) == .wait(startedAt: nil))
  }

  @Test func groupKeysFollowTheNodeAndItsLabels() throws {
    let root = AlertRoute(
      receiver: "r", groupBy: ["alertname"],
      routes: [AlertRoute(matchers: [try LabelMatcher(parsing: "team=db")], groupBy: ["..."])])
    let a = root.receivers(for: ["alertname": "Down", "host": "a"])
    let b = root.receivers(for: ["alertname": "Down", "host": "b"])
    #expect(a[0].groupKey(["alertname": "Down", "host": "a"]) == b[0].groupKey(["alertname": "Down", "host": "b"]))
    #expect(a[0].groupKey(["alertname": "Down", "host": "a"]) == #"r/0:{alertname="Down"}"#)
    let db = root.receivers(for: ["alertname": "Down", "team": "db"])
    #expect(db[0].path == "0.0")
    #expect(db[0].groupLabels(["alertname": "Down", "team": "db"]) == ["alertname": "Down", "team": "db"])
  }
}
