import Foundation
import Storage

/// A bad job option, flag or payload: one line naming which and why.
public struct JobInputError: ReportableError, Equatable {
  public let message: String
  public init(_ message: String) { self.message = message }
  public var description: String { TerminalText.sanitize(message) }
  public var isBadInput: Bool { true }
}

/// How long to wait before the next attempt of a failed job.
public struct Backoff: Sendable, Equatable, CustomStringConvertible {
  public enum Kind: String, Sendable { case fixed, exponential }

  public var kind: Kind
  public var delayMilliseconds: Int64
  /// A fraction 0...1: the delay is drawn uniformly from [(1-j)·d, d].
  public var jitter: Double

  public init(kind: Kind, delayMilliseconds: Int64, jitter: Double = 0) {
    self.kind = kind
    self.delayMilliseconds = delayMilliseconds
    self.jitter = jitter
  }

  /// `fixed:5s`, `exponential:1s`, `exponential:1s,jitter=0.5`.
  public init(parsing text: String) throws(JobInputError) {
    let usage = "expected fixed:DUR or exponential:DUR[,jitter=F], such as exponential:1s,jitter=0.2"
    let parts = text.split(separator: ",", omittingEmptySubsequences: false)
    let head = parts[0].split(separator: ":", maxSplits: 1)
    guard head.count == 2, let kind = Kind(rawValue: String(head[0])) else {
      throw JobInputError("invalid backoff '\(text)': \(usage)")
    }
    let delay: Duration
    do {
      delay = try Duration(parsing: String(head[1]))
    } catch {
      throw JobInputError("invalid backoff '\(text)': \(error.description)")
    }
    var jitter = 0.0
    for option in parts.dropFirst() {
      let pair = option.split(separator: "=", maxSplits: 1)
      guard pair.count == 2, pair[0] == "jitter", let value = Double(pair[1]), (0...1).contains(value) else {
        throw JobInputError("invalid backoff '\(text)': '\(option)' is not jitter=F with F from 0 to 1")
      }
      jitter = value
    }
    self.init(kind: kind, delayMilliseconds: delay.milliseconds, jitter: jitter)
  }

  public var description: String {
    "\(kind.rawValue):\(Duration.milliseconds(delayMilliseconds).compactText)" + (jitter > 0 ? ",jitter=\(jitter)" : "")
  }

  /// BullMQ's formula: fixed is `d`; exponential is
  /// `round(2^(attemptsMade-1) · d)`. With jitter j, uniform in [(1-j)·d, d].
  public func delay(afterAttempts attemptsMade: Int, random: Double = Double.random(in: 0...1)) -> Int64 {
    let base: Double
    switch kind {
    case .fixed: base = Double(delayMilliseconds)
    case .exponential: base = (pow(2, Double(max(attemptsMade, 1) - 1)) * Double(delayMilliseconds)).rounded()
    }
    let capped = min(base, 9e15)
    guard jitter > 0 else { return Int64(capped) }
    return Int64((capped * (1 - jitter) + capped * jitter * random).rounded())
  }
}

/// How many finished jobs to keep: `remove_on_complete` / `remove_on_fail`.
public enum Retention: Sendable, Equatable, CustomStringConvertible {
  /// Keep the newest N (0 removes the job as soon as it finishes).
  case count(Int)
  /// Keep jobs that finished less than this long ago.
  case age(milliseconds: Int64)

  /// A count (`100`) or an age (`24h`). `true` means remove at once.
  public init(parsing text: String) throws(JobInputError) {
    if text == "true" {
      self = .count(0)
    } else if let count = Int(text), count >= 0 {
      self = .count(count)
    } else {
      do {
        self = .age(milliseconds: try Duration(parsing: text).milliseconds)
      } catch {
        throw JobInputError("invalid retention '\(text)': expected a count (100) or an age (24h)")
      }
    }
  }

  public var description: String {
    switch self {
    case .count(let count): return String(count)
    case .age(let milliseconds): return Duration.milliseconds(milliseconds).compactText
    }
  }
}

/// Options of one job, as BullMQ's `JobsOptions`.
public struct JobOptions: Sendable, Equatable {
  public static let maxPriority = 2_097_152

  public var delayMilliseconds: Int64 = 0
  /// 1 is the highest; nil (0 in the table) runs before every prioritised job.
  public var priority: Int? = nil
  public var attempts: Int = 1
  public var backoff: Backoff? = nil
  /// A job id of the caller's; adding an existing one returns that job.
  public var jobID: String? = nil
  public var timeoutMilliseconds: Int64? = nil
  public var removeOnComplete: Retention? = nil
  public var removeOnFail: Retention? = nil

  public init() {}

  /// Refuses what BullMQ refuses, with the option's name.
  public func validate() throws(JobInputError) {
    if delayMilliseconds < 0 { throw JobInputError("invalid delay: it must not be negative") }
    if let priority, !(1...Self.maxPriority).contains(priority) {
      throw JobInputError("invalid priority \(priority): expected 1 (highest) to \(Self.maxPriority)")
    }
    if attempts < 1 { throw JobInputError("invalid attempts \(attempts): expected 1 or more") }
    if let jobID {
      if jobID.isEmpty { throw JobInputError("invalid job id: it is empty") }
      if jobID.allSatisfy(\.isNumber) {
        throw JobInputError("invalid job id '\(jobID)': custom ids cannot be integers (those are opsdeck's own)")
      }
      if jobID.count > 255 { throw JobInputError("invalid job id: longer than 255 characters") }
    }
    if let timeoutMilliseconds, timeoutMilliseconds <= 0 {
      throw JobInputError("invalid timeout: it must be positive")
    }
  }
}

extension JobOptions {
  /// Reads the `opts` object of `jobs import` lines and schedule options:
  /// `delay`, `priority`, `attempts`, `backoff`, `job_id`, `timeout`,
  /// `remove_on_complete`, `remove_on_fail`. Durations are strings (`30s`)
  /// or milliseconds as numbers.
  public init(json object: [String: Any]) throws(JobInputError) {
    self.init()
    let known: Set<String> = [
      "delay", "priority", "attempts", "backoff", "job_id", "timeout", "remove_on_complete", "remove_on_fail",
    ]
    if let unknown = object.keys.sorted().first(where: { !known.contains($0) }) {
      throw JobInputError("unknown option '\(unknown)' (known: \(known.sorted().joined(separator: ", ")))")
    }
    func milliseconds(_ key: String) throws(JobInputError) -> Int64? {
      guard let value = object[key] else { return nil }
      if let number = value as? NSNumber, !(value is Bool) { return number.int64Value }
      if let text = value as? String {
        do {
          return try Duration(parsing: text).milliseconds
        } catch {
          throw JobInputError("option \(key): \(error.description)")
        }
      }
      throw JobInputError("option \(key): expected a duration such as \"30s\" or milliseconds")
    }
    func integer(_ key: String) throws(JobInputError) -> Int? {
      guard let value = object[key] else { return nil }
      guard let number = value as? NSNumber, !(value is Bool), number.doubleValue == number.doubleValue.rounded()
      else { throw JobInputError("option \(key): expected an integer") }
      return number.intValue
    }
    func retention(_ key: String) throws(JobInputError) -> Retention? {
      guard let value = object[key] else { return nil }
      if let flag = value as? Bool { return flag ? .count(0) : nil }
      if let number = value as? NSNumber { return .count(number.intValue) }
      if let text = value as? String { return try Retention(parsing: text) }
      throw JobInputError("option \(key): expected true, a count or an age such as \"24h\"")
    }
    delayMilliseconds = try milliseconds("delay") ?? 0
    priority = try integer("priority")
    attempts = try integer("attempts") ?? 1
    if let value = object["backoff"] {
      guard let text = value as? String else { throw JobInputError("option backoff: expected a string") }
      backoff = try Backoff(parsing: text)
    }
    if let value = object["job_id"] {
      guard let text = value as? String else { throw JobInputError("option job_id: expected a string") }
      jobID = text
    }
    timeoutMilliseconds = try milliseconds("timeout")
    removeOnComplete = try retention("remove_on_complete")
    removeOnFail = try retention("remove_on_fail")
    try validate()
  }
}
