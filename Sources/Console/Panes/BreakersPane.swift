import Foundation
import Resilience
import Storage

/// Each dependency's circuit breaker: state in colour and word, failure and
/// slow-call rates against their thresholds as bars, calls in the window,
/// calls refused, time until half-open, last error. Enter shows history
/// and recent calls.
enum BreakersPane {
  /// The screen row of the first breaker (header, tab bar, title, column header).
  static let firstRow = 5

  /// `███▌░░░░░░ 35%/50%`: the rate as a bar, then rate and threshold;
  /// `-` and the calls so far while the rate is unknown.
  static func bar(_ rate: Double?, threshold: Double, calls: Int, minimum: Int, theme: Theme) -> (String, Style) {
    guard let rate else { return ("- (\(calls)/\(minimum) calls)", theme.dim) }
    let filled = min(8, Int((rate / 100 * 8).rounded()))
    let text =
      String(repeating: theme.barFull, count: filled) + String(repeating: theme.barEmpty, count: 8 - filled)
      + String(format: " %3.0f%%/%.0f%%", rate, threshold)
    return (text, rate >= threshold ? theme.danger : theme.good)
  }

  static func render(_ buffer: inout ScreenBuffer, _ state: ConsoleState, area: Area, now: Date, theme: Theme) {
    guard
      let snapshot = PaneTop.begin(
        &buffer, state, area: area, title: "Circuit breakers", theme: theme,
        empty: "no dependencies: add [dependencies.NAME] to the configuration", isEmpty: { $0.breakers.isEmpty })
    else { return }
    let nameWidth = max(10, min(18, snapshot.breakers.map { DisplayWidth.of($0.name) }.max() ?? 10))
    let columns: [(String, Int)] = [
      ("NAME", nameWidth), ("STATE", 12), ("FAILURE", 19), ("SLOW", 19), ("REFUSED", 7), ("HALF-OPEN", 9),
    ]
    var x = area.x + 1
    for (title, width) in columns {
      buffer.put(title, x: x, y: area.y + 2, style: theme.columnHeader)
      x += width + 1
    }
    buffer.put("LAST ERROR", x: x, y: area.y + 2, style: theme.columnHeader, limit: max(0, area.x + area.width - x - 1))
    for (index, breaker) in snapshot.breakers.enumerated() {
      let y = area.y + 3 + index
      if y >= area.y + area.height - 1 { break }
      let settings = snapshot.breakerSettings[breaker.name] ?? BreakerSettings()
      var x = area.x + 1
      buffer.put(Format.pad(breaker.name, nameWidth), x: x, y: y, style: .plain, limit: nameWidth)
      x += nameWidth + 1
      buffer.put(breaker.state.rawValue.uppercased(), x: x, y: y, style: theme.breaker(breaker.state.rawValue))
      x += 13
      let failure = bar(
        breaker.failureRate, threshold: settings.failureRateThreshold, calls: breaker.bufferedCalls,
        minimum: settings.effectiveMinimumCalls, theme: theme)
      buffer.put(failure.0, x: x, y: y, style: failure.1, limit: 19)
      x += 20
      let slow = bar(
        breaker.slowCallRate, threshold: settings.slowCallRateThreshold, calls: breaker.bufferedCalls,
        minimum: settings.effectiveMinimumCalls, theme: theme)
      buffer.put(slow.0, x: x, y: y, style: slow.1, limit: 19)
      x += 20
      buffer.put(Format.padLeft(Format.count(breaker.notPermitted), 7), x: x, y: y, style: .plain)
      x += 8
      let until = breaker.halfOpenAt.map { $0 <= now ? "due" : Format.age($0, now: now) } ?? "-"
      buffer.put(Format.padLeft(until, 9), x: x, y: y, style: .plain)
      x += 10
      buffer.put(
        breaker.lastError ?? "", x: x, y: y, style: theme.dim, limit: max(0, area.x + area.width - x - 1))
      if breaker.name == state.selectedBreaker { buffer.paint(theme.selection, x: area.x, y: y, count: area.width) }
    }
  }
}

/// Enter on a breaker: its transitions (when, from, to, why, who) and its
/// recent calls with their latency.
enum BreakerOverlay {
  static func render(_ buffer: inout ScreenBuffer, _ state: ConsoleState, name: String, now: Date, theme: Theme) {
    var lines: [(String, Style)] = []
    guard let detail = state.breakerDetail, detail.name == name else {
      Box.draw(&buffer, lines: [("loading…", theme.dialog)], title: "breaker \(name)", theme: theme)
      return
    }
    lines.append(("transitions", theme.dialogHeading))
    if detail.history.isEmpty { lines.append(("  none yet", theme.dialog)) }
    for entry in detail.history.prefix(8) {
      let who = entry.actor.map { " by \($0)" } ?? ""
      lines.append(
        (
          "  \(Format.age(entry.at, now: now)) ago  \(entry.from.rawValue) → \(entry.to.rawValue)  \(entry.reason)\(who)",
          theme.dialog
        ))
    }
    lines.append(("recent calls", theme.dialogHeading))
    if detail.calls.isEmpty { lines.append(("  none yet", theme.dialog)) }
    for call in detail.calls.prefix(8) {
      let error = call.error.map { "  \($0)" } ?? ""
      lines.append(
        (
          "  \(Format.age(call.at, now: now)) ago  \(Format.pad(call.outcome, 8)) \(Format.padLeft("\(call.latencyMilliseconds)", 6)) ms\(error)",
          theme.dialog
        ))
    }
    lines.append(("", theme.dialog))
    lines.append(("Esc closes", theme.dialog))
    Box.draw(&buffer, lines: lines, title: "breaker \(name)", theme: theme)
  }
}
