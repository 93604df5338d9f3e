import Foundation
import Scheduler

/// Where the Jobs pane puts things, shared by drawing and clicking.
enum JobsPaneLayout {
  static let queueColumn = 26
  /// The screen row of the first job (header, tab bar, state tabs, gap, column header).
  static let firstJobRow = 5

  /// The jobs shown: a window of the list that keeps the selection in view
  /// (the pane's last row tells where in the whole list it is).
  static func window(jobs: [JobSummary], selected: String?, height: Int) -> (first: Int, end: Int) {
    let rows = max(0, height - 4 - 4)
    let selectedIndex = jobs.firstIndex { $0.id == selected } ?? 0
    let first = max(0, min(selectedIndex - rows / 2, jobs.count - rows))
    return (first, min(jobs.count, first + rows))
  }
}

/// Queues on the left (counts, paused, throughput), the selected queue's
/// jobs by state on the right.
enum JobsPane {
  static let queueColumn = JobsPaneLayout.queueColumn

  static func render(_ buffer: inout ScreenBuffer, _ state: ConsoleState, area: Area, now: Date, theme: Theme) {
    guard let snapshot = state.snapshot else {
      buffer.put("loading…", x: area.x + 1, y: area.y + 1, style: theme.dim)
      return
    }
    queues(&buffer, state, snapshot, area: area, theme: theme)
    let right = Area(x: area.x + queueColumn + 1, y: area.y, width: area.width - queueColumn - 1, height: area.height)
    for row in area.y..<(area.y + area.height) {
      buffer.put(theme.vertical, x: area.x + queueColumn, y: row, style: theme.dim)
    }
    jobs(&buffer, state, snapshot, area: right, now: now, theme: theme)
  }

  static func queues(
    _ buffer: inout ScreenBuffer, _ state: ConsoleState, _ snapshot: ConsoleSnapshot, area: Area, theme: Theme
  ) {
    buffer.put("QUEUES", x: area.x + 1, y: area.y, style: theme.columnHeader)
    for (index, queue) in state.visibleQueues.enumerated() {
      let y = area.y + 1 + index * 2
      if y + 1 >= area.y + area.height { break }
      let counts = queue.paused ? "paused" : "\(Format.count(queue.counts.waiting)) waiting"
      let name = Format.pad(queue.name, queueColumn - 3 - DisplayWidth.of(counts))
      buffer.put(name + " " + counts, x: area.x + 1, y: y, style: .plain, limit: queueColumn - 2)
      if queue.paused { buffer.paint(theme.state("paused"), x: area.x + queueColumn - 1 - 6, y: y, count: 6) }
      if queue.counts.failed > 0 {
        buffer.put("\(Format.count(queue.counts.failed)) failed", x: area.x + 2, y: y + 1, style: theme.danger)
      } else if let rate = queue.rateLimit {
        buffer.put(
          rate.replacingOccurrences(of: " per ", with: "/"), x: area.x + 2, y: y + 1, style: theme.dim, limit: 11)
      }
      let spark = Format.sparkline(snapshot.throughput[queue.name] ?? [], width: 12, theme: theme)
      buffer.put(spark, x: area.x + queueColumn - 13, y: y + 1, style: theme.good)
      if queue.name == state.selectedQueue {
        let style = state.focus == .queues ? theme.selection : Style(bold: true)
        buffer.paint(style, x: area.x, y: y, count: queueColumn)
      }
    }
  }

  static func jobs(
    _ buffer: inout ScreenBuffer, _ state: ConsoleState, _ snapshot: ConsoleSnapshot, area: Area, now: Date,
    theme: Theme
  ) {
    guard let queue = state.currentQueue else {
      buffer.put("no queues yet", x: area.x + 1, y: area.y + 1, style: theme.dim)
      return
    }
    var x = area.x + 1
    for tab in JobState.allCases {
      let label = "\(tab.name) \(Format.count(queue.counts.count(of: tab)))"
      x +=
        buffer.put(label, x: x, y: area.y, style: tab == state.stateTab ? theme.activeTab : theme.state(tab.name)) + 1
    }
    let timeHeader = state.stateTab == .delayed ? "RUNS IN" : "AGE"
    let failedTab = state.stateTab == .failed
    // Run time, except where it would crowd out a failure's reason.
    let showsDuration = state.stateTab != .waiting && state.stateTab != .delayed && (!failedTab || area.width >= 70)
    let header =
      Format.pad("ID", 12) + " " + Format.pad("NAME", 16) + " " + Format.padLeft("TRIES", 5) + " "
      + Format.padLeft(timeHeader, 7) + (showsDuration ? " " + Format.padLeft("TOOK", 6) : "")
      + (failedTab ? "  REASON" : "")
    buffer.put(header, x: area.x + 1, y: area.y + 2, style: theme.columnHeader, limit: area.width - 2)
    let jobs = snapshot.request.queue == queue.name && snapshot.request.state == state.stateTab ? state.visibleJobs : []
    if jobs.isEmpty {
      buffer.put("no \(state.stateTab.name) jobs", x: area.x + 1, y: area.y + 4, style: theme.dim)
      return
    }
    let window = JobsPaneLayout.window(jobs: jobs, selected: state.selectedJob, height: state.height)
    for (offset, job) in jobs[window.first..<window.end].enumerated() {
      let y = area.y + 3 + offset
      let when = state.stateTab == .delayed ? Format.age(job.runAt, now: now) : Format.age(job.createdAt, now: now)
      var line =
        Format.pad(job.id, 12) + " " + Format.pad(job.name, 16) + " "
        + Format.padLeft("\(job.attemptsMade)/\(job.attempts)", 5)
        + " " + Format.padLeft(when, 7)
      if showsDuration {
        line += " " + Format.padLeft(Format.duration(from: job.processedAt, to: job.finishedAt ?? now), 6)
      }
      if failedTab { line += "  " + (job.failedReason ?? "") }
      buffer.put(line, x: area.x + 1, y: y, style: theme.state(job.state.name), limit: area.width - 2)
      if job.id == state.selectedJob {
        buffer.paint(state.focus == .jobs ? theme.selection : Style(bold: true), x: area.x, y: y, count: area.width)
      }
    }
    position(&buffer, state, snapshot, queue: queue, jobs: jobs, area: area, theme: theme)
  }

  /// `41–80 of 1.0M` under the list: where the screen is in the whole list.
  static func position(
    _ buffer: inout ScreenBuffer, _ state: ConsoleState, _ snapshot: ConsoleSnapshot, queue: QueueStatus,
    jobs: [JobSummary], area: Area, theme: Theme
  ) {
    let window = JobsPaneLayout.window(jobs: jobs, selected: state.selectedJob, height: state.height)
    let text: String
    if state.filter?.isEmpty == false && state.filterTarget == .jobs {
      text = "\(jobs.count) of \(snapshot.jobs.count) loaded match"
    } else {
      let total = max(queue.counts.count(of: state.stateTab), state.pageStart + snapshot.jobs.count)
      let first = state.pageStart + window.first + 1
      let last = state.pageStart + window.end
      text = "\(Format.grouped(first))–\(Format.grouped(last)) of \(Format.grouped(total))"
    }
    ListWindow.position(text, &buffer, in: area, theme: theme)
  }
}
