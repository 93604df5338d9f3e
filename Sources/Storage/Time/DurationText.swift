import Foundation

/// A duration written as the command line and the config take it: one or
/// more number–unit pairs, `250ms`, `30s`, `5m`, `2h`, `14d`, `1h30m`.
public struct DurationSyntaxError: ReportableError {
  public let text: String
  public let reason: String

  public var description: String {
    "invalid duration '\(TerminalText.sanitize(text))': \(reason) (expected a number and a unit: 250ms, 30s, 5m, 2h, 14d)"
  }
  public var isBadInput: Bool { true }
}

extension Duration {
  private static let unitsInMilliseconds: [(suffix: String, milliseconds: Double)] = [
    ("ms", 1), ("s", 1_000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000), ("w", 604_800_000),
  ]

  /// Parses `250ms`, `30s`, `5m`, `2h`, `14d`, `2w`, and sums such as `1h30m`.
  /// A bare `0` is zero; any other number needs a unit.
  public init(parsing text: String) throws(DurationSyntaxError) {
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    if trimmed.isEmpty { throw DurationSyntaxError(text: text, reason: "it is empty") }
    if trimmed == "0" {
      self = .zero
      return
    }
    var rest = Substring(trimmed)
    var total = 0.0
    while !rest.isEmpty {
      let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
      guard !number.isEmpty, let value = Double(number) else {
        if rest.first == "-" { throw DurationSyntaxError(text: text, reason: "it is negative") }
        throw DurationSyntaxError(text: text, reason: "'\(rest)' does not start with a number")
      }
      rest = rest.dropFirst(number.count)
      let unitText = rest.prefix { $0.isASCII && $0.isLetter }
      guard !unitText.isEmpty else {
        throw DurationSyntaxError(text: text, reason: "'\(number)' has no unit")
      }
      guard let unit = Self.unitsInMilliseconds.first(where: { $0.suffix == unitText }) else {
        throw DurationSyntaxError(text: text, reason: "unknown unit '\(unitText)'")
      }
      rest = rest.dropFirst(unitText.count)
      total += value * unit.milliseconds
    }
    guard total.isFinite, total < 1e15 else { throw DurationSyntaxError(text: text, reason: "it is too large") }
    self = .milliseconds(Int64(total.rounded()))
  }

  /// Seconds as a `TimeInterval`, for date arithmetic.
  public var timeInterval: TimeInterval {
    let parts = components
    return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
  }

  /// Whole milliseconds, rounded toward zero.
  public var milliseconds: Int64 {
    let parts = components
    return parts.seconds * 1_000 + parts.attoseconds / 1_000_000_000_000_000
  }

  /// The shortest exact text that ``init(parsing:)`` reads back: `90s` is `1m30s`.
  public var compactText: String {
    var remaining = milliseconds
    if remaining == 0 { return "0s" }
    var text = remaining < 0 ? "-" : ""
    remaining = abs(remaining)
    for (suffix, size) in [("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1_000), ("ms", 1)]
      as [(String, Int64)]
    {
      let count = remaining / size
      if count > 0 {
        text += "\(count)\(suffix)"
        remaining -= count * size
      }
    }
    return text
  }
}

extension Duration {
  /// Two units at most, for people reading a report: `3d 4h`, `5h 12m`,
  /// `4m 10s`, `12s`.
  public static func roughText(seconds: Double) -> String {
    let whole = Int(seconds.rounded())
    switch whole {
    case 86_400...: return "\(whole / 86_400)d \(whole % 86_400 / 3_600)h"
    case 3_600...: return "\(whole / 3_600)h \(whole % 3_600 / 60)m"
    case 60...: return "\(whole / 60)m \(whole % 60)s"
    default: return "\(whole)s"
    }
  }
}
