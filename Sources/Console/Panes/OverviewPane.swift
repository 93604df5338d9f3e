import Alerting
import Foundation
import Scheduler

/// "Is anything wrong right now?": the queues' backlog, failures in the
/// last hour and throughput, one line each, then each breaker's state.
/// Enter opens the item in its pane.
enum OverviewPane {
  static func render(_ buffer: inout ScreenBuffer, _ state: ConsoleState, area: Area, now: Date, theme: Theme) {
    queues(&buffer, state, area: area, theme: theme)
    breakers(&buffer, state, area: area, now: now, theme: theme)
    alerts(&buffer, state, area: area, theme: theme)
  }

  /// Right of the title: open alerts by severity (5 opens them).
  static func alerts(_ buffer: inout ScreenBuffer, _ state: ConsoleState, area: Area, theme: Theme) {
    guard let snapshot = state.snapshot else { return }
    let firing = snapshot.firing
    var parts: [(String, Style)] = [("Alerts (5): ", theme.title)]
    if firing.isEmpty {
      parts.append(("none firing", theme.good))
    } else {
      for severity in Severity.allCases {
        if let count = firing[severity] {
          parts.append((" \(count) \(severity.rawValue) ", theme.alert(severity.rawValue)))
        }
      }
      parts.append((" firing", theme.dim))
    }
    let acknowledged = snapshot.alerts.filter { $0.status == .acknowledged }.count
    if acknowledged > 0 { parts.append((", \(acknowledged) acknowledged", theme.dim)) }
    let width = parts.reduce(0) { $0 + DisplayWidth.of($1.0) }
    var x = area.x + area.width - 1 - width
    guard x > area.x + 10 else { return }
    for (text, style) in parts { x += buffer.put(text, x: x, y: area.y + 1, style: style) }
  }

  /// One line per breaker under the queues: state, failure rate, refusals.
  static func breakers(_ buffer: inout ScreenBuffer, _ state: ConsoleState, area: Area, now: Date, theme: Theme) {
    guard let snapshot = state.snapshot, !snapshot.breakers.isEmpty else { return }
    let queues = state.visibleQueues.count
    var y = area.y + 3 + max(1, queues) + 1
    guard y + 2 < area.y + area.height else { return }
    buffer.put("Breakers", x: area.x + 1, y: y, style: theme.title)
    for (index, breaker) in snapshot.breakers.enumerated() {
      y += 1
      if y >= area.y + area.height { break }
      let rate = breaker.failureRate.map { String(format: "failure rate %.0f%%", $0) } ?? "failure rate unknown"
      let until =
        breaker.halfOpenAt.map { $0 <= now ? ", half-open due" : ", half-open " + Format.age($0, now: now) } ?? ""
      buffer.put(Format.pad(breaker.name, 14), x: area.x + 1, y: y, style: .plain, limit: 14)
      buffer.put(
        breaker.state.rawValue.uppercased(), x: area.x + 16, y: y, style: theme.breaker(breaker.state.rawValue))
      buffer.put(
        "\(rate), \(breaker.notPermitted) refused\(until)", x: area.x + 30, y: y, style: theme.dim,
        limit: area.width - 31)
      if index + queues == state.overviewRow { buffer.paint(theme.selection, x: area.x, y: y, count: area.width) }
    }
  }

  static func queues(_ buffer: inout ScreenBuffer, _ state: ConsoleState, area: Area, theme: Theme) {
    guard
      let snapshot = PaneTop.begin(
        &buffer, state, area: area, title: "Queues", theme: theme,
        empty: "no queues yet: add a job with `opsdeck jobs add QUEUE NAME`", isEmpty: { $0.queues.isEmpty })
    else { return }
    let nameWidth = max(12, min(24, snapshot.queues.map { DisplayWidth.of($0.name) }.max() ?? 12))
    let sparkWidth = max(10, min(60, area.width - nameWidth - 63))
    let header =
      Format.pad("QUEUE", nameWidth) + "  " + Format.pad("STATE", 7) + Format.padLeft("WAITING", 8)
      + Format.padLeft("DELAYED", 8)
      + Format.padLeft("ACTIVE", 7) + Format.padLeft("FAILED 1H", 10) + Format.padLeft("DONE/MIN", 9) + "  "
      + "LAST HOUR"
    buffer.put(header, x: area.x + 1, y: area.y + 2, style: theme.columnHeader, limit: area.width - 2)
    for (index, queue) in state.visibleQueues.enumerated() {
      let y = area.y + 3 + index
      if y >= area.y + area.height { break }
      let failed = snapshot.failedLastHour[queue.name] ?? 0
      let line =
        Format.pad(queue.name, nameWidth) + "  " + Format.pad(queue.paused ? "paused" : "running", 7)
        + Format.padLeft(Format.count(queue.counts.waiting), 8)
        + Format.padLeft(Format.count(queue.counts.delayed), 8) + Format.padLeft(Format.count(queue.counts.active), 7)
        + Format.padLeft(Format.count(failed), 10) + Format.padLeft(Format.count(queue.completedLastMinute), 9) + "  "
        + Format.sparkline(snapshot.throughput[queue.name] ?? [], width: sparkWidth, theme: theme)
      let selected = index == state.overviewRow
      buffer.put(line, x: area.x + 1, y: y, style: failed > 0 ? theme.danger : .plain, limit: area.width - 2)
      if queue.paused { buffer.paint(theme.state("paused"), x: area.x + 3 + nameWidth, y: y, count: 6) }
      if selected { buffer.paint(theme.selection, x: area.x, y: y, count: area.width) }
    }
  }
}
