import Analytics
import Console
import Foundation
import Lifecycle
import Scheduler
import Storage

extension Runtime {
  /// Lifecycle on this runtime's database, changed as the current Unix user.
  public func lifecycle(_ purpose: Purpose) throws -> Lifecycle {
    Lifecycle(jobs: try jobStore(purpose), settings: config.lifecycle, actor: Self.currentUser())
  }
}

extension Runtime {
  /// The event log on this runtime's database.
  public func eventLog(_ purpose: Purpose) throws -> EventLog {
    EventLog(store: try openStore(purpose))
  }

  /// Records a product event and lets Lifecycle see it (onboarding steps
  /// it completes, activity). Returns whether it was new and the steps done.
  public func track(_ event: TrackedEvent) throws -> (recorded: Bool, completed: [String]) {
    let log = try eventLog(.write)
    guard try log.track(event) else { return (false, []) }
    let lifecycle = Lifecycle(jobs: try jobStore(.write), settings: config.lifecycle, actor: Self.currentUser())
    guard (try? lifecycle.account(event.accountID)) != nil else { return (true, []) }
    return (true, try lifecycle.observe(account: event.accountID, event: event.name, at: event.at))
  }
}

extension Runtime {
  /// The growth metrics, from Lifecycle's accounts and the event log.
  public func metrics() throws -> MetricsReport {
    let store = try openStore(.view)
    let lifecycle = Lifecycle(jobs: JobStore(store: store, clock: clock), settings: config.lifecycle)
    let facts = try GrowthData.facts(lifecycle)
    return try Metrics.compute(
      facts: facts, log: EventLog(store: store), now: clock.now(), activationDays: config.analytics.activationDays)
  }
}
