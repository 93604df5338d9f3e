import Alerting
import Foundation
import Storage

extension Runtime {
  /// Alerts on this runtime's database, changed as the current Unix user.
  public func alertStore(_ purpose: Purpose) throws -> AlertStore {
    AlertStore(store: try openStore(purpose), clock: clock, actor: Self.currentUser())
  }
}
