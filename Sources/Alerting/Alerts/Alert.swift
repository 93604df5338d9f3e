import Foundation
import Storage

/// PagerDuty's severities, most severe first.
public enum Severity: String, Sendable, CaseIterable, Codable, Comparable {
  case critical, error, warning, info

  /// 0 for critical; a lower rank is more severe.
  public var rank: Int { Self.allCases.firstIndex(of: self) ?? 0 }

  public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rank < rhs.rank }

  public static func parse(_ text: String) throws(AlertInputError) -> Severity {
    guard let severity = Severity(rawValue: text.lowercased()) else {
      throw AlertInputError("invalid severity '\(text)': expected critical, error, warning or info")
    }
    return severity
  }
}

public enum AlertStatus: String, Sendable, CaseIterable, Codable {
  case firing, acknowledged, resolved
}

/// One alert as stored, with whether a silence covers it now.
public struct Alert: Sendable, Equatable {
  public var id: Int64
  public var fingerprint: String
  public var severity: Severity
  public var status: AlertStatus
  public var summary: String
  public var description: String?
  public var runbookURL: String?
  public var labels: [String: String]
  public var source: String
  public var count: Int
  public var firstSeen: Date
  public var lastSeen: Date
  public var acknowledgedBy: String?
  public var acknowledgedAt: Date?
  public var resolvedAt: Date?
  public var snoozedUntil: Date?
  /// Covered by an active silence (recorded, not notified).
  public var silenced: Bool = false

  public init(
    id: Int64, fingerprint: String, severity: Severity, status: AlertStatus, summary: String,
    description: String? = nil, runbookURL: String? = nil, labels: [String: String], source: String, count: Int,
    firstSeen: Date, lastSeen: Date, acknowledgedBy: String? = nil, acknowledgedAt: Date? = nil,
    resolvedAt: Date? = nil, snoozedUntil: Date? = nil, silenced: Bool = false
  ) {
    self.id = id
    self.fingerprint = fingerprint
    self.severity = severity
    self.status = status
    self.summary = summary
    self.description = description
    self.runbookURL = runbookURL
    self.labels = labels
    self.source = source
    self.count = count
    self.firstSeen = firstSeen
    self.lastSeen = lastSeen
    self.acknowledgedBy = acknowledgedBy
    self.acknowledgedAt = acknowledgedAt
    self.resolvedAt = resolvedAt
    self.snoozedUntil = snoozedUntil
    self.silenced = silenced
  }
}

/// A row of an alert's audit trail.
public struct AlertEvent: Sendable, Equatable {
  public var at: Date
  /// raised, repeated, acknowledged, unacked, resolved, snoozed, silenced,
  /// escalated, notified, notification_failed, reopened.
  public var kind: String
  public var actor: String
  public var note: String?
}

/// What `alerts raise`, the engines and ingest hand in.
public struct NewAlert: Sendable, Equatable {
  public var severity: Severity
  public var summary: String
  public var labels: [String: String]
  public var source: String
  /// Dedups by this instead of the labels' fingerprint.
  public var dedupKey: String?
  public var description: String?
  public var runbookURL: String?

  public init(
    severity: Severity, summary: String, labels: [String: String] = [:], source: String = "cli",
    dedupKey: String? = nil, description: String? = nil, runbookURL: String? = nil
  ) {
    self.severity = severity
    self.summary = summary
    self.labels = labels
    self.source = source
    self.dedupKey = dedupKey
    self.description = description
    self.runbookURL = runbookURL
  }

  /// The labels an alert is known by: the given ones, with `alertname`
  /// (the summary when not given).
  public var identity: [String: String] {
    var labels = self.labels
    if labels["alertname"] == nil { labels["alertname"] = summary }
    return labels
  }

  public var fingerprint: String { dedupKey ?? Fingerprint.of(identity) }
}

public struct AlertInputError: ReportableError, Equatable {
  public let message: String
  public init(_ message: String) { self.message = message }
  public var description: String { TerminalText.sanitize(message) }
  public var isBadInput: Bool { true }
}
