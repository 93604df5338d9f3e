import Foundation

/// One matcher of a silence (or a route): `k=v`, `k!=v`, `k=~re`, `k!~re`,
/// regular expressions anchored at both ends as in Alertmanager.
public struct LabelMatcher: Sendable, Equatable, CustomStringConvertible {
  public enum Kind: String, Sendable { case equal = "=", notEqual = "!=", regex = "=~", notRegex = "!~" }
  public var name: String
  public var kind: Kind
  public var value: String

  public init(parsing text: String) throws(AlertInputError) {
    for kind in [Kind.regex, .notRegex, .notEqual, .equal] {
      if let range = text.range(of: kind.rawValue) {
        let name = String(text[..<range.lowerBound]).trimmingCharacters(in: .whitespaces)
        let value = String(text[range.upperBound...]).trimmingCharacters(in: .whitespaces)
          .trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        guard !name.isEmpty, name.allSatisfy({ $0 == "_" || $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
          throw AlertInputError(
            "invalid matcher '\(text)': expected name=value, name!=value, name=~regex or name!~regex")
        }
        if kind == .regex || kind == .notRegex {
          guard (try? Regex("^(?:" + value + ")$")) != nil else {
            throw AlertInputError("invalid matcher '\(text)': '\(value)' is not a regular expression")
          }
        }
        self.name = name
        self.kind = kind
        self.value = value
        return
      }
    }
    throw AlertInputError("invalid matcher '\(text)': expected name=value, name!=value, name=~regex or name!~regex")
  }

  public var description: String { "\(name)\(kind.rawValue)\(value)" }

  /// A missing label matches as the empty string, as in Alertmanager.
  public func matches(_ labels: [String: String]) -> Bool {
    let actual = labels[name] ?? ""
    switch kind {
    case .equal: return actual == value
    case .notEqual: return actual != value
    case .regex, .notRegex:
      let matched = (try? Regex("^(?:" + value + ")$")).map { actual.wholeMatch(of: $0) != nil } ?? false
      return kind == .regex ? matched : !matched
    }
  }
}

/// A silence: alerts whose labels match every matcher while it is active
/// are recorded but not notified.
public struct Silence: Sendable, Equatable {
  public enum State: String, Sendable { case pending, active, expired }
  public var id: Int64
  public var matchers: [LabelMatcher]
  public var startsAt: Date
  public var endsAt: Date
  public var author: String
  public var comment: String
  public var createdAt: Date

  public func state(at now: Date) -> State {
    now < startsAt ? .pending : now < endsAt ? .active : .expired
  }

  public func covers(_ labels: [String: String], at now: Date) -> Bool {
    state(at: now) == .active && matchers.allSatisfy { $0.matches(labels) }
  }
}
