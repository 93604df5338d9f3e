import Foundation
import GRDB
import Storage

/// Alertmanager's webhook payload (version 4): firing alerts open or
/// repeat, resolved ones resolve; unknown fields are ignored. An alert's
/// identity is Alertmanager's own: the fingerprint of all its labels.
public enum AlertmanagerIngest {
  public struct Outcome: Sendable, Equatable {
    public var opened = 0
    public var repeated = 0
    public var resolved = 0

    public init(opened: Int = 0, repeated: Int = 0, resolved: Int = 0) {
      self.opened = opened
      self.repeated = repeated
      self.resolved = resolved
    }
  }

  public static func ingest(_ data: Data, into alerts: AlertStore) throws -> Outcome {
    guard let payload = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
      throw AlertInputError("not an Alertmanager payload: not a JSON object")
    }
    if let version = payload["version"] as? String, version != "4" {
      throw AlertInputError("Alertmanager payload version \(version): expected 4")
    }
    guard let entries = payload["alerts"] as? [[String: Any]] else {
      throw AlertInputError("not an Alertmanager payload: no \"alerts\" list")
    }
    var firing: [NewAlert] = []
    var resolving: [String] = []
    for (index, entry) in entries.enumerated() {
      guard let labels = entry["labels"] as? [String: String], !labels.isEmpty else {
        throw AlertInputError("alerts[\(index)]: expected \"labels\" with at least one label")
      }
      let fingerprint = Fingerprint.of(labels)
      if (entry["status"] as? String) == "resolved" {
        resolving.append(fingerprint)
        continue
      }
      let annotations = entry["annotations"] as? [String: String] ?? [:]
      let severity = Severity(rawValue: (labels["severity"] ?? "").lowercased()) ?? mapped(labels["severity"])
      firing.append(
        NewAlert(
          severity: severity, summary: annotations["summary"] ?? labels["alertname"] ?? "alert \(fingerprint)",
          labels: labels, source: "alertmanager", dedupKey: fingerprint, description: annotations["description"],
          runbookURL: annotations["runbook_url"]))
    }
    var outcome = Outcome()
    let created = try alerts.raise(firing)
    outcome.opened = created
    outcome.repeated = firing.count - created
    outcome.resolved = try alerts.resolveFingerprints(resolving, note: "resolved in Alertmanager")
    return outcome
  }

  /// Common Prometheus severities that are not PagerDuty's.
  static func mapped(_ severity: String?) -> Severity {
    switch severity?.lowercased() {
    case "page", "high", "fatal": return .critical
    case "major": return .error
    case "low", "minor": return .warning
    case "none", "notice", "debug": return .info
    default: return .warning
    }
  }
}

extension AlertStore {
  /// Resolves the open alerts with these fingerprints; returns how many.
  public func resolveFingerprints(_ fingerprints: [String], note: String) throws -> Int {
    guard !fingerprints.isEmpty else { return 0 }
    let now = Self.milliseconds(clock.now())
    return try store.writeTransaction { db in
      var resolved = 0
      for fingerprint in fingerprints {
        guard
          let id = try Int64.fetchOne(
            db, sql: "SELECT id FROM alerts WHERE fingerprint = ? AND status != 'resolved'", arguments: [fingerprint])
        else { continue }
        try db.execute(
          sql: "UPDATE alerts SET status = 'resolved', resolved_at = ? WHERE id = ?", arguments: [now, id])
        try Self.event(db, id, now, "resolved", "alertmanager", note)
        resolved += 1
      }
      return resolved
    }
  }
}
