import Foundation
import GRDB
import Logging
import Storage
import Synchronization

/// How a worker pool runs.
public struct WorkerOptions: Sendable {
  /// The queues to work; nil works every queue in the database.
  public var queues: [String]? = nil
  /// Jobs running at once per queue, unless `concurrencyByQueue` says otherwise.
  public var concurrency: Int = 8
  public var concurrencyByQueue: [String: Int] = [:]
  /// How long a claimed job's lease lasts; renewed at half of it.
  public var lockDuration: Int64 = 30_000
  public var maxStalledCount: Int = 1
  /// How often leases are checked for stalled jobs.
  public var stalledInterval: Int64 = 30_000
  /// How often the database is checked for work added by other processes.
  public var pollInterval: Int64 = 50
  /// The most jobs claimed or finished in one transaction.
  public var batchSize: Int = 1_000
  /// Stop once nothing is waiting or active and no retry is pending.
  public var untilEmpty = false
  /// Run schedules (create their next jobs) as well as jobs.
  public var runSchedules = true

  public init() {}
}

/// A pool of workers for one process. One dispatcher thread claims jobs in
/// batches, hands them to handlers (tasks on the concurrency pool), and
/// records their outcomes in batches: one writer, few transactions. It
/// sleeps until the next delayed job is due, a job is added in this process,
/// another process changes the database (polled cheaply through
/// `PRAGMA data_version`), or a lease needs renewing.
public final class Worker: Sendable {
  public let jobs: JobStore
  public let schedules: Schedules
  public let handlers: HandlerRegistry
  public let options: WorkerOptions
  let logger: Logger

  private struct Shared {
    var outcomes: [JobOutcome] = []
    var woken = false
    var stopDeadline: UInt64? = nil
  }

  private let condition = NSCondition()
  private nonisolated(unsafe) var shared = Shared()
  private let limits: Mutex<(concurrency: Int, byQueue: [String: Int])>
  private let processedCount = Atomic<Int>(0)
  private let failedCount = Atomic<Int>(0)

  public init(jobs: JobStore, handlers: HandlerRegistry = .builtIn, options: WorkerOptions, logger: Logger) {
    self.jobs = jobs
    self.schedules = Schedules(jobs: jobs)
    self.handlers = handlers
    self.options = options
    self.logger = logger
    self.limits = Mutex((options.concurrency, options.concurrencyByQueue))
  }

  /// Changes how many jobs run at once (a config reload); takes effect at
  /// the next claim.
  public func reconfigure(concurrency: Int, concurrencyByQueue: [String: Int]) {
    limits.withLock { $0 = (concurrency, concurrencyByQueue) }
    wake()
  }

  func concurrency(for queue: String) -> Int {
    limits.withLock { max(1, $0.byQueue[queue] ?? $0.concurrency) }
  }

  /// Attempts finished by this worker (completed or failed).
  public var processed: Int { processedCount.load(ordering: .relaxed) }
  public var failed: Int { failedCount.load(ordering: .relaxed) }

  /// Stops claiming; running jobs get `grace` to finish, then whatever is
  /// left is released for another worker. Safe from any thread or signal
  /// handler queue.
  public func stop(grace: Duration) {
    condition.withLock {
      let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(max(0, grace.milliseconds)) * 1_000_000
      shared.stopDeadline = min(shared.stopDeadline ?? .max, deadline)
      shared.woken = true
      condition.signal()
    }
  }

  private func wake() {
    condition.withLock {
      shared.woken = true
      condition.signal()
    }
  }

  private func deliver(_ outcome: JobOutcome) {
    condition.withLock {
      shared.outcomes.append(outcome)
      condition.signal()
    }
  }

  // MARK: - The dispatcher

  /// Runs on the calling thread until stopped (or, with `untilEmpty`, until
  /// there is nothing left to do). Throws only when the database cannot be
  /// used at all.
  public func run() throws {
    let listener = jobs.activity.listen { [weak self] in self?.wake() }
    defer { jobs.activity.remove(listener) }
    var loop = try DispatcherState(worker: self)
    logger.info(
      "worker started",
      metadata: [
        "queues": .string(options.queues?.joined(separator: ",") ?? "all"),
        "concurrency": .stringConvertible(options.concurrency),
      ])
    while true {
      let (outcomes, woken, stopDeadline) = condition.withLock {
        let taken = (shared.outcomes, shared.woken, shared.stopDeadline)
        shared.outcomes.removeAll(keepingCapacity: true)
        shared.woken = false
        return taken
      }
      var busy = false
      if !outcomes.isEmpty {
        busy = true
        if !loop.record(outcomes) {
          condition.withLock { shared.outcomes.insert(contentsOf: outcomes, at: 0) }
          Thread.sleep(forTimeInterval: 0.1)
          continue
        }
      }
      if let stopDeadline {
        if loop.activeTotal == 0 { break }
        if DispatchTime.now().uptimeNanoseconds >= stopDeadline {
          loop.releaseAll()
          break
        }
      }
      if woken {
        loop.mustClaim = true
        loop.refreshNextDue()
      }
      loop.housekeeping()
      if stopDeadline == nil && loop.mustClaim {
        busy = loop.claim() || busy
      }
      if options.untilEmpty && !busy && loop.activeTotal == 0 && loop.inline.isEmpty && !loop.hasWorkLeft() {
        break
      }
      if !loop.inline.isEmpty {
        condition.withLock { shared.outcomes.append(contentsOf: loop.inline) }
        loop.inline.removeAll(keepingCapacity: true)
        continue
      }
      if busy { continue }
      let wait = loop.millisecondsUntilNextDuty()
      let timedOut = condition.withLock {
        if !shared.outcomes.isEmpty || shared.woken { return false }
        return !condition.wait(until: Date().addingTimeInterval(Double(wait) / 1000))
      }
      if timedOut { loop.checkForOtherProcesses() }
    }
    logger.info("worker stopped", metadata: ["processed": .stringConvertible(processed)])
  }

  /// Runs one job's handler with its timeout, on the concurrency pool.
  fileprivate func start(_ job: ClaimedJob, with handler: any JobHandler) {
    Task.detached { [self] in
      deliver(await Self.execute(job, with: handler, jobs: jobs))
    }
  }

  static func execute(_ job: ClaimedJob, with handler: any JobHandler, jobs: JobStore) async -> JobOutcome {
    let context = JobContext(job: job, jobs: jobs)
    do {
      let value: String?
      if let timeout = job.timeoutMilliseconds {
        value = try await withThrowingTaskGroup(of: String?.self) { group in
          group.addTask { try await handler.run(context) }
          group.addTask {
            try await Task.sleep(for: .milliseconds(timeout))
            throw HandlerFailure("job timed out after \(Duration.milliseconds(timeout).compactText)")
          }
          defer { group.cancelAll() }
          return try await group.next() ?? nil
        }
      } else {
        value = try await handler.run(context)
      }
      return .completed(job, returnValue: value)
    } catch {
      let text = (error as? HandlerFailure)?.description ?? String(describing: error)
      return .failed(job, error: String(text.prefix(10_000)))
    }
  }

  fileprivate func count(_ outcomes: [JobOutcome]) {
    processedCount.add(outcomes.count, ordering: .relaxed)
    let failures = outcomes.filter { if case .failed = $0 { return true } else { return false } }.count
    if failures > 0 { failedCount.add(failures, ordering: .relaxed) }
  }
}

/// What only the dispatcher thread touches.
private struct DispatcherState {
  let worker: Worker
  var jobs: JobStore { worker.jobs }
  var options: WorkerOptions { worker.options }

  var queues: [String]
  var active: [String: Int] = [:]
  var activeTotal = 0
  var tokens: [Int64: Int] = [:]
  var rateLimitedUntil: [String: Int64] = [:]
  var nextDue: Int64? = nil
  var lastStalledCheck: Int64
  var lastRenewal: Int64
  var lastMaterialize: Int64 = 0
  var lastPrune: Int64 = 0
  var lastDataVersion: Int?
  var mustClaim = true
  var scheduleJobClaimed = false
  /// Outcomes decided without a task (no-op handlers, unknown names).
  var inline: [JobOutcome] = []

  init(worker: Worker) throws {
    self.worker = worker
    let jobs = worker.jobs
    queues = try worker.options.queues ?? Self.allQueues(jobs)
    let now = jobs.now
    lastStalledCheck = now
    lastRenewal = now
    try jobs.recoverStalled(maxStalledCount: worker.options.maxStalledCount)
    if worker.options.runSchedules { try worker.schedules.materialize() }
    nextDue = try jobs.nextDelayedDue()
    lastDataVersion = Self.dataVersion(jobs)
  }

  static func allQueues(_ jobs: JobStore) throws -> [String] {
    try jobs.read { db in try String.fetchAll(db, sql: "SELECT name FROM queues ORDER BY name") }
  }

  static func dataVersion(_ jobs: JobStore) -> Int? {
    try? jobs.store.pool.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA data_version") }
  }

  /// Records outcomes; false when the database refused (retried later).
  mutating func record(_ outcomes: [JobOutcome]) -> Bool {
    do {
      var start = 0
      while start < outcomes.count {
        let end = min(start + options.batchSize, outcomes.count)
        try jobs.finish(Array(outcomes[start..<end]))
        start = end
      }
    } catch {
      worker.logger.error("cannot record job outcomes: \(error)")
      return false
    }
    for outcome in outcomes {
      let job = outcome.job
      active[job.queue, default: 1] -= 1
      activeTotal -= 1
      if let remaining = tokens[job.lockToken], remaining > 1 {
        tokens[job.lockToken] = remaining - 1
      } else {
        tokens[job.lockToken] = nil
      }
      if case .failed(_, let error) = outcome {
        worker.logger.warning(
          "job failed",
          metadata: [
            "queue": .string(job.queue), "job": .string(job.id), "name": .string(job.name),
            "attempt": .stringConvertible(job.attemptsMade + 1), "error": .string(error),
          ])
      } else if worker.logger.logLevel <= .debug {
        worker.logger.debug(
          "job completed", metadata: ["queue": .string(job.queue), "job": .string(job.id), "name": .string(job.name)])
      }
    }
    worker.count(outcomes)
    mustClaim = true
    if outcomes.contains(where: { if case .failed = $0 { return true } else { return false } }) {
      refreshNextDue()  // a retry with backoff is a delayed job
    }
    return true
  }

  /// Lease renewal, stalled recovery, due delayed jobs, schedules.
  mutating func housekeeping() {
    let now = jobs.now
    do {
      if activeTotal > 0 && now - lastRenewal >= options.lockDuration / 2 {
        try jobs.renewLeases(tokens: Array(tokens.keys), lockDuration: options.lockDuration)
        lastRenewal = now
      }
      if now - lastStalledCheck >= options.stalledInterval {
        let recovery = try jobs.recoverStalled(maxStalledCount: options.maxStalledCount)
        for id in recovery.requeued {
          worker.logger.warning("stalled job returned to waiting", metadata: ["job": .string(id)])
        }
        for id in recovery.failed { worker.logger.warning("stalled job failed", metadata: ["job": .string(id)]) }
        if !recovery.requeued.isEmpty { mustClaim = true }
        lastStalledCheck = now
      }
      if let due = nextDue, due <= now {
        if try jobs.promoteDue() > 0 { mustClaim = true }
        nextDue = try jobs.nextDelayedDue()
      }
      if options.runSchedules && (scheduleJobClaimed || now - lastMaterialize >= 1_000) {
        if try worker.schedules.materialize() > 0 {
          nextDue = try jobs.nextDelayedDue()
          mustClaim = true
        }
        scheduleJobClaimed = false
        lastMaterialize = now
      }
      if now - lastPrune >= 3_600_000 {
        try jobs.pruneMetrics()  // per-minute throughput older than two days
        lastPrune = now
      }
    } catch {
      worker.logger.error("scheduler housekeeping failed: \(error)")
    }
  }

  /// Claims for every queue with free slots; true when anything was claimed.
  mutating func claim() -> Bool {
    mustClaim = false
    let now = jobs.now
    var claimedAny = false
    for queue in queues {
      if let until = rateLimitedUntil[queue], until > now { continue }
      rateLimitedUntil[queue] = nil
      let free = worker.concurrency(for: queue) - active[queue, default: 0]
      guard free > 0 else { continue }
      let result: JobStore.ClaimResult
      do {
        result = try jobs.claim(queue: queue, limit: min(free, options.batchSize), lockDuration: options.lockDuration)
      } catch {
        worker.logger.error("cannot claim jobs: \(error)", metadata: ["queue": .string(queue)])
        continue
      }
      if let until = result.rateLimitedUntil { rateLimitedUntil[queue] = until }
      guard !result.jobs.isEmpty else { continue }
      claimedAny = true
      if result.jobs.count == min(free, options.batchSize) { mustClaim = true }
      active[queue, default: 0] += result.jobs.count
      activeTotal += result.jobs.count
      tokens[result.jobs[0].lockToken, default: 0] += result.jobs.count
      for job in result.jobs {
        if job.scheduleID != nil { scheduleJobClaimed = true }
        guard let handler = worker.handlers.handler(named: job.name) else {
          inline.append(
            .failed(
              job,
              error:
                "no handler registered for job name '\(job.name)' (known: \(worker.handlers.names.joined(separator: ", ")))"
            ))
          continue
        }
        if handler.runsInline {
          inline.append(.completed(job, returnValue: nil))
        } else {
          worker.start(job, with: handler)
        }
      }
    }
    return claimedAny
  }

  mutating func refreshNextDue() {
    nextDue = (try? jobs.nextDelayedDue()) ?? nextDue
  }

  func hasWorkLeft() -> Bool {
    (try? jobs.hasUnfinishedWork(queues: options.queues)) ?? true
  }

  /// How long the dispatcher may sleep before a duty is due.
  func millisecondsUntilNextDuty() -> Int64 {
    let now = jobs.now
    var wait = options.pollInterval
    if let due = nextDue { wait = min(wait, max(0, due - now)) }
    for until in rateLimitedUntil.values { wait = min(wait, max(0, until - now)) }
    if activeTotal > 0 { wait = min(wait, max(0, lastRenewal + options.lockDuration / 2 - now)) }
    wait = min(wait, max(0, lastStalledCheck + options.stalledInterval - now))
    return max(wait, 0)
  }

  /// After a quiet poll: did another process change the database?
  mutating func checkForOtherProcesses() {
    let version = Self.dataVersion(jobs)
    guard version != lastDataVersion else { return }
    lastDataVersion = version
    mustClaim = true
    if options.queues == nil, let all = try? Self.allQueues(jobs) { queues = all }
    refreshNextDue()
  }

  /// Gives every job still running back to waiting.
  mutating func releaseAll() {
    guard !tokens.isEmpty else { return }
    do {
      let count = try jobs.release(tokens: Array(tokens.keys))
      worker.logger.info("released unfinished jobs", metadata: ["count": .stringConvertible(count)])
    } catch {
      worker.logger.error("cannot release jobs (their leases will expire): \(error)")
    }
    tokens.removeAll()
  }
}
