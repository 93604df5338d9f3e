import Alerting
import Foundation
import Storage

/// `s` in Alerts: a silence for alerts like the current one — matchers
/// pre-filled from its labels (edit them to widen or narrow), how long, why.
public struct SilenceForm: ConsoleForm {
  public enum Field: Int, CaseIterable, Sendable, FormField {
    case matchers, duration, comment

    var hint: String {
      switch self {
      case .matchers: return "name=value, name!=value, name=~regex; comma-separated"
      case .duration: return "30m, 2h, 1d"
      case .comment: return "why (the next on-call reads it)"
      }
    }

    var label: String {
      switch self {
      case .matchers: return "matchers"
      case .duration: return "for"
      case .comment: return "comment"
      }
    }
  }

  public var values: [Field: String]
  public var focus: Field = .comment
  public var error: String? = nil

  public init(alert: Alert) {
    let matchers = alert.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
    values = [.matchers: matchers.joined(separator: ", "), .duration: "2h", .comment: ""]
  }

  func submitted() -> Result<OperatorAction, any Error> {
    do {
      let texts = (values[.matchers] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        .filter { !$0.isEmpty }
      guard !texts.isEmpty else { throw AlertInputError("matchers: at least one, such as service=api") }
      let matchers = try texts.map { try LabelMatcher(parsing: $0).description }
      let duration: Duration
      do {
        duration = try Duration(parsing: values[.duration] ?? "")
      } catch {
        throw AlertInputError("for: \(error.description)")
      }
      let comment = (values[.comment] ?? "").trimmingCharacters(in: .whitespaces)
      guard !comment.isEmpty else { throw AlertInputError("comment: say why (the next on-call reads it)") }
      return .success(.silence(matchers: matchers, seconds: duration.milliseconds / 1000, comment: comment))
    } catch {
      return .failure(error)
    }
  }
}
