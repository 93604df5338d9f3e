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
    try route().receivers(for: labels).map(\.0)
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
