import Alerting
import Foundation
import Scheduler
import Storage

/// Draws the whole console: header, tab bar, the pane, message and footer,
/// and any overlay. A pure function of the state, the time and the theme.
public enum Frame {
  public static func render(_ state: ConsoleState, now: Date, theme: Theme) -> ScreenBuffer {
    var buffer = ScreenBuffer(width: state.width, height: state.height)
    if state.isTooSmall {
      let lines = [
        "terminal too small",
        "\(state.width)x\(state.height), needs \(ConsoleState.minimumWidth)x\(ConsoleState.minimumHeight)",
        "q quits",
      ]
      for (index, line) in lines.enumerated() {
        let y = state.height / 2 - 1 + index
        buffer.put(line, x: max(0, (state.width - DisplayWidth.of(line)) / 2), y: y, style: theme.warning)
      }
      return buffer
    }
    header(&buffer, state, now: now, theme: theme)
    tabs(&buffer, state, theme: theme)
    let body = Area(x: 0, y: 2, width: state.width, height: state.height - 4)
    switch state.pane {
    case .overview: OverviewPane.render(&buffer, state, area: body, now: now, theme: theme)
    case .jobs: JobsPane.render(&buffer, state, area: body, now: now, theme: theme)
    case .schedules: SchedulesPane.render(&buffer, state, area: body, now: now, theme: theme)
    case .breakers: BreakersPane.render(&buffer, state, area: body, now: now, theme: theme)
    case .alerts: AlertsPane.render(&buffer, state, area: body, now: now, theme: theme)
    case .trials: TrialsPane.render(&buffer, state, area: body, now: now, theme: theme)
    case .funnels: FunnelsPane.render(&buffer, state, area: body, now: now, theme: theme)
    }
    if let line = state.commandLine {
      buffer.put(":" + line.text + "_", x: 1, y: state.height - 2, style: theme.footerKey, limit: state.width - 2)
      if let message = state.message {
        let x = DisplayWidth.of(line.text) + 5
        buffer.put(message, x: x, y: state.height - 2, style: theme.dim, limit: state.width - x - 1)
      }
    } else if let filter = state.filter {
      let line = "/" + filter + (state.editingFilter ? "_" : "") + "   (Enter keeps, Esc clears)"
      buffer.put(line, x: 1, y: state.height - 2, style: theme.footerKey, limit: state.width - 2)
    } else if let message = state.message {
      buffer.put(message, x: 1, y: state.height - 2, style: theme.warning, limit: state.width - 2)
    }
    footer(&buffer, state, theme: theme)
    switch state.overlay {
    case .help: HelpOverlay.render(&buffer, state, theme: theme)
    case .confirm(let action): ConfirmOverlay.render(&buffer, action: action, theme: theme)
    case .job(let id): JobOverlay.render(&buffer, state, jobID: id, now: now, theme: theme)
    case .addJob(let form): FormOverlay.render(&buffer, form, title: "Add a job", submit: "add", theme: theme)
    case .silence(let form): FormOverlay.render(&buffer, form, title: "Silence", submit: "silences", theme: theme)
    case .breaker(let name): BreakerOverlay.render(&buffer, state, name: name, now: now, theme: theme)
    case .alert(let id): AlertOverlay.render(&buffer, state, id: id, now: now, theme: theme)
    case .ackNote(let ids, let note): AckNoteOverlay.render(&buffer, ids: ids, note: note, theme: theme)
    case .account(let id): AccountOverlay.render(&buffer, state, id: id, now: now, theme: theme)
    case .dropped(let step, let selected):
      DroppedOverlay.render(&buffer, state, step: step, selected: selected, theme: theme)
    case .extendTrial(let form):
      FormOverlay.render(&buffer, form, title: "Extend the trial of \(form.account)", submit: "extends", theme: theme)
    case nil: break
    }
    return buffer
  }

  static func header(_ buffer: inout ScreenBuffer, _ state: ConsoleState, now: Date, theme: Theme) {
    buffer.clear(y: 0, style: theme.header)
    let role = state.user.readOnly ? "viewer" : "operator"
    let live = state.liveUpdates ? "live" : "PAUSED"
    let clock = Timestamp.format(Date(timeIntervalSince1970: (now.timeIntervalSince1970).rounded(.down)))
    let left = " opsdeck  \(state.databaseName)  \(state.user.name) (\(role))  updates: \(live)"
    buffer.put(left, x: 0, y: 0, style: theme.header, limit: state.width - DisplayWidth.of(clock) - 2)
    buffer.put(clock + " ", x: state.width - DisplayWidth.of(clock) - 1, y: 0, style: theme.header)
    // Firing alerts by severity, on every pane, left of the clock.
    let firing = state.snapshot?.firing ?? [:]
    var x = state.width - DisplayWidth.of(clock) - 2
    for severity in Severity.allCases.reversed() {
      guard let count = firing[severity], count > 0 else { continue }
      let text = " \(count) \(severity.rawValue) "
      x -= DisplayWidth.of(text) + 1
      if x <= DisplayWidth.of(left) { break }
      buffer.put(text, x: x, y: 0, style: theme.alert(severity.rawValue))
    }
  }

  /// Each tab's label and column: padded when the row has room, tight
  /// (as on an 80-column terminal) when it has not.
  static func tabLayout(width: Int) -> [(pane: PaneID, label: String, x: Int)] {
    let roomy = PaneID.allCases.reduce(1) { $0 + DisplayWidth.of(" \($1.rawValue) \($1.title) ") + 1 } <= width
    var x = 1
    return PaneID.allCases.map { pane in
      let label = roomy ? " \(pane.rawValue) \(pane.title) " : "\(pane.rawValue) \(pane.title)"
      defer { x += DisplayWidth.of(label) + (roomy ? 1 : 2) }
      return (pane, label, x)
    }
  }

  static func tabs(_ buffer: inout ScreenBuffer, _ state: ConsoleState, theme: Theme) {
    for tab in tabLayout(width: state.width) {
      buffer.put(tab.label, x: tab.x, y: 1, style: tab.pane == state.pane ? theme.activeTab : theme.tab)
    }
  }

  static func footer(_ buffer: inout ScreenBuffer, _ state: ConsoleState, theme: Theme) {
    let y = state.height - 1
    var x = 1
    var seen = Set<Action>()
    for binding in state.bindings where binding.footer && seen.insert(binding.action).inserted {
      let key = binding.key.description
      if x + DisplayWidth.of(key) + DisplayWidth.of(binding.help) + 3 > state.width { break }
      x += buffer.put(key, x: x, y: y, style: theme.footerKey)
      x += buffer.put(" " + binding.help + "  ", x: x, y: y, style: theme.footer)
    }
  }
}

/// The top of a table pane: its title, then either the snapshot to draw
/// from, or "loading…" or the pane's note for an empty list drawn instead.
enum PaneTop {
  static func begin(
    _ buffer: inout ScreenBuffer, _ state: ConsoleState, area: Area, title: String, theme: Theme,
    empty: String, isEmpty: (ConsoleSnapshot) -> Bool
  ) -> ConsoleSnapshot? {
    buffer.put(title, x: area.x + 1, y: area.y + 1, style: theme.title)
    guard let snapshot = state.snapshot else {
      buffer.put("loading…", x: area.x + 1, y: area.y + 3, style: theme.dim)
      return nil
    }
    if isEmpty(snapshot) {
      buffer.put(empty, x: area.x + 1, y: area.y + 3, style: theme.dim, limit: area.width - 2)
      return nil
    }
    return snapshot
  }
}

/// The part of a long list a pane shows: the rows from `firstRow` down to
/// the line above the pane's position line, with `selected` kept in view
/// (centred when it can be).
enum ListWindow {
  static func range(count: Int, selected: Int, height: Int, firstRow: Int) -> Range<Int> {
    let rows = max(0, height - 3 - firstRow)
    let first = max(0, min(selected - rows / 2, count - rows))
    return first..<min(count, first + rows)
  }

  /// The pane's position line ("1–200 of 4,000", "12 open"): dim, at the
  /// bottom right of its area.
  static func position(_ text: String, _ buffer: inout ScreenBuffer, in area: Area, theme: Theme) {
    buffer.put(
      text, x: area.x + area.width - 1 - DisplayWidth.of(text), y: area.y + area.height - 1, style: theme.dim)
  }
}

/// A rectangle of the screen given to a pane.
public struct Area: Sendable {
  public var x: Int
  public var y: Int
  public var width: Int
  public var height: Int
}

/// Small text helpers for panes.
enum Format {
  static func count(_ value: Int) -> String {
    switch value {
    case ..<10_000: return String(value)
    case ..<1_000_000: return String(format: "%.1fk", Double(value) / 1_000)
    default: return String(format: "%.1fM", Double(value) / 1_000_000)
    }
  }

  /// `1,234,567`, whatever the locale.
  static func grouped(_ value: Int) -> String {
    let digits = String(value.magnitude)
    var text = ""
    for (index, digit) in digits.enumerated() {
      if index > 0 && (digits.count - index) % 3 == 0 { text.append(",") }
      text.append(digit)
    }
    return value < 0 ? "-" + text : text
  }

  /// `3m` ago, or `in 3m`.
  static func age(_ date: Date?, now: Date) -> String {
    guard let date else { return "-" }
    let span = Timestamp.span(from: now, to: date)
    return span.future ? "in " + span.text : span.text
  }

  /// `3m ago`, or `in 3m`: for timelines that hold planned times too.
  static func relative(_ date: Date, now: Date) -> String {
    let span = Timestamp.span(from: now, to: date)
    return span.future ? "in " + span.text : span.text + " ago"
  }

  /// A job's run time in at most six columns: `340ms`, `4.2s`, `3m12s`, `2h05m`.
  static func duration(from start: Date?, to end: Date?) -> String {
    guard let start, let end else { return "-" }
    let milliseconds = max(0, Int((end.timeIntervalSince(start) * 1000).rounded()))
    switch milliseconds {
    case ..<1_000: return "\(milliseconds)ms"
    case ..<10_000: return String(format: "%.1fs", Double(milliseconds) / 1000)
    case ..<60_000: return "\(milliseconds / 1000)s"
    case ..<3_600_000: return String(format: "%dm%02ds", milliseconds / 60_000, milliseconds / 1000 % 60)
    default: return String(format: "%dh%02dm", milliseconds / 3_600_000, milliseconds / 60_000 % 60)
    }
  }

  static func sparkline(_ values: [Int], width: Int, theme: Theme) -> String {
    let tail = Array(values.suffix(width))
    let peak = max(tail.max() ?? 0, 1)
    return tail.map { value in
      value == 0 ? " " : theme.sparks[min(7, (value * 7 + peak - 1) / peak)]
    }.joined()
  }

  static func pad(_ text: String, _ width: Int) -> String {
    let size = DisplayWidth.of(text)
    return size >= width ? text : text + String(repeating: " ", count: width - size)
  }

  /// `text` in exactly `width` columns: padded, or cut with `ellipsis`.
  static func fit(_ text: String, _ width: Int, ellipsis: String) -> String {
    guard DisplayWidth.of(text) > width else { return pad(text, width) }
    let room = max(0, width - DisplayWidth.of(ellipsis))
    var kept = ""
    var used = 0
    for character in text {
      let size = DisplayWidth.of(String(character))
      if used + size > room { break }
      kept.append(character)
      used += size
    }
    return pad(kept + ellipsis, width)
  }

  static func padLeft(_ text: String, _ width: Int) -> String {
    let size = DisplayWidth.of(text)
    return size >= width ? text : String(repeating: " ", count: width - size) + text
  }
}
