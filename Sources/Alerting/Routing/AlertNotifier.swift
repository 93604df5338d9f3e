import Delivery
import Foundation
import GRDB
import Resilience
import Scheduler
import Storage

/// One row of the outbox, as the alert's view lists it.
public struct AlertNotification: Sendable, Equatable {
  public var id: Int64
  public var receiver: String
  public var event: String
  public var state: String
  public var attempts: Int
  public var lastError: String?
  public var sentAt: Date?
  /// How many alerts the message carried (its group's members).
  public var alerts: Int
}

/// Turns alerts into notifications: `plan()` (run by alerts.watch) routes
/// every open alert that is neither silenced, inhibited nor snoozed into
/// its groups (``AlertGroup``), writes the messages that are due as outbox
/// rows — each once — and enqueues an `alert.notify` job per row;
/// `deliver` sends one row through the receiver's breaker.
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

  // MARK: - Planning

  /// A message the plan writes: its outbox key, the group it advances (at
  /// the round it read), its members, and an escalation's audit note.
  struct Planned {
    var key: String
    var receiver: String
    var event: String
    var members: [Int64: AlertStatus]
    var group: AlertGroup?
    var escalation: String?
  }

  /// Writes the notifications that are due and enqueues their jobs.
  /// Returns how many rows it wrote.
  @discardableResult
  public func plan() throws -> Int {
    guard route != nil || !escalations.isEmpty else { return 0 }
    let nowMS = jobs.clock.now().epochMilliseconds
    let store = alerts.store
    let open = try alerts.list(limit: 100_000)
    let (resolved, stored) = try store.pool.read { db in
      let resolved = try Row.fetchAll(
        db, sql: "SELECT \(AlertStore.columns) FROM alerts WHERE status = 'resolved' AND resolved_at >= ?",
        arguments: [nowMS - 86_400_000]
      ).map(AlertStore.alert)
      let groups = try Row.fetchAll(
        db,
        sql:
          "SELECT id, receiver, group_key, labels, started_at, sent_at, sent, round FROM alert_groups WHERE started_at IS NOT NULL"
      ).map { row in
        AlertGroup(
          id: row[0], receiver: row[1], key: row[2], labels: JSONOutput.parseObject(row[3]) ?? [:], startedAt: row[4],
          sentAt: row[5], sent: Self.members(row[6]), round: row[7])
      }
      return (resolved, groups)
    }
    var groups: [String: AlertGroup] = [:]
    for group in stored { groups[group.key] = group }
    var current: [String: [Int64: AlertStatus]] = [:]
    var nodes: [String: AlertRoute] = [:]
    var planned: [Planned] = []
    let inhibited = InhibitRule.inhibited(open, rules: inhibitRules)
    let now = Date(epochMilliseconds: nowMS)
    for alert in open + resolved {
      if alert.status != .resolved {
        if alert.silenced || inhibited.contains(alert.id) { continue }
        if let until = alert.snoozedUntil, until > now { continue }
      }
      var labels = alert.labels
      labels["severity"] = alert.severity.rawValue
      if alert.status == .firing { planned += escalate(alert, labels: labels, now: nowMS) }
      for match in route?.receivers(for: labels) ?? [] where receivers[match.receiver] != nil {
        let key = match.groupKey(labels)
        if alert.status == .resolved {
          // A resolved alert belongs to the messages that announced it.
          guard let sent = groups[key]?.sent[alert.id], sent != .resolved else { continue }
        }
        if groups[key] == nil {
          groups[key] = AlertGroup(receiver: match.receiver, key: key, labels: match.groupLabels(labels))
        }
        nodes[key] = match.node
        current[key, default: [:]][alert.id] = alert.status
      }
    }
    // Groups whose episode starts or ends without a message, and messages.
    var changed: [AlertGroup] = []
    for (key, group) in groups {
      guard let node = nodes[key], let receiver = receivers[group.receiver] else {
        // Nothing of the group is left to notify (silenced, moved, the
        // receiver gone): its episode ends without a message.
        if group.startedAt != nil {
          changed.append(AlertGroup(receiver: group.receiver, key: key, labels: group.labels))
        }
        continue
      }
      switch group.step(current: current[key] ?? [:], node: node, kind: receiver.kind, now: nowMS) {
      case .wait(let at):
        guard at != group.startedAt else { continue }
        var next = group
        next.startedAt = at
        if at == nil { (next.sentAt, next.sent) = (nil, [:]) }
        changed.append(next)
      case .send(let event, let members, let ends):
        var next = group
        next.startedAt = ends ? nil : (group.startedAt ?? nowMS)
        next.sentAt = ends ? nil : nowMS
        next.sent = ends ? [:] : members
        planned.append(
          Planned(key: "", receiver: group.receiver, event: event, members: members, group: next, escalation: nil))
      }
    }
    var written = 0
    let pending = try store.writeTransaction { db -> [Int64] in
      for group in changed { _ = try Self.save(db, group, over: groups[group.key]) }
      for var item in planned {
        var groupID: Int64?
        if let group = item.group {
          guard let saved = try Self.save(db, group, over: groups[group.key]) else { continue }
          item.key = "g:\(saved.id):\(saved.round)"
          groupID = saved.id
        }
        try db.execute(
          sql: """
            INSERT INTO alert_notifications (key, group_id, receiver, event, created_at) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (key) DO NOTHING
            """, arguments: [item.key, groupID, item.receiver, item.event, nowMS])
        guard db.changesCount == 1 else { continue }
        let id = db.lastInsertedRowID
        written += 1
        for (alert, status) in item.members {
          try db.execute(
            sql: "INSERT INTO alert_notification_alerts (alert_id, notification_id, status) VALUES (?, ?, ?)",
            arguments: [alert, id, status.rawValue])
          if let note = item.escalation { try AlertStore.event(db, alert, nowMS, "escalated", "opsdeck", note) }
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

  /// Escalation: each level reached while the alert fires unacknowledged
  /// is one message per receiver, keyed by alert, receiver and step.
  func escalate(_ alert: Alert, labels: [String: String], now: Int64) -> [Planned] {
    var planned: [Planned] = []
    for policy in escalations where policy.matchers.allSatisfy({ $0.matches(labels) }) {
      let elapsed = Duration.milliseconds(now - alert.firstSeen.epochMilliseconds)
      for step in policy.reached(after: elapsed) {
        for name in policy.levels[step.level].receivers where receivers[name] != nil {
          planned.append(
            Planned(
              key: "e:\(alert.id):\(name):\(step.cycle).\(step.level)", receiver: name, event: "trigger",
              members: [alert.id: .firing], group: nil,
              escalation: "\(policy.name) level \(step.level + 1): \(name)"))
        }
      }
    }
    return planned
  }

  /// Writes a group's new state if nobody else has since it was read: the
  /// round is its version, advanced by every write and compared on update
  /// (an ended group, read as new, is taken over only while still ended).
  /// Returns the saved id and round, or nil when another process got
  /// there first.
  static func save(_ db: GRDB.Database, _ group: AlertGroup, over read: AlertGroup?) throws -> (id: Int64, round: Int)?
  {
    let sent = JSONOutput.object(Dictionary(uniqueKeysWithValues: group.sent.map { ("\($0.key)", $0.value.rawValue) }))
    if let id = read?.id, let round = read?.round {
      try db.execute(
        sql:
          "UPDATE alert_groups SET started_at = ?, sent_at = ?, sent = ?, round = round + 1 WHERE id = ? AND round = ?",
        arguments: [group.startedAt, group.sentAt, sent, id, round])
      return db.changesCount == 1 ? (id, round + 1) : nil
    }
    let row = try Row.fetchOne(
      db,
      sql: """
        INSERT INTO alert_groups (receiver, group_key, labels, started_at, sent_at, sent, round)
        VALUES (?, ?, ?, ?, ?, ?, 1)
        ON CONFLICT (group_key) DO UPDATE SET started_at = excluded.started_at, sent_at = excluded.sent_at,
          sent = excluded.sent, round = alert_groups.round + 1
        WHERE alert_groups.started_at IS NULL
        RETURNING id, round
        """,
      arguments: [group.receiver, group.key, JSONOutput.object(group.labels), group.startedAt, group.sentAt, sent])
    return row.map { ($0[0], $0[1]) }
  }

  static func members(_ json: String) -> [Int64: AlertStatus] {
    var members: [Int64: AlertStatus] = [:]
    for (id, status) in JSONOutput.parseObject(json) ?? [:] {
      if let id = Int64(id), let status = AlertStatus(rawValue: status) { members[id] = status }
    }
    return members
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
      let loaded = try store.pool.read({ db -> (Row, [(Int64, String)], [Alert])? in
        guard
          let row = try Row.fetchOne(
            db,
            sql: """
              SELECT n.receiver, n.event, n.state, n.key, g.group_key, g.labels FROM alert_notifications n
              LEFT JOIN alert_groups g ON g.id = n.group_id WHERE n.id = ?
              """, arguments: [id])
        else { return nil }
        let members = try Row.fetchAll(
          db, sql: "SELECT alert_id, status FROM alert_notification_alerts WHERE notification_id = ?", arguments: [id]
        ).map { ($0[0] as Int64, $0[1] as String) }
        // The message's alerts in one read, not one per member.
        let alerts = try Row.fetchAll(
          db,
          sql: """
            SELECT \(AlertStore.columns) FROM alerts
            WHERE id IN (SELECT alert_id FROM alert_notification_alerts WHERE notification_id = ?)
            """, arguments: [id]
        ).map(AlertStore.alert)
        return (row, members, alerts)
      })
    else { return "notification \(id) is gone" }
    let (row, members, stored) = loaded
    let name: String = row[0]
    let event: String = row[1]
    if (row[2] as String) == "sent" { return "already sent" }
    guard let receiver = receivers[name] else { throw HandlerFailure("no receiver named '\(name)'") }
    // Each alert as the message announces it (its status then).
    let notified = Dictionary(members, uniquingKeysWith: { first, _ in first })
    let carried = stored.map { alert -> Alert in
      var alert = alert
      alert.status = notified[alert.id].flatMap(AlertStatus.init(rawValue:)) ?? alert.status
      return alert
    }
    let groupKey = (row[4] as String?) ?? (row[3] as String)
    let message = AlertMessage(
      event: event, groupKey: groupKey, groupLabels: (row[5] as String?).flatMap(JSONOutput.parseObject) ?? [:],
      alerts: carried)
    let breaker = "notify:\(name)"
    registry.ensure(breaker, settings: BreakerSettings())
    let now = jobs.clock.now().epochMilliseconds
    let final = context.job.attemptsMade + 1 >= context.job.attempts
    do {
      let permit = try registry.acquire(breaker)
      do {
        try send(message, to: receiver)
        try registry.record(permit, .success)
      } catch {
        try registry.record(permit, .failure("\(error)"))
        throw error
      }
    } catch {
      let text = "\(error)"
      try store.writeTransaction { db in
        try db.execute(
          sql: "UPDATE alert_notifications SET attempts = attempts + 1, last_error = ?, state = ? WHERE id = ?",
          arguments: [text, final ? "failed" : "pending", id])
        for (alertID, _) in members {
          try AlertStore.event(db, alertID, now, "notification_failed", "opsdeck", "\(name) \(event): \(text)")
        }
      }
      throw HandlerFailure(text)
    }
    try store.writeTransaction { db in
      try db.execute(
        sql: "UPDATE alert_notifications SET attempts = attempts + 1, state = 'sent', sent_at = ? WHERE id = ?",
        arguments: [now, id])
      let others = members.count > 1 ? " (with \(members.count - 1) more)" : ""
      for (alertID, _) in members {
        try AlertStore.event(db, alertID, now, "notified", "opsdeck", "\(name) \(event)\(others)")
      }
    }
    return "\(name) \(event) sent (\(members.count) alert\(members.count == 1 ? "" : "s"))"
  }

  func send(_ message: AlertMessage, to receiver: AlertReceiver) throws {
    if receiver.kind == .email {
      guard let mailer else { throw HandlerFailure("no mailer for receiver \(receiver.name)") }
      let severity = message.lead?.severity.rawValue.uppercased() ?? "INFO"
      let subject = "[\(severity)\(message.event == "resolve" ? " RESOLVED" : "")] \(message.title)"
      var lines: [String] = []
      for alert in message.alerts {
        lines += ["\(alert.severity.rawValue.uppercased()) \(alert.status.rawValue): \(alert.summary)"]
        if let description = alert.description { lines.append(description) }
        lines += alert.labels.sorted { $0.key < $1.key }.map { "  \($0.key)=\($0.value)" }
        if let runbook = alert.runbookURL { lines.append("  Runbook: \(runbook)") }
        lines.append("")
      }
      _ = try mailer.send(
        MailMessage(from: "", to: receiver.to, subject: subject, text: lines.joined(separator: "\n")))
      return
    }
    guard let url = receiver.endpoint else { throw HandlerFailure("receiver \(receiver.name) has no url") }
    let body = Data(try JSONOutput.string(Self.payload(message, receiver: receiver)).utf8)
    let response = try HTTPClient.perform(.json(url, body), timeouts: timeouts, label: receiver.name)
    guard (200..<300).contains(response.status) else {
      throw HandlerFailure("\(receiver.name): HTTP \(response.status)")
    }
  }

  // MARK: - Payloads

  /// PagerDuty Events API v2 (one incident per group), a Slack incoming
  /// webhook, or opsdeck's own JSON (Alertmanager's webhook shape).
  public static func payload(_ message: AlertMessage, receiver: AlertReceiver) -> JSONValue {
    let lead = message.lead
    let severity = lead?.severity.rawValue ?? "info"
    let labels = { (alert: Alert) in JSONValue.object(alert.labels.mapValues(JSONValue.string)) }
    switch receiver.kind {
    case .pagerduty:
      var fields: [String: JSONValue] = [
        "routing_key": .string(receiver.routingKey ?? ""), "event_action": .string(message.event),
        "dedup_key": .string(message.dedupKey),
      ]
      if message.event == "trigger", let lead {
        var details = message.alerts.count == 1 ? lead.labels : message.groupLabels
        if message.alerts.count > 1 {
          for status in AlertStatus.allCases {
            let lines = message.alerts.filter { $0.status == status }.map { "[\($0.severity.rawValue)] \($0.summary)" }
            if !lines.isEmpty { details[status.rawValue] = lines.joined(separator: "\n") }
          }
        }
        fields["payload"] = .object([
          "summary": .string(String(message.title.prefix(1024))), "source": .string(lead.source),
          "severity": .string(severity), "custom_details": .object(details.mapValues(JSONValue.string)),
        ])
        let links = message.alerts.compactMap(\.runbookURL).prefix(5)
        if !links.isEmpty {
          fields["links"] = .array(links.map { .object(["href": .string($0), "text": .string("Runbook")]) })
        }
      }
      return .object(fields)
    case .slack:
      let icon = ["critical": "🔴", "error": "🟠", "warning": "🟡"][severity] ?? "🔵"
      let title =
        message.event == "resolve"
        ? "✅ RESOLVED: \(message.title)" : "\(icon) \(severity.uppercased()): \(message.title)"
      var blocks: [JSONValue] = [
        .object([
          "type": .string("header"),
          "text": .object(["type": .string("plain_text"), "text": .string(String(title.prefix(150)))]),
        ])
      ]
      for alert in message.alerts.prefix(10) {
        var text =
          message.alerts.count == 1 ? "" : "*\(alert.severity.rawValue) · \(alert.status.rawValue)* \(alert.summary)\n"
        text += alert.labels.sorted { $0.key < $1.key }.map { "`\($0.key)=\($0.value)`" }.joined(separator: " ")
        if let runbook = alert.runbookURL { text += "\n<\(runbook)|Runbook>" }
        blocks.append(
          .object(["type": .string("section"), "text": .object(["type": .string("mrkdwn"), "text": .string(text)])]))
      }
      if message.alerts.count > 10 {
        blocks.append(
          .object([
            "type": .string("context"),
            "elements": .array([
              .object(["type": .string("mrkdwn"), "text": .string("and \(message.alerts.count - 10) more")])
            ]),
          ]))
      }
      return .object(["text": .string(title), "blocks": .array(blocks)])
    case .webhook, .email:
      return .object([
        "version": .string("1"), "event": .string(message.event), "receiver": .string(receiver.name),
        "status": .string(message.event == "resolve" ? "resolved" : message.firing.isEmpty ? "acknowledged" : "firing"),
        "group_key": .string(message.groupKey),
        "group_labels": .object(message.groupLabels.mapValues(JSONValue.string)),
        "summary": .string(message.title), "severity": .string(severity),
        "alerts": .array(
          message.alerts.map { alert in
            .object([
              "id": .number(Double(alert.id)), "fingerprint": .string(alert.fingerprint),
              "severity": .string(alert.severity.rawValue), "status": .string(alert.status.rawValue),
              "summary": .string(alert.summary), "description": alert.description.map(JSONValue.string) ?? .null,
              "labels": labels(alert), "source": .string(alert.source),
              "runbook_url": alert.runbookURL.map(JSONValue.string) ?? .null,
              "first_seen": .string(Timestamp.format(alert.firstSeen)),
            ])
          }),
      ])
    }
  }
}

extension AlertStore {
  /// The messages that carried an alert, oldest first.
  public func notifications(_ alertID: Int64) throws -> [AlertNotification] {
    try store.pool.read { db in
      try Row.fetchAll(
        db,
        sql: """
          SELECT n.id, n.receiver, n.event, n.state, n.attempts, n.last_error, n.sent_at,
            (SELECT count(*) FROM alert_notification_alerts c WHERE c.notification_id = n.id)
          FROM alert_notification_alerts m JOIN alert_notifications n ON n.id = m.notification_id
          WHERE m.alert_id = ? ORDER BY n.id
          """, arguments: [alertID]
      ).map {
        AlertNotification(
          id: $0[0], receiver: $0[1], event: $0[2], state: $0[3], attempts: $0[4], lastError: $0[5],
          sentAt: ($0[6] as Int64?).map(Date.init(epochMilliseconds:)), alerts: $0[7])
      }
    }
  }
}
