import Alerting
import Foundation
import Storage

/// Open alerts grouped by severity, most severe and oldest first: severity
/// (word and colour), status, summary, source, age, count, who
/// acknowledged. Space marks rows; `a` acknowledges, `u` undoes, `r`
/// resolves; Enter shows labels, annotations and the audit trail.
enum AlertsPane {
  enum Line: Equatable {
    case heading(Severity, Int)
    case alert(Alert)
  }

  /// The screen row of the first line (header, tab bar, title, column header).
  static let firstRow = 5

  static func lines(_ state: ConsoleState) -> [Line] {
    let alerts = state.visibleAlerts
    var lines: [Line] = []
    for severity in Severity.allCases {
      let group = alerts.filter { $0.severity == severity }
      if group.isEmpty { continue }
      lines.append(.heading(severity, group.count))
      lines += group.map(Line.alert)
    }
    return lines
  }

  /// The lines shown: a window that keeps the selected alert in view.
  static func window(_ lines: [Line], selected: Int64?, height: Int) -> Range<Int> {
    let index =
      lines.firstIndex { if case .alert(let alert) = $0 { return alert.id == selected } else { return false } } ?? 0
    return ListWindow.range(count: lines.count, selected: index, height: height, firstRow: firstRow)
  }

  static func alert(atRow y: Int, _ state: ConsoleState) -> Int64? {
    let all = lines(state)
    let shown = window(all, selected: state.selectedAlert, height: state.height)
    let index = shown.lowerBound + y - firstRow
    guard y >= firstRow, shown.contains(index), case .alert(let alert) = all[index] else { return nil }
    return alert.id
  }

  static func render(_ buffer: inout ScreenBuffer, _ state: ConsoleState, area: Area, now: Date, theme: Theme) {
    let filters = [state.alertSeverity?.rawValue, state.alertStatus].compactMap { $0 }
    let title = "Alerts" + (filters.isEmpty ? "" : " (\(filters.joined(separator: ", ")) only)")
    guard
      PaneTop.begin(
        &buffer, state, area: area, title: title, theme: theme,
        empty: "no open alerts: nothing is wrong (or `opsdeck alerts raise` to try)",
        isEmpty: { _ in state.visibleAlerts.isEmpty }) != nil
    else { return }
    let summaryWidth = max(16, area.width - 2 - 2 - 9 - 14 - 14 - 6 - 6 - 10 - 6)
    func row(_ cells: [String]) -> String {
      Format.pad(cells[0], 2) + Format.pad(cells[1], 9) + Format.pad(cells[2], 14)
        + Format.pad(cells[3], summaryWidth) + " " + Format.pad(cells[4], 13) + Format.padLeft(cells[5], 6)
        + Format.padLeft(cells[6], 6) + "  " + cells[7]
    }
    buffer.put(
      row(["", "SEVERITY", "STATUS", "SUMMARY", "SOURCE", "AGE", "COUNT", "ACKED BY"]), x: area.x + 1, y: area.y + 2,
      style: theme.columnHeader, limit: area.width - 2)
    let all = lines(state)
    let shown = window(all, selected: state.selectedAlert, height: state.height)
    for (offset, index) in shown.enumerated() {
      let y = area.y + 3 + offset
      switch all[index] {
      case .heading(let severity, let count):
        buffer.put(
          "\(severity.rawValue.uppercased()) (\(count))", x: area.x + 1, y: y, style: theme.alert(severity.rawValue))
      case .alert(let alert):
        var status = alert.status.rawValue
        if alert.silenced {
          status = "silenced"
        } else if let until = alert.snoozedUntil, until > now {
          status = "snoozed"
        }
        let clean = TerminalText.sanitize(alert.summary)
        let summary =
          DisplayWidth.of(clean) > summaryWidth ? String(clean.prefix(summaryWidth - 1)) + theme.ellipsis : clean
        let line = row([
          state.markedAlerts.contains(alert.id) ? "*" : "", alert.severity.rawValue, status, summary,
          TerminalText.sanitize(alert.source),
          Timestamp.span(from: now, to: alert.firstSeen).text, String(alert.count), alert.acknowledgedBy ?? "",
        ])
        let style = alert.status == .firing && !alert.silenced ? Style.plain : theme.dim
        buffer.put(line, x: area.x + 1, y: y, style: style, limit: area.width - 2)
        buffer.paint(theme.alert(alert.severity.rawValue), x: area.x + 3, y: y, count: alert.severity.rawValue.count)
        if alert.id == state.selectedAlert { buffer.paint(theme.selection, x: area.x, y: y, count: area.width) }
      }
    }
    let total = state.visibleAlerts.count
    let position = "\(total) open" + (state.markedAlerts.isEmpty ? "" : ", \(state.markedAlerts.count) marked")
    ListWindow.position(position, &buffer, in: area, theme: theme)
  }
}

/// Enter on an alert: labels, annotations, times, and the audit trail.
enum AlertOverlay {
  static func render(_ buffer: inout ScreenBuffer, _ state: ConsoleState, id: Int64, now: Date, theme: Theme) {
    guard let detail = state.alertDetail, detail.alert.id == id else {
      Box.draw(&buffer, lines: [("loading…", theme.dialog)], title: "alert \(id)", theme: theme)
      return
    }
    let alert = detail.alert
    var lines: [(String, Style)] = [
      ("\(alert.severity.rawValue.uppercased())  \(alert.status.rawValue)  \(alert.summary)", theme.dialog),
      ("fingerprint \(alert.fingerprint)  source \(alert.source)  seen \(alert.count)×", theme.dialog),
      (
        "first \(Timestamp.format(alert.firstSeen))  last \(Format.age(alert.lastSeen, now: now)) ago",
        theme.dialog
      ),
    ]
    if let description = alert.description { lines.append((description, theme.dialog)) }
    if let runbook = alert.runbookURL { lines.append(("runbook \(runbook)", theme.dialog)) }
    lines.append(("labels", theme.dialogHeading))
    lines += alert.labels.sorted { $0.key < $1.key }.map { ("  \($0.key)=\($0.value)", theme.dialog) }
    lines.append(("audit trail", theme.dialogHeading))
    for event in detail.events.suffix(10) {
      let note = event.note.map { "  \($0)" } ?? ""
      lines.append(("  \(Format.age(event.at, now: now)) ago  \(event.kind) by \(event.actor)\(note)", theme.dialog))
    }
    if !detail.notifications.isEmpty {
      lines.append(("notifications", theme.dialogHeading))
      for notification in detail.notifications.suffix(6) {
        let when = notification.sentAt.map { "sent \(Format.age($0, now: now)) ago" } ?? notification.state
        let error = notification.lastError.map { "  \($0)" } ?? ""
        let group = notification.alerts > 1 ? " (\(notification.alerts) alerts)" : ""
        lines.append(
          (
            "  \(notification.receiver) \(notification.event)\(group)  \(when), \(notification.attempts) tries\(error)",
            theme.dialog
          ))
      }
    }
    lines.append(("", theme.dialog))
    lines.append(("Esc closes", theme.dialog))
    Box.draw(&buffer, lines: lines, title: "alert \(id)", theme: theme)
  }
}

/// `a`: the acknowledgement's optional note.
enum AckNoteOverlay {
  static func render(_ buffer: inout ScreenBuffer, ids: [Int64], note: String, theme: Theme) {
    Box.draw(
      &buffer,
      lines: [
        (
          "Acknowledge \(ids.count == 1 ? "alert" : "alerts") \(ids.map(String.init).joined(separator: ", "))",
          theme.dialog
        ),
        ("note (optional): \(note)_", theme.selection), ("", theme.dialog),
        ("Enter acknowledges   Esc cancels", theme.dialog),
      ], title: "Acknowledge", theme: theme)
  }
}
