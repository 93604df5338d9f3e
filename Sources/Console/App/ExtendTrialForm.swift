import Foundation
import Lifecycle
import Storage

/// `e` in Trials: how many days to add, and why (kept on the timeline).
public struct ExtendTrialForm: ConsoleForm {
  public enum Field: Int, CaseIterable, Sendable, FormField {
    case days, reason

    var hint: String {
      switch self {
      case .days: return "1 to 365"
      case .reason: return "why (kept on the account's timeline)"
      }
    }

    var label: String {
      switch self {
      case .days: return "days"
      case .reason: return "reason"
      }
    }
  }

  public let account: String
  public var values: [Field: String]
  public var focus: Field = .reason
  public var error: String? = nil

  public init(account: String) {
    self.account = account
    values = [.days: "7", .reason: ""]
  }

  func submitted() -> Result<OperatorAction, any Error> {
    guard let days = Int((values[.days] ?? "").trimmingCharacters(in: .whitespaces)), (1...365).contains(days) else {
      return .failure(LifecycleInputError("days: a whole number from 1 to 365"))
    }
    let reason = (values[.reason] ?? "").trimmingCharacters(in: .whitespaces)
    guard !reason.isEmpty else { return .failure(LifecycleInputError("reason: say why")) }
    return .success(.extendTrial(account: account, days: days, reason: reason))
  }
}
