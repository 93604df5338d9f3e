import Analytics
import Foundation
import Storage

/// The growth team's pane: headline metrics with their week-over-week
/// change, the chosen saved funnel (each step a bar with its count,
/// conversion from the first and the previous step, median time, drop-offs),
/// its breakdown when on, and the saved retention report as a triangle of
/// shaded cells. Readable in 80 columns.
enum FunnelsPane {
  /// The screen row of the first step.
  static let firstStepRow = 6

  static func span(_ seconds: Double?) -> String { seconds.map(Duration.roughText(seconds:)) ?? "" }

  static func percent(_ value: Double?) -> String { value.map { String(format: "%.1f%%", $0 * 100) } ?? "-" }

  /// `▲4%` / `▼12%` after a figure.
  static func change(_ figure: MetricsReport.Figure, theme: Theme) -> String {
    guard let change = figure.change else { return "" }
    let arrow = change >= 0 ? (theme.ascii ? "+" : "▲") : (theme.ascii ? "-" : "▼")
    let size = abs(change) * 100
    return size < 10 ? String(format: "%@%.1f%%", arrow, size) : String(format: "%@%.0f%%", arrow, size)
  }

  static func render(_ buffer: inout ScreenBuffer, _ state: ConsoleState, area: Area, now: Date, theme: Theme) {
    guard let snapshot = state.snapshot else {
      buffer.put("Funnels", x: area.x + 1, y: area.y + 1, style: theme.title)
      buffer.put("loading…", x: area.x + 1, y: area.y + 3, style: theme.dim)
      return
    }
    guard let growth = snapshot.growth else {
      buffer.put("Funnels", x: area.x + 1, y: area.y + 1, style: theme.title)
      buffer.put("loading…", x: area.x + 1, y: area.y + 3, style: theme.dim)
      return
    }
    let width = area.width - 2
    let position = growth.funnelNames.firstIndex(of: growth.name).map { "\($0 + 1)/\(growth.funnelNames.count)" } ?? ""
    var title = "Funnels  \(growth.name) \(position)  window \(growth.query.window.compactText)"
    title += state.growth.days.map { "  last \($0)d" } ?? "  all events"
    if let property = growth.query.breakdown { title += "  by \(property)" }
    buffer.put(title, x: area.x + 1, y: area.y + 1, style: theme.title, limit: width)
    if let metrics = growth.metrics {
      var parts: [(String, String)] = [
        ("activation", percent(metrics.activationRate.value) + " " + change(metrics.activationRate, theme: theme)),
        ("1st recon", span(metrics.medianTimeToFirstReconciliation.value)),
        ("WAU", metrics.weeklyActive.value.map { "\(Int($0))" } ?? "-"),
        ("MRR", metrics.mrr.value.map { String(format: "$%.0f", $0) } ?? "-"),
        ("churn", percent(metrics.churnRate.value)),
      ]
      parts[2].1 += " " + change(metrics.weeklyActive, theme: theme)
      parts[3].1 += " " + change(metrics.mrr, theme: theme)
      let line = parts.map { "\($0.0) \($0.1.trimmingCharacters(in: .whitespaces))" }.joined(separator: "  ")
      buffer.put(line, x: area.x + 1, y: area.y + 2, style: theme.dim, limit: width)
    }
    if let error = growth.error {
      buffer.put(error, x: area.x + 1, y: area.y + 4, style: theme.danger, limit: width)
      return
    }
    // Steps: name, bar, count, of first, of previous, median, dropped.
    let nameWidth = max(10, min(26, growth.query.steps.map(DisplayWidth.of).max() ?? 10))
    let barWidth = max(8, min(20, width - nameWidth - 3 - 8 - 8 - 8 - 9 - 8))
    func row(_ cells: [String]) -> String {
      Format.fit(cells[0], nameWidth + 2, ellipsis: theme.ellipsis) + " " + Format.pad(cells[1], barWidth + 1)
        + Format.padLeft(cells[2], 7) + Format.padLeft(cells[3], 8) + Format.padLeft(cells[4], 8)
        + Format.padLeft(cells[5], 9) + Format.padLeft(cells[6], 8)
    }
    buffer.put(
      row(["STEP", "", "ACTORS", "OF 1ST", "OF PREV", "MEDIAN", "DROPPED"]), x: area.x + 1, y: area.y + 3,
      style: theme.columnHeader, limit: width)
    let peak = max(1, growth.steps.first?.count ?? 1)
    var y = area.y + 4
    for (index, step) in growth.steps.enumerated() where y < area.y + area.height - 1 {
      let filled = Int((Double(step.count) / Double(peak) * Double(barWidth)).rounded())
      let bar = String(repeating: theme.barFull, count: filled)
      buffer.put(
        row([
          "\(index + 1) \(TerminalText.sanitize(step.event))", bar, "\(step.count)", percent(step.conversionFromFirst),
          index == 0 ? "" : percent(step.conversionFromPrevious), span(step.medianSeconds),
          index == 0 ? "" : "\(step.dropped)",
        ]), x: area.x + 1, y: y, style: .plain, limit: width)
      buffer.paint(theme.good, x: area.x + 1 + nameWidth + 3, y: y, count: filled)
      if index == state.selectedStep { buffer.paint(theme.selection, x: area.x, y: y, count: area.width) }
      y += 1
    }
    y += 1
    if !growth.breakdown.isEmpty, y < area.y + area.height - 2 {
      // One bar group per value: at each step a bar of the share of the
      // value's first step that got there, and the count.
      let valueWidth = 14
      let cell = max(8, min(14, (width - valueWidth) / max(1, growth.steps.count)))
      var header = Format.fit((growth.query.breakdown ?? "").uppercased(), valueWidth, ellipsis: theme.ellipsis)
      for index in growth.steps.indices { header += Format.padLeft("\(index + 1)", cell) }
      buffer.put(header, x: area.x + 1, y: y, style: theme.columnHeader, limit: width)
      y += 1
      for group in growth.breakdown where y < area.y + area.height - 1 {
        var line = Format.fit(
          group.value.isEmpty ? "(none)" : TerminalText.sanitize(group.value), valueWidth, ellipsis: theme.ellipsis)
        let barCells = cell - 8
        var bars: [(x: Int, count: Int)] = []
        for step in group.steps {
          let filled = Int((step.conversionFromFirst * Double(barCells)).rounded())
          bars.append((area.x + 1 + DisplayWidth.of(line) + 1, filled))
          line +=
            " " + Format.pad(String(repeating: theme.barFull, count: filled), barCells)
            + Format.padLeft("\(step.count)", 7)
        }
        buffer.put(line, x: area.x + 1, y: y, style: .plain, limit: width)
        for bar in bars where bar.count > 0 && bar.x < area.x + area.width - 1 {
          buffer.paint(theme.good, x: bar.x, y: y, count: min(bar.count, area.x + area.width - 1 - bar.x))
        }
        y += 1
      }
      y += 1
    }
    guard y < area.y + area.height - 2 else { return }
    let unit = growth.retentionPeriod.rawValue.prefix(1).uppercased()
    buffer.put(
      "RETENTION  \(growth.retentionName)", x: area.x + 1, y: y, style: theme.dialogHeading, limit: width)
    y += 1
    let cellWidth = 5
    var header = Format.pad("COHORT", 11) + Format.padLeft("SIZE", 6) + " "
    for period in 0..<8 { header += Format.padLeft("\(unit)\(period)", cellWidth) }
    buffer.put(header, x: area.x + 1, y: y, style: theme.columnHeader, limit: width)
    y += 1
    // The newest cohorts that fit.
    let room = max(0, area.y + area.height - 1 - y)
    for cohort in growth.retention.suffix(room) {
      buffer.put(Format.pad(cohort.start, 11) + Format.padLeft("\(cohort.size)", 6), x: area.x + 1, y: y, style: .plain)
      var x = area.x + 1 + 18
      for percentage in cohort.percentages where x + cellWidth <= area.x + area.width - 1 {
        let text = Format.padLeft(cohort.size == 0 ? "-" : "\(Int(percentage.rounded()))%", cellWidth - 1) + " "
        buffer.put(text, x: x, y: y, style: cohort.size == 0 ? theme.dim : theme.shade(percentage))
        x += cellWidth
      }
      y += 1
    }
  }
}

/// Enter on a step: the actors who dropped off there; Enter opens one's timeline.
enum DroppedOverlay {
  static func render(_ buffer: inout ScreenBuffer, _ state: ConsoleState, step: Int, selected: Int, theme: Theme) {
    let growth = state.snapshot?.growth
    let actors = growth?.dropped[safe: step - 1] ?? []
    let event = growth?.query.steps[safe: step - 1] ?? "step \(step)"
    var lines: [(String, Style)] = []
    let rows = max(3, state.height - 10)
    let first = max(0, min(selected - rows / 2, actors.count - rows))
    if actors.isEmpty { lines.append(("nobody dropped off here", theme.dialog)) }
    for (index, actor) in actors.enumerated().dropFirst(first).prefix(rows) {
      lines.append(
        (
          (index == selected ? "\(theme.pointer) " : "  ") + TerminalText.sanitize(actor),
          index == selected ? theme.dialogHeading : theme.dialog
        ))
    }
    lines.append(("", theme.dialog))
    lines.append(("j/k move, Enter opens the account, Esc closes", theme.dialog))
    Box.draw(&buffer, lines: lines, title: "\(actors.count) reached step \(step - 1) but not \(event)", theme: theme)
  }
}
