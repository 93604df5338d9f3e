import Foundation

/// An Alertmanager aggregation group as the outbox keeps it: the alerts one
/// routing node sends to one receiver with the same values of its
/// `group_by` labels, notified together. An episode starts when a member
/// fires and ends with the message that all its members resolved.
public struct AlertGroup: Sendable, Equatable {
  public var id: Int64?
  public var receiver: String
  public var key: String
  public var labels: [String: String]
  /// This episode's start (nil between episodes).
  public var startedAt: Int64?
  /// When its last message was planned.
  public var sentAt: Int64?
  /// The members of its last message, as they were notified.
  public var sent: [Int64: AlertStatus]
  /// Messages planned so far, over every episode.
  public var round: Int

  public init(
    id: Int64? = nil, receiver: String, key: String, labels: [String: String], startedAt: Int64? = nil,
    sentAt: Int64? = nil, sent: [Int64: AlertStatus] = [:], round: Int = 0
  ) {
    self.id = id
    self.receiver = receiver
    self.key = key
    self.labels = labels
    self.startedAt = startedAt
    self.sentAt = sentAt
    self.sent = sent
    self.round = round
  }

  /// What the planner does with a group on one look.
  public enum Step: Equatable, Sendable {
    /// Nothing to send; the group's episode starts (or goes on) at this time.
    case wait(startedAt: Int64?)
    /// A message with these members; `ends` closes the episode.
    case send(event: String, members: [Int64: AlertStatus], ends: Bool)
  }

  /// Alertmanager's timers, with opsdeck's acknowledged state: the first
  /// message `groupWait` after the episode starts; then one per
  /// `groupInterval` while alerts join the group or leave it resolved; a
  /// repeat each `repeatInterval` while anything is still firing (not to
  /// PagerDuty, whose incident stays open by itself). Acknowledged alerts
  /// are not repeated; when every member is acknowledged PagerDuty hears
  /// `acknowledge`, and when every member has resolved the group says
  /// `resolve` at once — those two are an operator's doing, not noise.
  ///
  /// `current` holds the open members (firing or acknowledged) and the
  /// members of the last message that have resolved since.
  public func step(current: [Int64: AlertStatus], node: AlertRoute, kind: AlertReceiver.Kind, now: Int64) -> Step {
    let firing = current.filter { $0.value == .firing }
    let open = current.filter { $0.value != .resolved }
    guard let started = startedAt ?? (firing.isEmpty ? nil : now) else { return .wait(startedAt: nil) }
    if sent.isEmpty {
      if firing.isEmpty { return .wait(startedAt: open.isEmpty ? nil : started) }
      guard now - started >= node.groupWait.milliseconds else { return .wait(startedAt: started) }
      return .send(event: "trigger", members: open, ends: false)
    }
    if current.isEmpty { return .wait(startedAt: nil) }
    if open.isEmpty { return .send(event: "resolve", members: current, ends: true) }
    if firing.isEmpty {
      let wasFiring = sent.values.contains(.firing)
      return kind == .pagerduty && wasFiring
        ? .send(event: "acknowledge", members: current, ends: false) : .wait(startedAt: started)
    }
    let since = now - (sentAt ?? started)
    let changed =
      firing.keys.contains { sent[$0] != .firing }
      || current.contains { $0.value == .resolved && sent[$0.key] != .resolved }
    if changed && since >= node.groupInterval.milliseconds
      || kind != .pagerduty && since >= node.repeatInterval.milliseconds
    {
      return .send(event: "trigger", members: current, ends: false)
    }
    return .wait(startedAt: started)
  }
}

/// One message: a group's alerts (with the status each is notified as), or
/// a single alert an escalation level sends.
public struct AlertMessage: Sendable {
  public var event: String
  public var groupKey: String
  public var groupLabels: [String: String]
  public var alerts: [Alert]

  public init(event: String, groupKey: String, groupLabels: [String: String], alerts: [Alert]) {
    self.event = event
    self.groupKey = groupKey
    self.groupLabels = groupLabels
    self.alerts = alerts.sorted { ($0.severity.rank, $0.firstSeen, $0.id) < ($1.severity.rank, $1.firstSeen, $1.id) }
  }

  public var firing: [Alert] { alerts.filter { $0.status == .firing } }

  /// The alert the message leads with: the most severe firing one (the
  /// most severe of all when none fires).
  public var lead: Alert? { firing.first ?? alerts.first }

  /// The stable key PagerDuty dedups on: one incident per group.
  public var dedupKey: String { "opsdeck-" + Fingerprint.of(["group": groupKey]) }

  /// One alert: its summary. Several: Alertmanager's `[FIRING:n]` and the
  /// group's labels before the lead's summary.
  public var title: String {
    guard let lead else { return groupKey }
    if alerts.count == 1 { return lead.summary }
    let count = event == "resolve" ? "RESOLVED:\(alerts.count)" : "FIRING:\(firing.count)"
    let labels = groupLabels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
    return "[\(count)] \(labels.isEmpty ? "" : labels + ": ")\(lead.summary) (+\(alerts.count - 1) more)"
  }
}
