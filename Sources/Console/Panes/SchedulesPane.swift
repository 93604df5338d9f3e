import Foundation
import Scheduler
import Storage

/// Cron and interval schedules with their next run; Enter opens the
/// schedule's queue in Jobs, `p` runs the next job now.
enum SchedulesPane {
  /// The screen row of the first schedule (header, tab bar, title, column header).
  static let firstRow = 5

  /// The rows shown: a window of the list that keeps the selection in view.
  static func window(count: Int, selected: Int, height: Int) -> (first: Int, end: Int) {
    let range = ListWindow.range(count: count, selected: selected, height: height, firstRow: firstRow)
    return (range.lowerBound, range.upperBound)
  }

  static func render(_ buffer: inout ScreenBuffer, _ state: ConsoleState, area: Area, now: Date, theme: Theme) {
    guard
      PaneTop.begin(
        &buffer, state, area: area, title: "Schedules", theme: theme,
        empty: "no schedules: add one with `opsdeck schedules add` or [[schedules]] in the config",
        isEmpty: { $0.schedules.isEmpty }) != nil
    else { return }
    let schedules = state.visibleSchedules
    let idWidth = max(8, min(20, schedules.map { DisplayWidth.of($0.id) }.max() ?? 8))
    let queueWidth = max(6, min(14, schedules.map { DisplayWidth.of($0.queue) }.max() ?? 6))
    let nameWidth = max(6, min(18, schedules.map { DisplayWidth.of($0.name) }.max() ?? 6))
    let repeats = schedules.map { schedule in
      schedule.cron.map { schedule.tz == "UTC" ? $0 : "\($0) \(schedule.tz)" } ?? "every \(schedule.every ?? "?")"
    }
    let repeatWidth = max(8, min(30, repeats.map(DisplayWidth.of).max() ?? 8))
    // Wider screens also get the absolute next run time and the source.
    let wide = area.width >= 110
    func row(_ cells: [String]) -> String {
      Format.pad(cells[0], idWidth) + " " + Format.pad(cells[1], queueWidth) + " " + Format.pad(cells[2], nameWidth)
        + " " + Format.pad(cells[3], repeatWidth) + " " + Format.padLeft(cells[4], 8) + " "
        + Format.padLeft(cells[5], 7)
        + (wide ? "  " + Format.pad(cells[6], 21) + " " + cells[7] : "")
    }
    let header = row(["ID", "QUEUE", "NAME", "REPEAT", "NEXT", "RUNS", "NEXT RUN (UTC)", "SOURCE"])
    buffer.put(header, x: area.x + 1, y: area.y + 2, style: theme.columnHeader, limit: area.width - 2)
    let selected = state.selectedScheduleIndex
    let window = window(count: schedules.count, selected: selected, height: state.height)
    for index in window.first..<window.end {
      let schedule = schedules[index]
      let y = area.y + 3 + index - window.first
      let next = schedule.nextRunAt.map { $0 <= now ? "due" : Format.age($0, now: now) } ?? "never"
      let runs = schedule.limit.map { "\(schedule.fired)/\($0)" } ?? String(schedule.fired)
      let line = row([
        schedule.id, schedule.queue, schedule.name, repeats[index], next, runs,
        schedule.nextRunAt.map(Timestamp.format) ?? "-", schedule.source,
      ])
      buffer.put(
        line, x: area.x + 1, y: y, style: schedule.nextRunAt == nil ? theme.dim : .plain, limit: area.width - 2)
      if schedule.id == state.selectedSchedule { buffer.paint(theme.selection, x: area.x, y: y, count: area.width) }
    }
    let position = "\(window.first + 1)–\(window.end) of \(schedules.count)"
    ListWindow.position(position, &buffer, in: area, theme: theme)
  }
}
