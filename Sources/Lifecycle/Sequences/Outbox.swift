import Crypto
import Delivery
import Foundation
import GRDB
import Scheduler
import Storage

/// One lifecycle e-mail in the outbox.
public struct OutboxEmail: Sendable, Equatable {
  public var id: Int64
  public var accountID: String
  public var sequence: String
  public var step: String
  public var trial: Int
  public var template: String
  public var to: String
  public var subject: String
  public var status: String
  public var scheduledAt: Date
  public var sentAt: Date?
  public var attempts: Int
  public var lastError: String?
  public var data: [String: String]

  static let columns = """
    id, account_id, sequence, step, trial, template, recipient, subject, status, scheduled_at, sent_at, attempts,
    last_error, data
    """

  init(row: Row) {
    id = row[0]
    accountID = row[1]
    sequence = row[2]
    step = row[3]
    trial = row[4]
    template = row[5]
    to = row[6]
    subject = row[7]
    status = row[8]
    scheduledAt = Date(epochMilliseconds: row[9])
    sentAt = (row[10] as Int64?).map(Date.init(epochMilliseconds:))
    attempts = row[11]
    lastError = row[12]
    data = JSONOutput.parseObject(row[13]) ?? [:]
  }
}

extension Lifecycle {
  // MARK: - Reading

  public func outbox(status: String? = nil, account: String? = nil, limit: Int = 1_000) throws -> [OutboxEmail] {
    if let status, !["pending", "sending", "sent", "failed", "skipped"].contains(status) {
      throw LifecycleInputError("invalid --status '\(status)': expected pending, sent, failed, sending or skipped")
    }
    return try store.pool.read { db in
      var conditions = ["1"]
      var arguments: [any DatabaseValueConvertible] = []
      if let status {
        conditions.append("status = ?")
        arguments.append(status)
      }
      if let account {
        conditions.append("account_id = ?")
        arguments.append(account)
      }
      arguments.append(limit)
      return try Row.fetchAll(
        db,
        sql: """
          SELECT \(OutboxEmail.columns) FROM email_outbox WHERE \(conditions.joined(separator: " AND "))
          ORDER BY id DESC LIMIT ?
          """, arguments: StatementArguments(arguments)
      ).map(OutboxEmail.init(row:))
    }
  }

  // MARK: - Variables

  /// What a template sees for an account, now; with `needed`, only those
  /// variables (a subject's few, on every tick) are worked out.
  func variables(
    _ db: GRDB.Database, _ account: Account, extra: [String: String] = [:], needed: Set<String>? = nil
  ) throws -> [String: Any] {
    func wanted(_ name: String) -> Bool { needed?.contains(name) ?? true }
    let now = clock.now()
    var values: [String: Any] = [
      "name": account.name, "account_id": account.id, "email": account.email, "plan": account.plan,
      "onboarding_total": settings.onboarding.count, "company": account.name,
    ]
    if wanted("onboarding_done") || wanted("next_step") || wanted("next_step_id") {
      let done = try onboarding(db, account.id)
      values["onboarding_done"] = settings.onboarding.filter { done[$0.id] != nil }.count
      if let next = nextOnboardingStep(done: done) {
        values["next_step"] = next.title
        values["next_step_id"] = next.id
      }
    }
    if let ends = account.trialEndsAt {
      let clock = TrialClock(endsAt: ends, now: now)
      values["days_left"] = clock.daysLeft
      values["hours_left"] = max(0, clock.millisecondsLeft / 3_600_000)
      if wanted("trial_ends_on") {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: account.tz) ?? .gmt
        formatter.dateFormat = "EEEE d MMMM"
        values["trial_ends_on"] = formatter.string(from: ends)
      }
    }
    if wanted("usage") {
      values["usage"] = try usageLines(db, account).filter { $0.used > 0 || ($0.quota?.limit ?? 1) > 0 }.map {
        line -> [String: Any] in
        [
          "metric": line.metric, "used": Usage.format(line.used),
          "limit": line.quota.map { Usage.format($0.limit) } ?? "unlimited",
          "percent": line.percent.map { "\($0)" } ?? "",
        ]
      }
    }
    values["upgrade_plan"] = settings.upgrade(for: extra["metric"] ?? "", above: 0)?.name ?? "a paid"
    if wanted("unsubscribe_url"), let url = settings.unsubscribeURL {
      values["unsubscribe_url"] = url.replacingOccurrences(
        of: "{{token}}", with: try unsubscribeToken(db, account: account.id))
    }
    for (key, value) in extra { values[key] = value }
    return values
  }

  // MARK: - Sending

  /// `email.send`: renders and sends one outbox row, at most once. The row
  /// is marked `sending` in its own transaction before the message leaves;
  /// a failure the mailer reports puts it back to `pending` for the
  /// Scheduler's retry, but a row found still `sending` (the process died
  /// between handing the message over and recording it) is marked `failed`,
  /// never sent again: a lifecycle e-mail lost in a crash is visible in
  /// `opsdeck outbox --status failed`; one sent twice could not be taken back.
  public func deliver(_ context: JobContext, mailer: Mailer) throws -> String {
    guard let number = context.dataObject["outbox_id"] as? NSNumber else {
      throw HandlerFailure("email.send needs data {\"outbox_id\": N}")
    }
    let id = number.int64Value
    let now = nowMS
    enum Start { case gone, finished(String), interrupted, go(OutboxEmail, Account, [String: Any]), skip(String) }
    let start: Start = try store.writeTransaction { db in
      guard
        let row = try Row.fetchOne(
          db, sql: "SELECT \(OutboxEmail.columns) FROM email_outbox WHERE id = ?", arguments: [id])
      else { return .gone }
      let email = OutboxEmail(row: row)
      switch email.status {
      case "sending":
        try db.execute(
          sql: """
            UPDATE email_outbox SET status = 'failed',
              last_error = 'interrupted while sending: not sent again, so it cannot arrive twice' WHERE id = ?
            """, arguments: [id])
        return .interrupted
      case "pending": break
      default: return .finished(email.status)
      }
      let account = try account(db, email.accountID)
      let exits = settings.sequences.first { $0.name == email.sequence }?.exitOnConvert ?? false
      var reason: String?
      if account.suppressedAt != nil { reason = "suppressed" }
      if exits && account.convertedAt != nil { reason = "converted" }
      if let reason {
        try db.execute(
          sql: "UPDATE email_outbox SET status = 'skipped', last_error = ? WHERE id = ?", arguments: [reason, id])
        return .skip(reason)
      }
      try db.execute(
        sql: "UPDATE email_outbox SET status = 'sending', attempts = attempts + 1 WHERE id = ?", arguments: [id])
      return .go(email, account, try variables(db, account, extra: email.data))
    }
    switch start {
    case .gone: return "outbox row \(id) is gone"
    case .finished(let status): return "already \(status)"
    case .interrupted: return "interrupted earlier: marked failed, not sent again"
    case .skip(let reason): return "skipped: \(reason)"
    case .go(let email, let account, let values):
      do {
        let rendered = try templates.render(template: email.template, subject: email.subject, variables: values)
        var message = MailMessage(
          from: "", to: [account.email], subject: rendered.subject, text: rendered.text, html: rendered.html)
        message.unsubscribeURL = values["unsubscribe_url"] as? String
        let domain = MailMessage.address(of: mailer.settings.from).split(separator: "@").last ?? "opsdeck.invalid"
        // The same Message-ID on every try of this row.
        let messageID = "<outbox-\(id).\(email.scheduledAt.epochMilliseconds)@\(domain)>"
        let receipt = try mailer.send(message, messageID: messageID)
        try store.writeTransaction { db in
          try db.execute(
            sql: "UPDATE email_outbox SET status = 'sent', sent_at = ?, message_id = ?, last_error = NULL WHERE id = ?",
            arguments: [now, receipt.messageID, id])
        }
        return "sent \(email.sequence)/\(email.step) to \(email.to)"
      } catch {
        // A refused address or a broken template will not go better on retry.
        let permanent = (error as? MailFailure)?.isPermanent == true || error is LifecycleInputError
        let final = permanent || context.job.attemptsMade + 1 >= context.job.attempts
        try store.writeTransaction { db in
          try db.execute(
            sql: "UPDATE email_outbox SET status = ?, last_error = ? WHERE id = ?",
            arguments: [final ? "failed" : "pending", "\(error)", id])
        }
        if permanent { return "failed for good: \(error)" }
        throw error
      }
    }
  }

  /// After a backfill of history (the demo's six weeks): the e-mails it
  /// queued count as sent when they were due, and their jobs are dropped,
  /// so the past is not mailed all at once. Not for live data.
  public func markBackfillSent(upTo end: Date) throws {
    try store.writeTransaction { db in
      try db.execute(
        sql: """
          UPDATE email_outbox SET status = 'sent', sent_at = scheduled_at, attempts = 1
          WHERE status = 'pending' AND scheduled_at <= ?
          """, arguments: [end.epochMilliseconds])
    }
    _ = try jobs.drain(settings.queue)
  }

  /// Renders a step for an account without sending it (`lifecycle preview`).
  public func preview(account id: String, step key: String) throws -> RenderedEmail {
    // A write transaction: the first token ever made stores its key.
    let values = try store.writeTransaction { db in try variables(db, try account(db, id)) }
    if let entry = timeline.first(where: { $0.key == key || $0.step.id == key }) {
      return try templates.render(template: entry.step.template, subject: entry.step.subject, variables: values)
    }
    let occasions = settings.occasions
    guard let email = occasions[key] else {
      let known = timeline.map(\.key) + occasions.keys.sorted()
      throw LifecycleInputError("invalid step '\(key)': expected one of \(known.joined(separator: ", "))")
    }
    var sample = values
    for (name, value) in [
      "metric": "reconciliations", "percent": "80", "threshold": "80", "used": "40", "limit": "50",
      "idle_days": "\(settings.reengageAfterDays)",
    ] where sample[name] == nil {
      sample[name] = value
    }
    return try templates.render(template: email.template, subject: email.subject, variables: sample)
  }

  /// Mails an account's next e-mail (its welcome when none is left) to an
  /// operator, subject marked `[preview]`; nothing is recorded as sent.
  public func sendPreview(account id: String, to address: String, mailer: Mailer) throws -> String {
    let account = try account(id)
    let key = account.nextEmailStep ?? timeline.first?.key ?? "welcome"
    let email = try preview(account: id, step: key)
    let receipt = try mailer.send(
      MailMessage(from: "", to: [address], subject: "[preview] \(email.subject)", text: email.text, html: email.html))
    _ = receipt
    return "sent \(key) for \(account.id) to \(address)"
  }

  // MARK: - Unsubscribe

  /// The key unsubscribe tokens are signed with: the configured one, or a
  /// random one kept in the database (made once).
  func unsubscribeKey(_ db: GRDB.Database) throws -> SymmetricKey {
    if !settings.unsubscribeSecret.isEmpty { return SymmetricKey(data: Data(settings.unsubscribeSecret.utf8)) }
    if let stored = try String.fetchOne(db, sql: "SELECT value FROM opsdeck_meta WHERE key = 'unsubscribe_key'") {
      return SymmetricKey(data: Data(base64Encoded: stored) ?? Data(stored.utf8))
    }
    let fresh = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
    try db.execute(
      sql: "INSERT INTO opsdeck_meta (key, value) VALUES ('unsubscribe_key', ?) ON CONFLICT DO NOTHING",
      arguments: [fresh.base64EncodedString()])
    let stored = try String.fetchOne(db, sql: "SELECT value FROM opsdeck_meta WHERE key = 'unsubscribe_key'") ?? ""
    return SymmetricKey(data: Data(base64Encoded: stored) ?? fresh)
  }

  static func base64URL(_ data: Data) -> String {
    data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
      .replacingOccurrences(of: "=", with: "")
  }

  static func fromBase64URL(_ text: String) -> Data? {
    var base = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
    while base.count % 4 != 0 { base += "=" }
    return Data(base64Encoded: base)
  }

  /// `ACCOUNT.MAC`, both base64url: HMAC-SHA256 over "unsubscribe:" + id.
  func unsubscribeToken(_ db: GRDB.Database, account: String) throws -> String {
    let mac = HMAC<SHA256>.authenticationCode(for: Data("unsubscribe:\(account)".utf8), using: try unsubscribeKey(db))
    return Self.base64URL(Data(account.utf8)) + "." + Self.base64URL(Data(mac))
  }

  public func unsubscribeToken(account: String) throws -> String {
    try store.writeTransaction { db in
      _ = try self.account(db, account)
      return try unsubscribeToken(db, account: account)
    }
  }

  /// Checks a token and suppresses its account; returns the account id.
  public func unsubscribe(token: String) throws -> String {
    let parts = token.split(separator: ".")
    guard parts.count == 2, let idData = Self.fromBase64URL(String(parts[0])),
      let mac = Self.fromBase64URL(String(parts[1])),
      let id = String(data: idData, encoding: .utf8)
    else { throw LifecycleInputError("invalid unsubscribe token: expected ACCOUNT.SIGNATURE as opsdeck wrote it") }
    let valid = try store.writeTransaction { db in
      HMAC<SHA256>.isValidAuthenticationCode(
        mac, authenticating: Data("unsubscribe:\(id)".utf8), using: try unsubscribeKey(db))
    }
    guard valid else { throw LifecycleInputError("invalid unsubscribe token: the signature does not match") }
    try suppress(id, reason: "unsubscribed (one click)")
    return id
  }
}
