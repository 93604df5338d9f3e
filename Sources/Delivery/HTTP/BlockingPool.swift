import Foundation

/// Threads of their own for blocking work (libcurl's easy interface), so
/// async code can wait for a call without holding a thread of the Swift
/// concurrency pool. Each thread keeps what `prepare` gives it (a reused
/// curl handle keeps its connections alive between calls).
public final class BlockingPool: @unchecked Sendable {
  private let condition = NSCondition()
  private var work: [@Sendable () -> Void] = []

  public init(threads: Int, name: String) {
    for index in 0..<max(1, threads) {
      let thread = Thread { [unowned self] in self.loop() }
      thread.name = "\(name).\(index)"
      thread.start()
    }
  }

  private func loop() {
    while true {
      condition.lock()
      while work.isEmpty { condition.wait() }
      let next = work.removeFirst()
      condition.unlock()
      next()
    }
  }

  /// Runs `body` on one of the pool's threads and waits for it without blocking.
  public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
      condition.lock()
      work.append { continuation.resume(with: Result { try body() }) }
      condition.signal()
      condition.unlock()
    }
  }

  /// The shared pool for outgoing HTTP (32 threads: calls in flight at once).
  public static let http = BlockingPool(threads: 32, name: "opsdeck.http")
}
