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
/// notifies its own receiver. Alerts a node takes are grouped by the values
/// of its `groupBy` labels (none: one group; `...`: every alert alone) and
/// each group is notified as one message.
public struct AlertRoute: Sendable, Equatable {
  public var receiver: String?
  public var matchers: [LabelMatcher]
  public var `continue`: Bool
  public var groupBy: [String]
  /// How long a new group waits for more alerts before its first message.
  public var groupWait: Duration
  /// How long a notified group waits before a message about its changes.
  public var groupInterval: Duration
  /// How long before an unchanged, still-firing group is notified again.
  public var repeatInterval: Duration
  public var routes: [AlertRoute]

  public init(
    receiver: String? = nil, matchers: [LabelMatcher] = [], continue: Bool = false, groupBy: [String] = [],
    groupWait: Duration = .seconds(30), groupInterval: Duration = .seconds(300),
    repeatInterval: Duration = .seconds(4 * 3600), routes: [AlertRoute] = []
  ) {
    self.receiver = receiver
    self.matchers = matchers
    self.continue = `continue`
    self.groupBy = groupBy
    self.groupWait = groupWait
    self.groupInterval = groupInterval
    self.repeatInterval = repeatInterval
    self.routes = routes
  }

  /// Where an alert goes: a receiver, the node that chose it (whose timers
  /// apply) and that node's place in the tree ("0", "0.2.1").
  public struct Match: Sendable {
    public var receiver: String
    public var node: AlertRoute
    public var path: String

    /// The labels this node groups by and their values for `labels`.
    public func groupLabels(_ labels: [String: String]) -> [String: String] {
      if node.groupBy.contains("...") { return labels }
      var chosen: [String: String] = [:]
      for name in node.groupBy { chosen[name] = labels[name] ?? "" }
      return chosen
    }

    /// The group's identity: receiver, node and group labels (Alertmanager
    /// writes `{}/{severity=~"critical"}:{alertname="X"}`; ours is as stable).
    public func groupKey(_ labels: [String: String]) -> String {
      let pairs = groupLabels(labels).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.debugDescription)" }
      return "\(receiver)/\(path):{\(pairs.joined(separator: ","))}"
    }
  }

  /// The receivers for an alert's labels (severity included as a label).
  public func receivers(for labels: [String: String]) -> [Match] {
    receivers(for: labels, inherited: nil, path: "0")
  }

  func receivers(for labels: [String: String], inherited: String?, path: String) -> [Match] {
    let own = receiver ?? inherited
    var chosen: [Match] = []
    var matched = false
    for (index, child) in routes.enumerated() where child.matchers.allSatisfy({ $0.matches(labels) }) {
      matched = true
      chosen += child.receivers(for: labels, inherited: own, path: "\(path).\(index)")
      if !child.continue { break }
    }
    if !matched, let own { chosen.append(Match(receiver: own, node: self, path: path)) }
    return chosen
  }
}
