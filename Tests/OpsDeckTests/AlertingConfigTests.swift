import Alerting
import OpsDeck
import Testing

struct AlertingConfigTests {
  let loader = ConfigLoader(environment: [:])

  /// Routes nest as deep as Alertmanager's; a child takes its parent's
  /// receiver, grouping and timers unless it sets its own.
  @Test func routesNestAndInheritGroupingAndTimers() throws {
    let config = try loader.load(
      text: """
        [[alerting.receivers]]
        name = "oncall"
        type = "webhook"
        url = "http://127.0.0.1:9/oncall"
        [[alerting.receivers]]
        name = "db"
        type = "webhook"
        url = "http://127.0.0.1:9/db"
        [alerting.route]
        receiver = "oncall"
        group_by = ["alertname"]
        group_interval = "10m"
        [[alerting.route.routes]]
        matchers = ["team=data"]
        group_wait = "5s"
        [[alerting.route.routes.routes]]
        matchers = ["service=db"]
        receiver = "db"
        [[alerting.route.routes.routes.routes]]
        matchers = ["severity=critical"]
        group_by = ["..."]
        """, file: "ops.toml")
    let route = try #require(config.route)
    let deepest = route.receivers(for: ["team": "data", "service": "db", "severity": "critical"])
    #expect(deepest.map(\.receiver) == ["db"])
    #expect(deepest.first?.path == "0.0.0.0")
    #expect(deepest.first?.node.groupBy == ["..."])
    #expect(deepest.first?.node.groupWait == .seconds(5))
    #expect(deepest.first?.node.groupInterval == .seconds(600))
    let middle = route.receivers(for: ["team": "data", "service": "db", "severity": "warning"])
    #expect(middle.first?.node.groupBy == ["alertname"])
    #expect(route.receivers(for: ["team": "web"]).first?.node.groupWait == .seconds(30))
  }

  @Test func aBadMatcherDeepInTheTreeIsNamedByItsPath() {
    do {
      _ = try loader.load(
        text: """
          [alerting.route]
          [[alerting.route.routes]]
          matchers = ["team=data"]
          [[alerting.route.routes.routes]]
          matchers = ["service~db"]
          """, file: "ops.toml")
      Issue.record("loaded")
    } catch {
      #expect(error.description.contains("alerting.route.routes[0].routes[0].matchers"), "\(error.description)")
    }
  }
}
