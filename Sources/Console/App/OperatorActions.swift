import Alerting
import Foundation
import Lifecycle
import Resilience
import Scheduler
import Storage

extension OperatorAction {
  /// Runs a confirmed operator action; the message line says how it went.
  /// `lifecycle` takes the Trials pane's actions; `sendPreview` mails an
  /// account's next e-mail to the operator.
  public func perform(
    on jobs: JobStore, readOnly: Bool, lifecycle: Lifecycle? = nil,
    sendPreview: (@Sendable (String) throws -> String)? = nil
  ) -> String {
    guard !readOnly else { return "read-only: nothing was changed" }
    do {
      switch self {
      case .retry(let id):
        try jobs.retry(id)
        return "job \(id) is waiting again"
      case .remove(let id):
        try jobs.remove(id)
        return "removed job \(id)"
      case .promote(let id):
        try jobs.promote(id)
        return "job \(id) runs now"
      case .setPaused(let queue, let paused):
        try jobs.setPaused(queue, paused)
        return paused ? "paused \(queue)" : "resumed \(queue)"
      case .retryAllFailed(let queue, _):
        let count = try jobs.retryAllFailed(queue: queue)
        return "\(count) failed job\(count == 1 ? "" : "s") of \(queue) waiting again"
      case .runSchedule(let id, let job):
        try jobs.promote(job)
        return "schedule \(id) runs now (job \(job))"
      case .addJob(let queue, let name, let data, let options):
        let added = try jobs.add(queue: queue, name: name, data: data, options: options)
        if added.created { try jobs.recordAudit("job.add", "job:\(added.id)", "\(name) to \(queue)") }
        return added.created ? "added job \(added.id) to \(queue)" : "job \(added.id) already exists"
      case .acknowledge(let ids, let note):
        try AlertStore(store: jobs.store, clock: jobs.clock, actor: jobs.actor).acknowledge(ids, note: note)
        try? AlertJobs.watchNow(jobs)
        return "acknowledged \(Self.list(ids)) (u undoes)"
      case .unacknowledge(let ids):
        let alerts = AlertStore(store: jobs.store, clock: jobs.clock, actor: jobs.actor)
        for id in ids { try alerts.unacknowledge(id) }
        return "\(Self.list(ids)) firing again"
      case .silence(let matchers, let seconds, let comment):
        let id = try AlertStore(store: jobs.store, clock: jobs.clock, actor: jobs.actor).silence(
          matchers: try matchers.map { try LabelMatcher(parsing: $0) }, for: .seconds(seconds), comment: comment)
        return "silence \(id): \(matchers.joined(separator: ", ")) for \(Duration.seconds(seconds).compactText)"
      case .resolve(let ids):
        try AlertStore(store: jobs.store, clock: jobs.clock, actor: jobs.actor).resolve(ids)
        try? AlertJobs.watchNow(jobs)
        return "resolved \(Self.list(ids))"
      case .breaker(let name, let command):
        let transition = try BreakerAdmin.apply(
          command, to: name, store: jobs.store, at: jobs.clock.now(), actor: jobs.actor)
        return "breaker \(name): \(transition.from.rawValue) → \(transition.to.rawValue)"
      case .extendTrial(let account, let days, let reason):
        guard let lifecycle else { return "no lifecycle engine here" }
        let extended = try lifecycle.extendTrial(account, days: days, reason: reason)
        return "\(account): trial ends \(extended.trialEndsAt.map(Timestamp.format) ?? "-")"
      case .suppress(let account):
        guard let lifecycle else { return "no lifecycle engine here" }
        try lifecycle.suppress(account, reason: "suppressed in the console by \(jobs.actor)")
        return "\(account): no more lifecycle e-mail"
      case .sendPreview(let account):
        guard let sendPreview else { return "no mailer here" }
        return try sendPreview(account)
      case .removeSchedule(let id, _):
        try Schedules(jobs: jobs).remove(id)
        return "removed schedule \(id)"
      }
    } catch {
      return "failed: \(error)"
    }
  }
}
