import Foundation

/// Where notifications go (`[[alerting.receivers]]`).
public struct AlertReceiver: Sendable, Equatable {
  public enum Kind: String, Sendable, CaseIterable { case pagerduty, slack, email, webhook }
  public var name: String
  public var kind: Kind
  /// PagerDuty's Events API, Slack's incoming webhook, or any URL (webhook).
  public var url: String?
  public var routingKey: String?
  /// E-mail recipients.
  public var to: [String]

  public init(name: String, kind: Kind, url: String? = nil, routingKey: String? = nil, to: [String] = []) {
    self.name = name
    self.kind = kind
    self.url = url
    self.routingKey = routingKey
    self.to = to
  }

  /// The URL a kind posts to when none is set.
  public var endpoint: String? {
    url ?? (kind == .pagerduty ? "https://events.pagerduty.com/v2/enqueue" : nil)
  }
}

/// A node of the routing tree (`[alerting.route]` and its `routes`), as in
/// Alertmanager: an alert goes down the first child whose matchers it
/// matches (and on to the next with `continue`); a node no child takes
/// notifies its own receiver.
public struct AlertRoute: Sendable, Equatable {
  public var receiver: String?
  public var matchers: [LabelMatcher]
  public var `continue`: Bool
  public var groupWait: Duration
  public var repeatInterval: Duration
  public var routes: [AlertRoute]

  public init(
    receiver: String? = nil, matchers: [LabelMatcher] = [], continue: Bool = false, groupWait: Duration = .seconds(30),
    repeatInterval: Duration = .seconds(4 * 3600), routes: [AlertRoute] = []
  ) {
    self.receiver = receiver
    self.matchers = matchers
    self.continue = `continue`
    self.groupWait = groupWait
    self.repeatInterval = repeatInterval
    self.routes = routes
  }

  /// The receivers (with the timers of the node that chose each) for an
  /// alert's labels (severity included as a label).
  public func receivers(for labels: [String: String], inherited: String? = nil) -> [(String, AlertRoute)] {
    let own = receiver ?? inherited
    var chosen: [(String, AlertRoute)] = []
    var matched = false
    for child in routes where child.matchers.allSatisfy({ $0.matches(labels) }) {
      matched = true
      chosen += child.receivers(for: labels, inherited: own)
      if !child.continue { break }
    }
    if !matched, let own { chosen.append((own, self)) }
    return chosen
  }
}
