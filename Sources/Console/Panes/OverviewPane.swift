import Foundation
import Scheduler

/// "Is anything wrong right now?": the queues' backlog, failures in the
/// last hour and throughput, one line each. Enter opens the queue in Jobs.
enum OverviewPane {
  static func render(_ buffer: inout ScreenBuffer, _ state: ConsoleState, area: Area, theme: Theme) {
    buffer.put("Queues", x: area.x + 1, y: area.y + 1, style: theme.title)
    guard let snapshot = state.snapshot else {
      buffer.put("loading…", x: area.x + 1, y: area.y + 3, style: theme.dim)
      return
    }
    if snapshot.queues.isEmpty {
      buffer.put(
        "no queues yet: add a job with `opsdeck jobs add QUEUE NAME`", x: area.x + 1, y: area.y + 3, style: theme.dim)
      return
    }
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
