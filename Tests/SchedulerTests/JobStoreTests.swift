import Foundation
import GRDB
import Scheduler
import Storage
import Testing

struct JobStoreTests {
  @Test func jobsWithoutPriorityRunFirstThenByPriorityFIFOWithin() throws {
    let f = try Fixture()
    let low = try f.jobs.add(queue: "q", name: "low", options: .with { $0.priority = 10 }).id
    let high1 = try f.jobs.add(queue: "q", name: "high1", options: .with { $0.priority = 1 }).id
    let plain1 = try f.jobs.add(queue: "q", name: "plain1").id
    let high2 = try f.jobs.add(queue: "q", name: "high2", options: .with { $0.priority = 1 }).id
    let plain2 = try f.jobs.add(queue: "q", name: "plain2").id
    var order: [String] = []
    while let job = try f.claim(limit: 1).first { order.append(job.id) }
    #expect(order == [plain1, plain2, high1, high2, low])
  }

  @Test func delayedJobsWaitForTheirTime() throws {
    let f = try Fixture()
    let id = try f.jobs.add(queue: "q", name: "later", options: .with { $0.delayMilliseconds = 5_000 }).id
    #expect(try f.state(id) == .delayed)
    #expect(try f.jobs.promoteDue() == 0)
    #expect(try f.claim().isEmpty)
    f.clock.advance(by: .milliseconds(4_999))
    #expect(try f.jobs.promoteDue() == 0)
    f.clock.advance(by: .milliseconds(1))
    #expect(try f.jobs.nextDelayedDue() == 1_767_225_605_000)
    #expect(try f.jobs.promoteDue() == 1)
    #expect(try f.claim().map(\.id) == [id])
    #expect(try f.countersMatchTable())
  }

  @Test func anExistingJobIDIsANoOpReturningTheJob() throws {
    let f = try Fixture()
    let first = try f.jobs.add(queue: "q", name: "a", data: #"{"n":1}"#, options: .with { $0.jobID = "invoice-7" })
    let second = try f.jobs.add(queue: "q", name: "b", data: #"{"n":2}"#, options: .with { $0.jobID = "invoice-7" })
    #expect(first == .init(id: "invoice-7", created: true))
    #expect(second == .init(id: "invoice-7", created: false))
    #expect(try f.jobs.job("invoice-7").data == #"{"n":1}"#)
    #expect(try f.jobs.queues().first?.counts.waiting == 1)
  }

  @Test func badOptionsAreRefusedWithTheirName() throws {
    let f = try Fixture()
    #expect(throws: JobInputError.self) { try f.jobs.add(queue: "q", name: "x", options: .with { $0.priority = 0 }) }
    #expect(throws: JobInputError.self) {
      try f.jobs.add(queue: "q", name: "x", options: .with { $0.priority = 2_097_153 })
    }
    #expect(throws: JobInputError("invalid job id '42': custom ids cannot be integers (those are opsdeck's own)")) {
      try f.jobs.add(queue: "q", name: "x", options: .with { $0.jobID = "42" })
    }
    #expect(throws: JobInputError.self) { try f.jobs.add(queue: "q", name: "x", data: "{nope") }
    #expect(throws: JobInputError.self) { try f.jobs.add(queue: "", name: "x") }
    #expect(try f.jobs.queues().isEmpty)
  }

  @Test func aFailedAttemptRetriesAfterExponentialBackoffThenFails() throws {
    let f = try Fixture()
    let options = JobOptions.with {
      $0.attempts = 3
      $0.backoff = Backoff(kind: .exponential, delayMilliseconds: 1_000)
    }
    let id = try f.jobs.add(queue: "q", name: "flaky", options: options).id
    var job = try #require(try f.claim().first)
    try f.jobs.finish([.failed(job, error: "boom 1")])
    var detail = try f.jobs.job(id)
    #expect(detail.summary.state == .delayed)
    #expect(detail.summary.runAt == f.clock.now().addingTimeInterval(1))  // 2^0 · 1s
    f.clock.advance(by: .seconds(1))
    try f.jobs.promoteDue()
    job = try #require(try f.claim().first)
    try f.jobs.finish([.failed(job, error: "boom 2")])
    detail = try f.jobs.job(id)
    #expect(detail.summary.runAt == f.clock.now().addingTimeInterval(2))  // 2^1 · 1s
    f.clock.advance(by: .seconds(2))
    try f.jobs.promoteDue()
    job = try #require(try f.claim().first)
    try f.jobs.finish([.failed(job, error: "boom 3")])
    detail = try f.jobs.job(id)
    #expect(detail.summary.state == .failed)
    #expect(detail.summary.attemptsMade == 3)
    #expect(detail.summary.failedReason == "boom 3")
    #expect(detail.errors.map(\.error) == ["boom 1", "boom 2", "boom 3"])
    #expect(detail.errors.map(\.attempt) == [1, 2, 3])
    #expect(try f.countersMatchTable())
  }

  @Test func backoffFormulasMatchBullMQ() throws {
    let exponential = try Backoff(parsing: "exponential:1s")
    #expect((1...5).map { exponential.delay(afterAttempts: $0) } == [1_000, 2_000, 4_000, 8_000, 16_000])
    let fixed = try Backoff(parsing: "fixed:250ms")
    #expect((1...3).map { fixed.delay(afterAttempts: $0) } == [250, 250, 250])
    let jittered = try Backoff(parsing: "exponential:1s,jitter=0.5")
    #expect(jittered.delay(afterAttempts: 3, random: 0) == 2_000)
    #expect(jittered.delay(afterAttempts: 3, random: 1) == 4_000)
    for _ in 0..<200 { #expect((2_000...4_000).contains(jittered.delay(afterAttempts: 3))) }
    #expect(throws: JobInputError.self) { try Backoff(parsing: "linear:1s") }
    #expect(throws: JobInputError.self) { try Backoff(parsing: "fixed:1s,jitter=2") }
    #expect(throws: JobInputError.self) { try Backoff(parsing: "fixed:soon") }
  }

  @Test func aRetryWithoutBackoffIsWaitingAtOnce() throws {
    let f = try Fixture()
    let id = try f.jobs.add(queue: "q", name: "x", options: .with { $0.attempts = 2 }).id
    try f.jobs.finish([.failed(try #require(try f.claim().first), error: "e")])
    #expect(try f.state(id) == .waiting)
    try f.jobs.finish([.completed(try #require(try f.claim().first), returnValue: "42")])
    let detail = try f.jobs.job(id)
    #expect(detail.summary.state == .completed)
    #expect(detail.summary.attemptsMade == 2)
    #expect(detail.returnValue == "42")
  }

  @Test func anExpiredLeaseReturnsTheJobToWaitingThenFailsPastTheLimit() throws {
    let f = try Fixture()
    let id = try f.jobs.add(queue: "q", name: "x", options: .with { $0.attempts = 5 }).id
    let first = try #require(try f.claim(lock: 30_000).first)
    f.clock.advance(by: .seconds(29))
    #expect(try f.jobs.recoverStalled(maxStalledCount: 1) == .init())
    f.clock.advance(by: .seconds(2))
    #expect(try f.jobs.recoverStalled(maxStalledCount: 1).requeued == [id])
    #expect(try f.state(id) == .waiting)
    // The first worker wakes up late: its outcome no longer counts.
    #expect(try f.jobs.finish([.completed(first, returnValue: nil)]) == 0)
    #expect(try f.state(id) == .waiting)
    _ = try #require(try f.claim(lock: 30_000).first)
    f.clock.advance(by: .seconds(31))
    #expect(try f.jobs.recoverStalled(maxStalledCount: 1).failed == [id])
    let detail = try f.jobs.job(id)
    #expect(detail.summary.state == .failed)
    #expect(detail.summary.failedReason == "job stalled more than allowable limit")
    #expect(detail.stalledCount == 2)
    #expect(try f.countersMatchTable())
  }

  @Test func renewedLeasesDoNotStall() throws {
    let f = try Fixture()
    let id = try f.jobs.add(queue: "q", name: "x").id
    let job = try #require(try f.claim(lock: 10_000).first)
    for _ in 0..<5 {
      f.clock.advance(by: .seconds(5))
      try f.jobs.renewLeases(tokens: [job.lockToken], lockDuration: 10_000)
      #expect(try f.jobs.recoverStalled(maxStalledCount: 1) == .init())
    }
    #expect(try f.state(id) == .active)
  }

  @Test func releasedJobsKeepTheirPlaceAndAreNotStalls() throws {
    let f = try Fixture()
    let a = try f.jobs.add(queue: "q", name: "a").id
    let b = try f.jobs.add(queue: "q", name: "b").id
    let claimed = try f.claim(limit: 1)
    #expect(try f.jobs.release(tokens: claimed.map(\.lockToken)) == 1)
    #expect(try f.claim(limit: 2).map(\.id) == [a, b])
    #expect(try f.jobs.job(a).stalledCount == 0)
  }

  @Test func aPausedQueueStartsNothingNew() throws {
    let f = try Fixture()
    try f.jobs.add(queue: "q", name: "a")
    try f.jobs.setPaused("q", true)
    let result = try f.jobs.claim(queue: "q", limit: 10, lockDuration: 1_000)
    #expect(result.paused && result.jobs.isEmpty)
    try f.jobs.setPaused("q", false)
    #expect(try f.claim().count == 1)
  }

  @Test func theRateLimitHoldsAcrossClaims() throws {
    let f = try Fixture()
    for index in 0..<10 { try f.jobs.add(queue: "q", name: "j\(index)") }
    try f.jobs.setRateLimit("q", max: 3, durationMilliseconds: 1_000)
    #expect(try f.claim(limit: 2).count == 2)
    #expect(try f.claim(limit: 5).count == 1)
    let limited = try f.jobs.claim(queue: "q", limit: 5, lockDuration: 1_000)
    #expect(limited.jobs.isEmpty)
    #expect(limited.rateLimitedUntil == 1_767_225_601_000)
    f.clock.advance(by: .seconds(1))
    #expect(try f.claim(limit: 5).count == 3)
  }

  @Test func retentionKeepsTheNewestCompletedJobs() throws {
    let f = try Fixture()
    for index in 0..<5 {
      try f.jobs.add(queue: "q", name: "j\(index)", options: .with { $0.removeOnComplete = .count(2) })
    }
    for job in try f.claim() {
      f.clock.advance(by: .seconds(1))
      try f.jobs.finish([.completed(job, returnValue: nil)])
    }
    let kept = try f.jobs.list(queue: "q", state: .completed)
    #expect(kept.map(\.name) == ["j4", "j3"])
    #expect(try f.jobs.queues().first?.counts.completed == 2)
    #expect(try f.countersMatchTable())
  }

  @Test func removeOnFailByAge() throws {
    let f = try Fixture()
    let old = try f.jobs.add(queue: "q", name: "old", options: .with { $0.removeOnFail = .age(milliseconds: 60_000) })
    try f.jobs.finish([.failed(try #require(try f.claim().first), error: "x")])
    f.clock.advance(by: .seconds(61))
    try f.jobs.add(queue: "q", name: "new", options: .with { $0.removeOnFail = .age(milliseconds: 60_000) })
    try f.jobs.finish([.failed(try #require(try f.claim().first), error: "y")])
    #expect(throws: JobError("no job with id '\(old.id)'")) { try f.jobs.job(old.id) }
    #expect(try f.jobs.list(queue: "q", state: .failed).map(\.name) == ["new"])
    #expect(try f.countersMatchTable())
  }

  @Test func operatorActionsCheckTheState() throws {
    let f = try Fixture()
    let waiting = try f.jobs.add(queue: "q", name: "w").id
    let delayed = try f.jobs.add(queue: "q", name: "d", options: .with { $0.delayMilliseconds = 60_000 }).id
    #expect(throws: JobError("job \(waiting) is waiting; only failed or completed jobs can be retried")) {
      try f.jobs.retry(waiting)
    }
    #expect(throws: JobError("job \(waiting) is waiting; only delayed jobs can be promoted")) {
      try f.jobs.promote(waiting)
    }
    #expect(throws: JobError("no job with id 'nope'")) { try f.jobs.remove("nope") }
    try f.jobs.promote(delayed)
    #expect(try f.state(delayed) == .waiting)
    let active = try #require(try f.claim(limit: 1).first)
    #expect(throws: JobError("job \(active.id) is active; it can be removed once its attempt ends")) {
      try f.jobs.remove(active.id)
    }
    try f.jobs.finish([.failed(active, error: "bad")])
    try f.jobs.retry(active.id)
    #expect(try f.state(active.id) == .waiting)
    try f.jobs.remove(delayed)
    #expect(try f.countersMatchTable())
  }

  @Test func retryAllFailedDrainAndClean() throws {
    let f = try Fixture()
    for index in 0..<4 { try f.jobs.add(queue: "q", name: "j\(index)") }
    let claimed = try f.claim(limit: 3)
    try f.jobs.finish(claimed.prefix(2).map { .failed($0, error: "x") } + [.completed(claimed[2], returnValue: nil)])
    #expect(try f.jobs.retryAllFailed(queue: "q") == 2)
    try f.jobs.add(queue: "q", name: "later", options: .with { $0.delayMilliseconds = 1_000 })
    #expect(try f.jobs.drain("q") == 4)
    f.clock.advance(by: .seconds(7_200))
    #expect(try f.jobs.clean("q", state: .completed, olderThan: 3_600_000) == 1)
    #expect(try f.jobs.queues().first?.counts == .init(waiting: 0, delayed: 0, active: 0, completed: 0, failed: 0))
    #expect(throws: JobInputError.self) { try f.jobs.clean("q", state: .active, olderThan: 0) }
  }

  @Test func metricsCountCompletedAndFailedPerMinute() throws {
    let f = try Fixture()
    for index in 0..<3 { try f.jobs.add(queue: "q", name: "j\(index)") }
    let claimed = try f.claim()
    try f.jobs.finish([.completed(claimed[0], returnValue: nil), .completed(claimed[1], returnValue: nil)])
    try f.jobs.finish([.failed(claimed[2], error: "x")])
    f.clock.advance(by: .seconds(60))
    let queue = try #require(try f.jobs.queues().first)
    #expect(queue.completedLastMinute == 2)
    #expect(queue.failedLastMinute == 1)
    let series = try f.jobs.throughput(queue: "q", since: f.clock.now().addingTimeInterval(-3600))
    #expect(series.map(\.completed) == [2])
  }

  @Test func bulkAddsCountWhatTheyCreate() throws {
    let f = try Fixture()
    try f.jobs.add(queue: "q", name: "x", options: .with { $0.jobID = "dup" })
    let created = try f.jobs.addBulk(
      queue: "q",
      jobs: [
        NewJob(name: "a"), NewJob(name: "b", options: .with { $0.jobID = "dup" }),
        NewJob(name: "c", options: .with { $0.delayMilliseconds = 10 }),
      ], chunk: 2)
    #expect(created == 2)
    #expect(try f.jobs.addCopies(queue: "q", name: "noop", data: "{}", count: 25, chunk: 10) == 25)
    #expect(try f.countersMatchTable())
    #expect(try f.jobs.queues().first?.counts.waiting == 27)
  }

  @Test func unfinishedWorkIgnoresDelaysOnPurposeButNotPendingRetries() throws {
    let f = try Fixture()
    try f.jobs.add(queue: "q", name: "later", options: .with { $0.delayMilliseconds = 60_000 })
    #expect(try !f.jobs.hasUnfinishedWork(queues: ["q"]))
    try f.jobs.add(
      queue: "q", name: "retrying",
      options: .with {
        $0.attempts = 2
        $0.backoff = Backoff(kind: .fixed, delayMilliseconds: 5_000)
      })
    #expect(try f.jobs.hasUnfinishedWork(queues: ["q"]))
    try f.jobs.finish([.failed(try #require(try f.claim().first), error: "x")])
    #expect(try f.jobs.hasUnfinishedWork(queues: ["q"]))
    #expect(try f.jobs.hasUnfinishedWork(queues: nil))
    #expect(try !f.jobs.hasUnfinishedWork(queues: ["other"]))
  }

  @Test func progressAndLogsAreStoredWithTheJob() throws {
    let f = try Fixture()
    let id = try f.jobs.add(queue: "q", name: "x").id
    let job = try #require(try f.claim().first)
    try f.jobs.reportProgress(job, json: "42")
    try f.jobs.appendLog(job, "fetched 3 statements")
    f.clock.advance(by: .seconds(1))
    try f.jobs.appendLog(job, "reconciled")
    try f.jobs.reportProgress(job, json: #"{"done": 3, "of": 4}"#)
    #expect(throws: JobInputError.self) { try f.jobs.reportProgress(job, json: "{half") }
    let detail = try f.jobs.job(id)
    #expect(detail.progress == #"{"done": 3, "of": 4}"#)
    #expect(detail.logs.map(\.line) == ["fetched 3 statements", "reconciled"])
    #expect(detail.logs.map { Timestamp.format($0.at) } == ["2026-01-01T00:00:00Z", "2026-01-01T00:00:01Z"])
  }

  @Test func badDataIsRefusedByTheTableAndABulkAddWritesNothing() throws {
    let f = try Fixture()
    #expect(throws: JobInputError("invalid job data: not JSON")) {
      try f.jobs.addBulk(queue: "q", jobs: [NewJob(name: "a", data: "{}"), NewJob(name: "b", data: "{oops")])
    }
    #expect(try f.jobs.list().isEmpty)
    #expect(try f.jobs.queues().allSatisfy { $0.counts.waiting == 0 })
  }
}
