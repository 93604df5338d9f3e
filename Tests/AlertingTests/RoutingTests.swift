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
