import Synchronization

/// In-process news that jobs became ready: a worker in the same process
/// wakes at once instead of waiting for its next poll.
public final class ActivitySignal: Sendable {
  private let listeners = Mutex<[Int: @Sendable () -> Void]>([:])
  private let nextID = Atomic<Int>(0)

  public init() {}

  /// Registers `listener`; returns the id to remove it with.
  public func listen(_ listener: @escaping @Sendable () -> Void) -> Int {
    let id = nextID.add(1, ordering: .relaxed).newValue
    listeners.withLock { $0[id] = listener }
    return id
  }

  public func remove(_ id: Int) {
    _ = listeners.withLock { $0.removeValue(forKey: id) }
  }

  public func notify() {
    guard let current = listeners.withLock({ $0.isEmpty ? nil : Array($0.values) }) else { return }
    for listener in current { listener() }
  }
}
