import Foundation
import GRDB
import Storage

/// A customer account and its trial. Times are instants; `tz` is the IANA
/// zone its e-mails are timed in.
public struct Account: Sendable, Equatable {
  public var id: String
  public var name: String
  public var email: String
  public var tz: String
  public var plan: String
  public var createdAt: Date
  /// The account's trials so far (a second trial runs its sequence again).
  public var trial: Int
  public var trialStartedAt: Date?
  public var trialEndsAt: Date?
  public var expiredAt: Date?
  public var convertedAt: Date?
  public var churnedAt: Date?
  public var suppressedAt: Date?
  public var lastActiveAt: Date?
  public var nextEmailStep: String?
  public var nextEmailAt: Date?

  /// In its trial: not converted, not expired.
  public var inTrial: Bool { plan == "trial" && convertedAt == nil && expiredAt == nil }

  /// Still in its trial's e-mail sequence: a trial account (expired or
  /// not — the last steps speak of the end) not converted, suppressed or churned.
  public var inSequence: Bool { plan == "trial" && convertedAt == nil && suppressedAt == nil && churnedAt == nil }

  static let columns = """
    id, name, email, tz, plan, created_at, trial, trial_started_at, trial_ends_at, expired_at, converted_at,
    churned_at, suppressed_at, last_active_at, next_email_step, next_email_at
    """

  init(row: Row) {
    func date(_ index: Int) -> Date? { (row[index] as Int64?).map(Date.init(epochMilliseconds:)) }
    id = row[0]
    name = row[1]
    email = row[2]
    tz = row[3]
    plan = row[4]
    createdAt = date(5) ?? Date(timeIntervalSince1970: 0)
    trial = row[6]
    trialStartedAt = date(7)
    trialEndsAt = date(8)
    expiredAt = date(9)
    convertedAt = date(10)
    churnedAt = date(11)
    suppressedAt = date(12)
    lastActiveAt = date(13)
    nextEmailStep = row[14]
    nextEmailAt = date(15)
  }
}

/// Days and hours left in a trial, as the console and `trials` show them.
public struct TrialClock: Sendable, Equatable {
  public var millisecondsLeft: Int64

  public init(endsAt: Date, now: Date) {
    millisecondsLeft = endsAt.epochMilliseconds - now.epochMilliseconds
  }

  /// Whole days left, rounded up as people count them ("3 days left" until
  /// the last 72 hours are over); 0 once it has ended.
  public var daysLeft: Int { millisecondsLeft <= 0 ? 0 : Int((millisecondsLeft + 86_399_999) / 86_400_000) }
  public var expired: Bool { millisecondsLeft <= 0 }
  public var expiringSoon: Bool { !expired && millisecondsLeft <= 3 * 86_400_000 }

  /// `12d 4h`, `5h`, `expired`.
  public var text: String {
    if expired { return "expired" }
    let hours = millisecondsLeft / 3_600_000
    return hours >= 24 ? "\(hours / 24)d \(hours % 24)h" : "\(max(hours, 0))h"
  }
}

/// A bad account command: one line naming the input.
public struct LifecycleInputError: ReportableError {
  public let message: String
  public init(_ message: String) { self.message = message }
  public var description: String { TerminalText.sanitize(message) }
  public var isBadInput: Bool { true }
}

/// One line of an account's timeline.
public struct TimelineEntry: Sendable, Equatable {
  public var at: Date
  public var kind: String
  public var actor: String
  public var note: String?
}
