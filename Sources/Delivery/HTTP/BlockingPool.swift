import Foundation
import Scheduler

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

/// A job handler whose work blocks (libcurl's easy calls): it runs on the
/// HTTP pool's threads, not on the Swift concurrency pool.
public struct BlockingHandler: JobHandler {
  let body: @Sendable (JobContext) throws -> String?
  public init(_ body: @escaping @Sendable (JobContext) throws -> String?) { self.body = body }
  public func run(_ context: JobContext) async throws -> String? {
    let body = self.body
    return try await BlockingPool.http.run { try body(context) }
  }
}
