import Foundation
import Scheduler
import Storage

/// A small form in an overlay: fields edited in turn (Tab and the arrows
/// move, Enter submits, Esc closes); a bad field keeps it open with one line
/// saying what is expected.
/// A form field's name and the hint shown while it is empty.
protocol FormField {
  var label: String { get }
  var hint: String { get }
}

protocol ConsoleForm: Sendable, Equatable {
  associatedtype Field: CaseIterable, Hashable, Sendable where Field.AllCases == [Field]
  var values: [Field: String] { get set }
  var focus: Field { get set }
  var error: String? { get set }
  /// The action the form asks for, or what is wrong with it.
  func submitted() -> Result<OperatorAction, any Error>
}

/// What a key did to a form.
enum FormStep {
  case editing
  case cancelled
  case submitted(OperatorAction)
}

extension ConsoleForm {
  mutating func move(by step: Int) {
    let all = Field.allCases
    let index = all.firstIndex(of: focus) ?? 0
    focus = all[(index + step + all.count) % all.count]
  }

  mutating func handle(_ key: Key) -> FormStep {
    switch key {
    case .character(let character): values[focus, default: ""].append(character)
    case .backspace: if values[focus]?.isEmpty == false { values[focus]?.removeLast() }
    case .tab, .down: move(by: 1)
    case .backTab, .up: move(by: -1)
    case .escape: return .cancelled
    case .enter:
      switch submitted() {
      case .success(let action): return .submitted(action)
      case .failure(let failure): error = "\(failure)"
      }
    default: break
    }
    return .editing
  }
}

/// `a` in Jobs: a small form that adds a job to a queue. Tab and the
/// arrows move between fields, Enter adds, Esc closes. The input is
/// checked before anything is written; a bad field keeps the form open
/// with one line saying what is expected.
public struct JobForm: ConsoleForm {
  public enum Field: Int, CaseIterable, Sendable, FormField {
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

  func submitted() -> Result<OperatorAction, any Error> { submission().mapError { $0 } }

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
