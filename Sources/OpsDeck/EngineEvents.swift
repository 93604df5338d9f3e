import Analytics
import Foundation
import Lifecycle
import Storage

/// The engines' own events in the event log: Lifecycle's timeline (trial
/// started, expired, extended, plan upgraded, quota reached, churned…) and
/// every e-mail sent, copied in after each lifecycle.tick. Event ids
/// (`lifecycle:ROW`, `email:ROW`) make a second copy harmless.
public enum EngineEvents {
  static let names: [String: String] = [
    "signed_up": "account.signed_up", "converted": "plan.upgraded", "plan_changed": "plan.changed",
    "trial_expired": "trial.expired", "trial_extended": "trial.extended", "quota_80": "quota.warning",
    "quota_100": "quota.exceeded", "feature_blocked": "feature.blocked", "suppressed": "email.suppressed",
    "churned": "account.churned",
  ]

  /// Copies what is new; returns how many events were added.
  @discardableResult
  public static func sync(lifecycle: Lifecycle, log: EventLog) throws -> Int {
    var added = 0
    while true {
      let rows = try lifecycle.events(after: try log.position(of: "lifecycle"))
      guard let last = rows.last else { break }
      var events: [TrackedEvent] = []
      for row in rows {
        guard var name = names[row.kind] else { continue }
        if row.kind == "signed_up" && row.note == "plan trial" { name = "trial.started" }
        events.append(
          TrackedEvent(
            name: name, accountID: row.account, at: row.at, properties: row.note.map { ["note": $0] } ?? [:],
            eventID: "lifecycle:\(row.id)"))
      }
      added += try log.track(events, source: "lifecycle", position: last.id)
    }
    // Sent e-mails change state in place: read from a minute before the
    // last one seen (ids dedup the overlap).
    let since = max(0, try log.position(of: "email") - 60_000)
    let sent = try lifecycle.sentEmails(since: since)
    if let last = sent.last {
      added += try log.track(
        sent.map {
          TrackedEvent(
            name: "email.sent", accountID: $0.accountID, at: $0.sentAt ?? $0.scheduledAt,
            properties: ["sequence": $0.sequence, "step": $0.step], eventID: "email:\($0.id)")
        }, source: "email", position: (last.sentAt ?? last.scheduledAt).epochMilliseconds)
    }
    return added
  }
}
