import Foundation
import Scheduler
import Storage

/// `a` in Jobs: a small form that adds a job to a queue. Tab and the
/// arrows move between fields, Enter adds, Esc closes. The input is
/// checked before anything is written; a bad field keeps the form open
/// with one line saying what is expected.
public struct JobForm: Sendable, Equatable {
  public enum Field: Int, CaseIterable, Sendable {
    case queue, name, data, delay, priority, attempts

    var label: String {
      switch self {
      case .queue: return "queue"
      case .name: return "name"
      case .data: return "data (JSON)"
      case .delay: return "delay"
      case .priority: return "priority"
      case .attempts: return "attempts"
      }
    }

    var hint: String {
      switch self {
      case .queue, .name: return ""
      case .data: return #"{} when empty, or {"to": "a@b.c"}"#
      case .delay: return "none, or 30s, 5m, 2h"
      case .priority: return "none, or 1 (highest) up to 2097152"
      case .attempts: return "1 or more"
      }
    }
  }

  public var values: [Field: String]
  public var focus: Field = .name
  /// What was wrong with the last Enter.
  public var error: String? = nil

  public init(queue: String) {
    values = [.queue: queue, .name: "", .data: "", .delay: "", .priority: "", .attempts: "1"]
  }

  public subscript(field: Field) -> String {
    get { values[field] ?? "" }
    set { values[field] = newValue }
  }

  mutating func move(by step: Int) {
    let all = Field.allCases
    focus = all[(focus.rawValue + step + all.count) % all.count]
  }

  /// The job the form describes, or the first bad field's complaint.
  func submission() -> Result<OperatorAction, JobInputError> {
    do throws(JobInputError) {
      let queue = self[.queue].trimmingCharacters(in: .whitespaces)
      let name = self[.name].trimmingCharacters(in: .whitespaces)
      try JobStore.validate(queue: queue)
      try JobStore.validateName(name, what: "job name")
      let typed = self[.data].trimmingCharacters(in: .whitespaces)
      let data = typed.isEmpty ? "{}" : typed
      guard JSONValue(parsing: data) != nil else {
        throw JobInputError("data: not valid JSON (expected an object such as {\"n\": 1})")
      }
      var options = JobOptions()
      let delay = self[.delay].trimmingCharacters(in: .whitespaces)
      if !delay.isEmpty {
        do {
          options.delayMilliseconds = try Duration(parsing: delay).milliseconds
        } catch {
          throw JobInputError("delay: \(error.description)")
        }
      }
      let priority = self[.priority].trimmingCharacters(in: .whitespaces)
      if !priority.isEmpty {
        guard let number = Int(priority) else {
          throw JobInputError("priority: '\(priority)' is not a number (expected 1 to \(JobOptions.maxPriority))")
        }
        options.priority = number
      }
      let attempts = self[.attempts].trimmingCharacters(in: .whitespaces)
      guard let tries = Int(attempts) else { throw JobInputError("attempts: '\(attempts)' is not a number") }
      options.attempts = tries
      try options.validate()
      return .success(.addJob(queue: queue, name: name, data: data, options: options))
    } catch {
      return .failure(error)
    }
  }
}
