import Delivery
import Foundation
import GRDB
import Resilience
import Scheduler
import Storage

/// One row of the outbox, as the alert's view lists it.
public struct AlertNotification: Sendable, Equatable {
  public var id: Int64
  public var alertID: Int64
  public var receiver: String
  public var event: String
  public var round: Int
  public var state: String
  public var attempts: Int
  public var lastError: String?
  public var sentAt: Date?
}

/// Turns alerts into notifications: `plan()` (run by alerts.watch) routes
/// every open alert that is neither silenced nor snoozed and writes the
/// outbox rows that are due — a trigger after the route's group_wait, a
/// repeat after repeat_interval, PagerDuty's acknowledge, a resolve — each
/// once, and enqueues an `alert.notify` job per row; `deliver` sends one
/// row through the receiver's breaker.
public struct AlertNotifier: Sendable {
  public static let jobName = "alert.notify"
  public let alerts: AlertStore
  public let jobs: JobStore
  public let receivers: [String: AlertReceiver]
  public let route: AlertRoute?
  public let registry: BreakerRegistry
  public let mailer: Mailer?
  /// Alerts these rules inhibit are not notified.
  public var inhibitRules: [InhibitRule] = []
  /// Escalation policies: unacknowledged alerts climb their levels.
  public var escalations: [EscalationPolicy] = []
  public var attempts = 8
  public var backoff = Backoff(kind: .exponential, delayMilliseconds: 5_000, jitter: 0.2)
  public var timeouts = HTTPTimeouts()

  public init(
    alerts: AlertStore, jobs: JobStore, receivers: [AlertReceiver], route: AlertRoute?, registry: BreakerRegistry,
    mailer: Mailer?
  ) {
    self.alerts = alerts
    self.jobs = jobs
    var byName: [String: AlertReceiver] = [:]
    for receiver in receivers { byName[receiver.name] = receiver }
    self.receivers = byName
    self.route = route
    self.registry = registry
    self.mailer = mailer
  }

  static func milliseconds(_ date: Date) -> Int64 { date.epochMilliseconds }

  // MARK: - Planning

  /// Writes the notifications that are due and enqueues their jobs.
  /// Returns how many rows it wrote.
  @discardableResult
  public func plan() throws -> Int {
    guard route != nil || !escalations.isEmpty else { return 0 }
    let now = jobs.clock.now()
    let nowMS = Self.milliseconds(now)
    var due: [(alert: Int64, receiver: String, event: String, round: Int)] = []
    var escalated: [(alert: Int64, policy: String, level: Int, receiver: String)] = []
    let store = alerts.store
    let open = try alerts.list(limit: 100_000)
    let resolved = try store.pool.read { db in
      try Row.fetchAll(
        db, sql: "SELECT \(AlertStore.columns) FROM alerts WHERE status = 'resolved' AND resolved_at >= ?",
        arguments: [nowMS - 86_400_000]
      ).map(AlertStore.alert)
    }
    let sent = try store.pool.read { db in
      try Row.fetchAll(
        db,
        sql: """
          SELECT alert_id, receiver, event, max(round), max(sent_at), count(*) FROM alert_notifications
          WHERE alert_id IN (SELECT id FROM alerts WHERE status != 'resolved' OR resolved_at >= ?)
          GROUP BY alert_id, receiver, event
          """, arguments: [nowMS - 86_400_000])
    }
    var rounds: [String: (round: Int, sentAt: Int64?)] = [:]
    for row in sent {
      rounds["\(row[0] as Int64)|\(row[1] as String)|\(row[2] as String)"] = (row[3], row[4])
    }
    let inhibited = InhibitRule.inhibited(open, rules: inhibitRules)
    for alert in open + resolved {
      if alert.status != .resolved {
        if alert.silenced || inhibited.contains(alert.id) { continue }
        if let until = alert.snoozedUntil, until > now { continue }
      }
      var labels = alert.labels
      labels["severity"] = alert.severity.rawValue
      // Escalation: each level reached while the alert fires unacknowledged
      // is one trigger per receiver, its round 1000 × cycle + 100 + level.
      if alert.status == .firing {
        for policy in escalations where policy.matchers.allSatisfy({ $0.matches(labels) }) {
          let elapsed = Duration.milliseconds(nowMS - Self.milliseconds(alert.firstSeen))
          for step in policy.reached(after: elapsed) {
            let round = 1_000 * step.cycle + 100 + step.level
            for name in policy.levels[step.level].receivers where receivers[name] != nil {
              if let known = rounds["\(alert.id)|\(name)|trigger"], known.round >= round { continue }
              due.append((alert.id, name, "trigger", round))
              escalated.append((alert.id, policy.name, step.level, name))
            }
          }
        }
      }
      guard let route else { continue }
      for (name, node) in route.receivers(for: labels) {
        guard let receiver = receivers[name] else { continue }
        let trigger = rounds["\(alert.id)|\(name)|trigger"]
        switch alert.status {
        case .firing:
          if trigger == nil {
            if now.timeIntervalSince(alert.firstSeen) >= Double(node.groupWait.milliseconds) / 1000 {
              due.append((alert.id, name, "trigger", 0))
            }
          } else if let trigger, let at = trigger.sentAt, receiver.kind != .pagerduty,
            nowMS - at >= node.repeatInterval.milliseconds
          {
            due.append((alert.id, name, "trigger", trigger.round + 1))
          }
        case .acknowledged:
          if receiver.kind == .pagerduty, trigger?.sentAt != nil, rounds["\(alert.id)|\(name)|acknowledge"] == nil {
            due.append((alert.id, name, "acknowledge", 0))
          }
        case .resolved:
          if trigger?.sentAt != nil, rounds["\(alert.id)|\(name)|resolve"] == nil {
            due.append((alert.id, name, "resolve", 0))
          }
        }
      }
    }
    var written = 0
    let pending = try store.writeTransaction { db -> [Int64] in
      for item in due {
        try db.execute(
          sql: """
            INSERT INTO alert_notifications (alert_id, receiver, event, round, created_at) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (alert_id, receiver, event, round) DO NOTHING
            """, arguments: [item.alert, item.receiver, item.event, item.round, nowMS])
        let inserted = db.changesCount
        written += inserted
        if inserted == 1, let step = escalated.first(where: { $0.alert == item.alert && $0.receiver == item.receiver })
        {
          try AlertStore.event(
            db, item.alert, nowMS, "escalated", "opsdeck", "\(step.policy) level \(step.level + 1): \(step.receiver)")
        }
      }
      return try Int64.fetchAll(db, sql: "SELECT id FROM alert_notifications WHERE state = 'pending'")
    }
    // One job per pending row, by a job id of the row's: enqueueing again
    // (a second process, a crash after the insert) finds the same job.
    var options = JobOptions()
    options.attempts = attempts
    options.backoff = backoff
    for id in pending {
      options.jobID = "alert-notify:\(id)"
      try jobs.add(queue: "alerts", name: Self.jobName, data: #"{"notification_id": \#(id)}"#, options: options)
    }
    return written
  }

  // MARK: - Delivering

  /// Sends one outbox row; a failure throws so the Scheduler retries.
  public func deliver(_ context: JobContext) throws -> String {
    guard let number = context.dataObject["notification_id"] as? NSNumber else {
      throw HandlerFailure("alert.notify needs data {\"notification_id\": N}")
    }
    let id = number.int64Value
    let store = alerts.store
    guard
      let row = try store.pool.read({ db in
        try Row.fetchOne(
          db, sql: "SELECT alert_id, receiver, event, state FROM alert_notifications WHERE id = ?", arguments: [id])
      })
    else { return "notification \(id) is gone" }
    let alertID: Int64 = row[0]
    let name: String = row[1]
    let event: String = row[2]
    if (row[3] as String) == "sent" { return "already sent" }
    guard let receiver = receivers[name] else { throw HandlerFailure("no receiver named '\(name)'") }
    let alert = try alerts.alert(alertID)
    let breaker = "notify:\(name)"
    registry.ensure(breaker, settings: BreakerSettings())
    let now = Self.milliseconds(jobs.clock.now())
    let final = context.job.attemptsMade + 1 >= context.job.attempts
    do {
      let permit = try registry.acquire(breaker)
      do {
        try send(alert, event: event, to: receiver)
        try registry.record(permit, .success)
      } catch {
        try registry.record(permit, .failure("\(error)"))
        throw error
      }
    } catch {
      let message = "\(error)"
      try store.writeTransaction { db in
        try db.execute(
          sql: "UPDATE alert_notifications SET attempts = attempts + 1, last_error = ?, state = ? WHERE id = ?",
          arguments: [message, final ? "failed" : "pending", id])
        try AlertStore.event(db, alertID, now, "notification_failed", "opsdeck", "\(name) \(event): \(message)")
      }
      throw HandlerFailure(message)
    }
    try store.writeTransaction { db in
      try db.execute(
        sql: "UPDATE alert_notifications SET attempts = attempts + 1, state = 'sent', sent_at = ? WHERE id = ?",
        arguments: [now, id])
      try AlertStore.event(db, alertID, now, "notified", "opsdeck", "\(name) \(event)")
    }
    return "\(name) \(event) sent"
  }

  func send(_ alert: Alert, event: String, to receiver: AlertReceiver) throws {
    if receiver.kind == .email {
      guard let mailer else { throw HandlerFailure("no mailer for receiver \(receiver.name)") }
      let subject = "[\(alert.severity.rawValue.uppercased())\(event == "resolve" ? " RESOLVED" : "")] \(alert.summary)"
      let lines =
        [alert.summary, alert.description ?? "", ""]
        + alert.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        + [alert.runbookURL.map { "Runbook: \($0)" } ?? ""]
      _ = try mailer.send(
        MailMessage(from: "", to: receiver.to, subject: subject, text: lines.joined(separator: "\n") + "\n"))
      return
    }
    guard let url = receiver.endpoint else { throw HandlerFailure("receiver \(receiver.name) has no url") }
    let body = Data(try JSONOutput.string(Self.payload(alert, event: event, receiver: receiver)).utf8)
    let response = try HTTPClient.perform(.json(url, body), timeouts: timeouts, label: receiver.name)
    guard (200..<300).contains(response.status) else {
      throw HandlerFailure("\(receiver.name): HTTP \(response.status)")
    }
  }

  // MARK: - Payloads

  /// PagerDuty Events API v2, a Slack incoming webhook, or opsdeck's own JSON.
  public static func payload(_ alert: Alert, event: String, receiver: AlertReceiver) -> JSONValue {
    switch receiver.kind {
    case .pagerduty:
      var fields: [String: JSONValue] = [
        "routing_key": .string(receiver.routingKey ?? ""), "event_action": .string(event),
        "dedup_key": .string("opsdeck-\(alert.fingerprint)"),
      ]
      if event == "trigger" {
        fields["payload"] = .object([
          "summary": .string(String(alert.summary.prefix(1024))), "source": .string(alert.source),
          "severity": .string(alert.severity.rawValue),
          "custom_details": .object(alert.labels.mapValues(JSONValue.string)),
        ])
        if let runbook = alert.runbookURL {
          fields["links"] = .array([.object(["href": .string(runbook), "text": .string("Runbook")])])
        }
      }
      return .object(fields)
    case .slack:
      let icon = ["critical": "🔴", "error": "🟠", "warning": "🟡"][alert.severity.rawValue] ?? "🔵"
      let title =
        event == "resolve"
        ? "✅ RESOLVED: \(alert.summary)" : "\(icon) \(alert.severity.rawValue.uppercased()): \(alert.summary)"
      var blocks: [JSONValue] = [
        .object([
          "type": .string("header"),
          "text": .object(["type": .string("plain_text"), "text": .string(String(title.prefix(150)))]),
        ]),
        .object([
          "type": .string("section"),
          "fields": .array(
            alert.labels.sorted { $0.key < $1.key }.prefix(10).map {
              .object(["type": .string("mrkdwn"), "text": .string("*\($0.key)*\n\($0.value)")])
            }),
        ]),
      ]
      if let runbook = alert.runbookURL {
        blocks.append(
          .object([
            "type": .string("section"),
            "text": .object(["type": .string("mrkdwn"), "text": .string("<\(runbook)|Runbook>")]),
          ]))
      }
      return .object(["text": .string(title), "blocks": .array(blocks)])
    case .webhook, .email:
      return .object([
        "event": .string(event), "id": .number(Double(alert.id)), "fingerprint": .string(alert.fingerprint),
        "severity": .string(alert.severity.rawValue), "status": .string(alert.status.rawValue),
        "summary": .string(alert.summary), "labels": .object(alert.labels.mapValues(JSONValue.string)),
        "source": .string(alert.source), "runbook_url": alert.runbookURL.map(JSONValue.string) ?? .null,
      ])
    }
  }
}

extension AlertStore {
  /// An alert's outbox rows, oldest first.
  public func notifications(_ alertID: Int64) throws -> [AlertNotification] {
    try store.pool.read { db in
      try Row.fetchAll(
        db,
        sql: """
          SELECT id, alert_id, receiver, event, round, state, attempts, last_error, sent_at
          FROM alert_notifications WHERE alert_id = ? ORDER BY id
          """, arguments: [alertID]
      ).map {
        AlertNotification(
          id: $0[0], alertID: $0[1], receiver: $0[2], event: $0[3], round: $0[4], state: $0[5], attempts: $0[6],
          lastError: $0[7], sentAt: ($0[8] as Int64?).map(Date.init(epochMilliseconds:)))
      }
    }
  }
}
