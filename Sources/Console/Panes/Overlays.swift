import Foundation
import Scheduler
import Storage

/// A bordered box in the middle of the screen.
enum Box {
  /// Lines that do not fit the height go into a second column.
  static func draw(_ buffer: inout ScreenBuffer, lines: [(String, Style)], title: String, theme: Theme) {
    let rows = buffer.height - 4
    if lines.count > rows {
      let half = (lines.count + 1) / 2
      let width = lines.prefix(half).map { DisplayWidth.of($0.0) }.max() ?? 0
      let paired = (0..<half).map { index -> (String, Style) in
        let left = Format.pad(lines[index].0, width + 3)
        let right = index + half < lines.count ? lines[index + half].0 : ""
        return (left + right, lines[index].1)
      }
      drawColumn(&buffer, lines: paired, title: title, theme: theme)
    } else {
      drawColumn(&buffer, lines: lines, title: title, theme: theme)
    }
  }

  private static func drawColumn(_ buffer: inout ScreenBuffer, lines: [(String, Style)], title: String, theme: Theme) {
    let inner = min(buffer.width - 6, max(DisplayWidth.of(title) + 4, lines.map { DisplayWidth.of($0.0) }.max() ?? 0))
    let height = min(buffer.height - 2, lines.count + 2)
    let x = (buffer.width - inner - 4) / 2
    let y = (buffer.height - height) / 2
    buffer.clear(x: x, y: y, width: inner + 4, height: height, style: theme.dialog)
    buffer.put(" \(title) ", x: x + 2, y: y, style: theme.dialogHeading)
    for (index, line) in lines.prefix(height - 2).enumerated() {
      buffer.put(line.0, x: x + 2, y: y + 1 + index, style: line.1, limit: inner)
    }
  }
}

/// `?`: every key of this pane, generated from its key table.
enum HelpOverlay {
  static func render(_ buffer: inout ScreenBuffer, _ state: ConsoleState, theme: Theme) {
    var seen = Set<Action>()
    var lines: [(String, Style)] = []
    for binding in state.bindings where seen.insert(binding.action).inserted {
      let keys = state.bindings.filter { $0.action == binding.action }.map(\.key.description).joined(separator: " ")
      let text = Format.pad(keys, 9) + " " + binding.help + (binding.dangerous ? " *" : "")
      lines.append((text, theme.dialog))
    }
    if state.user.readOnly {
      lines.append(("read-only: no key changes data", theme.dialog))
    } else {
      lines.append(("* asks first", theme.dialog))
    }
    lines.append(("Esc closes", theme.dialog))
    Box.draw(&buffer, lines: lines, title: "\(state.pane.title) keys", theme: theme)
  }
}

/// The confirmation every dangerous action asks for, naming its target.
enum ConfirmOverlay {
  static func render(_ buffer: inout ScreenBuffer, action: OperatorAction, theme: Theme) {
    Box.draw(
      &buffer,
      lines: [(action.question, theme.dialog), ("", theme.dialog), ("y yes    any other key: no", theme.dialog)],
      title: "Confirm", theme: theme)
  }
}

/// A form: each field with its value, the focused one marked.
enum FormOverlay {
  static func render<Form: ConsoleForm>(
    _ buffer: inout ScreenBuffer, _ form: Form, title: String, submit: String, theme: Theme
  ) where Form.Field: FormField {
    var lines: [(String, Style)] = []
    for field in Form.Field.allCases {
      let focused = field == form.focus
      let text = form.values[field] ?? ""
      let value = text + (focused ? "_" : "")
      let hint = text.isEmpty && !field.hint.isEmpty ? "   " + field.hint : ""
      lines.append(
        (
          (focused ? "> " : "  ") + Format.pad(field.label, 12) + Format.pad(value, 30) + hint,
          focused ? theme.selection : theme.dialog
        ))
    }
    lines.append(("", theme.dialog))
    if let error = form.error { lines.append((error, theme.danger)) }
    lines.append(("Tab next field   Enter \(submit)   Esc cancel", theme.dialog))
    Box.draw(&buffer, lines: lines, title: title, theme: theme)
  }
}

/// Enter on a job: its data as pretty JSON, a timeline of failed attempts
/// (each with its error) and of what people did to it, progress and logs (read in full off the UI loop; until then, what the
/// list knows).
enum JobOverlay {
  static func render(_ buffer: inout ScreenBuffer, _ state: ConsoleState, jobID: String, now: Date, theme: Theme) {
    let detail = state.jobDetail?.summary.id == jobID ? state.jobDetail : nil
    guard let job = detail?.summary ?? state.snapshot?.jobs.first(where: { $0.id == jobID }) else { return }
    var lines: [(String, Style)] = [
      ("queue      \(job.queue)", theme.dialog),
      ("name       \(job.name)", theme.dialog),
      ("state      \(job.state.name)", theme.dialog),
      ("attempts   \(job.attemptsMade) of \(job.attempts)", theme.dialog),
      ("created    \(Timestamp.format(job.createdAt))", theme.dialog),
    ]
    if let runAt = job.runAt { lines.append(("runs at    \(Timestamp.format(runAt))", theme.dialog)) }
    if let finished = job.finishedAt { lines.append(("finished   \(Timestamp.format(finished))", theme.dialog)) }
    if let detail {
      if let progress = detail.progress {
        if let percent = Double(progress), (0...100).contains(percent) {
          let filled = Int(percent / 5)
          let bar =
            String(repeating: theme.barFull, count: filled) + String(repeating: theme.barEmpty, count: 20 - filled)
          lines.append(("progress   \(bar) \(Int(percent))%", theme.dialog))
        } else {
          lines.append(("progress   \(progress)", theme.dialog))
        }
      }
      lines.append(("data", theme.dialogHeading))
      let pretty = JSONValue(parsing: detail.data)?.prettyText ?? detail.data
      lines += pretty.split(separator: "\n").prefix(12).map { ("  " + $0, theme.dialog) }
      // Timeline: each failed attempt with its error, and what people did.
      var events: [(at: Date, lines: [String])] = detail.errors.map {
        ($0.at, ["attempt \($0.attempt) failed \(Format.age($0.at, now: now)) ago", "  " + $0.error])
      }
      events += detail.audit.map {
        (
          $0.at,
          ["\($0.action) by \($0.actor) \(Format.age($0.at, now: now)) ago" + ($0.detail.map { " (\($0))" } ?? "")]
        )
      }
      for event in events.sorted(by: { $0.at < $1.at }).suffix(6) {
        lines += event.lines.map { ($0, theme.dialog) }
      }
      if !detail.logs.isEmpty {
        lines.append(("logs", theme.dialogHeading))
        lines += detail.logs.suffix(5).map { ("  \(Timestamp.format($0.at))  \($0.line)", theme.dialog) }
      }
    } else if let reason = job.failedReason {
      lines.append(("reason     \(reason)", theme.dialog))
    }
    lines.append(("", theme.dialog))
    lines.append(("Esc closes", theme.dialog))
    Box.draw(&buffer, lines: Array(lines.prefix(buffer.height - 4)), title: "job \(job.id)", theme: theme)
  }
}
