import Foundation
import Scheduler
import Storage

extension Runtime {
  /// The Scheduler on this runtime's database and clock.
  public func jobStore(_ purpose: Purpose) throws -> JobStore {
    JobStore(store: try openStore(purpose), clock: clock, actor: Self.currentUser())
  }
}
