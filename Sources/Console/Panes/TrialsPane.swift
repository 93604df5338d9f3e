import Foundation
import Lifecycle
import Storage

/// Trials by time left, in sections (expiring soon, in trial, expired this
/// week, converted this week): a countdown coloured as the end nears,
/// onboarding as a small bar, the primary metric against its quota, and
/// the next e-mail with when. Enter opens the account's timeline.
enum TrialsPane {
  enum Line: Equatable {
    case heading(String, Int)
    case trial(TrialRow, converted: Bool)
  }

  /// The screen row of the first line (header, tab bar, title, column header).
  static let firstRow = 5

  static func lines(_ state: ConsoleState) -> [Line] {
    var lines: [Line] = []
    for section in state.trialSections where !section.rows.isEmpty {
      lines.append(.heading(section.title, section.rows.count))
      let converted = section.title.hasPrefix("converted")
      lines += section.rows.map { Line.trial($0, converted: converted) }
    }
    return lines
  }

  static func window(_ lines: [Line], selected: String?, height: Int) -> Range<Int> {
    let index =
      lines.firstIndex { if case .trial(let row, _) = $0 { return row.account.id == selected } else { return false } }
      ?? 0
    return ListWindow.range(count: lines.count, selected: index, height: height, firstRow: firstRow)
  }

  static func account(atRow y: Int, _ state: ConsoleState) -> String? {
    let all = lines(state)
    let shown = window(all, selected: state.selectedAccount, height: state.height)
    let index = shown.lowerBound + y - firstRow
    guard y >= firstRow, shown.contains(index), case .trial(let row, _) = all[index] else { return nil }
    return row.account.id
  }

  /// `▰▰▰▱▱ 3/5` (`###.. 3/5` in ASCII).
  static func progress(_ done: Int, _ total: Int, theme: Theme) -> String {
    guard total > 0 else { return "" }
    let full = theme.ascii ? "#" : "▰"
    let empty = theme.ascii ? "." : "▱"
    return String(repeating: full, count: min(done, total)) + String(repeating: empty, count: max(0, total - done))
      + " \(done)/\(total)"
  }

  /// The countdown's colour: red in the last day, yellow in the last three.
  static func countdownStyle(_ clock: TrialClock, theme: Theme) -> Style {
    if clock.expired { return theme.dim }
    if clock.millisecondsLeft <= 86_400_000 { return theme.danger }
    return clock.expiringSoon ? theme.warning : theme.good
  }

  static func render(_ buffer: inout ScreenBuffer, _ state: ConsoleState, area: Area, now: Date, theme: Theme) {
    guard
      let snapshot = PaneTop.begin(
        &buffer, state, area: area, title: "Trials", theme: theme,
        empty: "no trials yet: `opsdeck accounts add ID --email ADDR` signs one up",
        isEmpty: { _ in state.visibleTrialIDs.isEmpty })
    else { return }
    let metric = snapshot.trialUsage.values.first?.metric ?? "usage"
    let nameWidth = max(14, min(28, area.width - 2 - 10 - 14 - 16 - 30))
    func row(_ cells: [String]) -> String {
      Format.fit(cells[0], nameWidth, ellipsis: theme.ellipsis) + " " + Format.pad(cells[1], 9) + " "
        + Format.pad(cells[2], 13) + " " + Format.pad(cells[3], 15) + " " + cells[4]
    }
    buffer.put(
      row(["ACCOUNT", "LEFT", "ONBOARDING", metric.uppercased(), "NEXT E-MAIL"]), x: area.x + 1, y: area.y + 2,
      style: theme.columnHeader, limit: area.width - 2)
    let all = lines(state)
    let shown = window(all, selected: state.selectedAccount, height: state.height)
    for (offset, index) in shown.enumerated() {
      let y = area.y + 3 + offset
      switch all[index] {
      case .heading(let title, let count):
        buffer.put("\(title.uppercased()) (\(count))", x: area.x + 1, y: y, style: theme.dialogHeading)
      case .trial(let trial, let converted):
        let account = trial.account
        let name = TerminalText.sanitize(account.name == account.id ? account.id : "\(account.name) (\(account.id))")
        let left = converted ? account.plan : trial.clock.text
        let onboarding = converted ? "" : progress(trial.onboardingDone, trial.onboardingTotal, theme: theme)
        let usage =
          snapshot.trialUsage[account.id].map { line -> String in
            "\(Usage.format(line.used))/\(line.quota.map { Usage.format($0.limit) } ?? "∞")"
              + (line.percent.map { " \($0)%" } ?? "")
          } ?? ""
        var next = ""
        if let step = account.nextEmailStep, let at = account.nextEmailAt {
          let short = step.split(separator: "/").last.map(String.init) ?? step
          next = at <= now ? "\(short) due" : "\(short) \(Format.age(at, now: now))"
        }
        let line = row([name, left, onboarding, converted ? "" : usage, converted ? "" : next])
        buffer.put(
          line, x: area.x + 1, y: y, style: account.suppressedAt == nil ? .plain : theme.dim, limit: area.width - 2)
        buffer.paint(
          converted ? theme.good : countdownStyle(trial.clock, theme: theme), x: area.x + 2 + nameWidth, y: y,
          count: DisplayWidth.of(left))
        if let percent = snapshot.trialUsage[account.id]?.percent, percent >= 80, !converted {
          let x = area.x + 1 + nameWidth + 1 + 9 + 1 + 13 + 1
          buffer.paint(percent >= 100 ? theme.danger : theme.warning, x: x, y: y, count: DisplayWidth.of(usage))
        }
        if account.id == state.selectedAccount { buffer.paint(theme.selection, x: area.x, y: y, count: area.width) }
      }
    }
    let total = snapshot.trials.count
    let position = "\(total) on trial, \(snapshot.converted.count) converted this week"
    ListWindow.position(position, &buffer, in: area, theme: theme)
  }
}

/// Enter on a trial: the account, onboarding step by step, usage and the
/// timeline (events, e-mails, usage, plan changes), newest first.
enum AccountOverlay {
  static func render(_ buffer: inout ScreenBuffer, _ state: ConsoleState, id: String, now: Date, theme: Theme) {
    guard let detail = state.accountDetail, detail.account.id == id else {
      Box.draw(&buffer, lines: [("loading…", theme.dialog)], title: "account \(id)", theme: theme)
      return
    }
    let account = detail.account
    var lines: [(String, Style)] = []
    var facts = "\(account.name) <\(account.email)>  plan \(account.plan)  \(account.tz)"
    if let ends = account.trialEndsAt, account.plan == "trial" {
      facts += "  trial \(TrialClock(endsAt: ends, now: now).text)"
    }
    if account.suppressedAt != nil { facts += "  e-mail suppressed" }
    lines.append((facts, theme.dialog))
    lines.append(("onboarding", theme.dialogHeading))
    for step in detail.steps {
      let done = detail.onboarding[step.id].map { "done \(Format.age($0, now: now)) ago" } ?? "-"
      lines.append(
        (
          "  \(theme.ascii ? (detail.onboarding[step.id] == nil ? "[ ]" : "[x]") : (detail.onboarding[step.id] == nil ? "○" : "●")) \(step.title)  \(done)",
          theme.dialog
        ))
    }
    if !detail.usage.isEmpty {
      lines.append(("usage this period", theme.dialogHeading))
      for line in detail.usage {
        if line.quota?.limit == 0 && line.used == 0 {
          lines.append(("  \(line.metric): not on this plan", theme.dialog))
          continue
        }
        let limit = line.quota.map { " of \(Usage.format($0.limit))\($0.hard ? "" : " (soft)")" } ?? ""
        lines.append(("  \(line.metric) \(Usage.format(line.used))\(limit)", theme.dialog))
      }
    }
    lines.append(("timeline", theme.dialogHeading))
    for entry in detail.timeline.suffix(max(4, state.height - 12 - lines.count)).reversed() {
      let note = entry.note.map { "  \($0)" } ?? ""
      lines.append(("  \(Format.relative(entry.at, now: now))  \(entry.kind) by \(entry.actor)\(note)", theme.dialog))
    }
    lines.append(("", theme.dialog))
    lines.append(("Esc closes", theme.dialog))
    Box.draw(&buffer, lines: lines, title: "account \(id)", theme: theme)
  }
}
