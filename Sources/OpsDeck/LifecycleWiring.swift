import Foundation
import Lifecycle
import Storage

extension Runtime {
  /// Lifecycle on this runtime's database, changed as the current Unix user.
  public func lifecycle(_ purpose: Purpose) throws -> Lifecycle {
    Lifecycle(jobs: try jobStore(purpose), settings: config.lifecycle, actor: Self.currentUser())
  }
}
