import Foundation
import GRDB
import Scheduler
import Storage
import Testing

struct SchedulesTests {
  func pending(_ f: Fixture, _ schedule: String) throws -> [JobSummary] {
    try f.jobs.list(queue: "q", state: .delayed) + f.jobs.list(queue: "q", state: .waiting)
  }

  @Test func aCronScheduleHasExactlyOneNextJobAtItsNextFireTime() throws {
    let f = try Fixture()
    let schedules = Schedules(jobs: f.jobs)
    let cron = try CronExpression(parsing: "0 9 * * *")
    try schedules.upsert(.init(id: "digest", queue: "q", name: "noop", repeats: .cron(cron, timeZone: "Europe/Berlin")))
    #expect(try schedules.materialize() == 0)
    let next = try pending(f, "digest")
    #expect(next.count == 1)
    #expect(next.first.map { Timestamp.format($0.runAt!) } == "2026-01-01T08:00:00Z")
    #expect(try schedules.list().first?.nextRunAt.map(Timestamp.format) == "2026-01-01T08:00:00Z")

    f.clock.advance(by: .seconds(8 * 3600))
    try f.jobs.promoteDue()
    let job = try #require(try f.claim().first)
    #expect(job.scheduleID == "digest")
    #expect(try schedules.materialize() == 1)
    #expect(try pending(f, "digest").map { Timestamp.format($0.runAt!) } == ["2026-01-02T08:00:00Z"])
    #expect(try f.countersMatchTable())
  }

  @Test func afterDowntimeTheNextRunIsFromNowWithoutABurst() throws {
    let f = try Fixture()
    let schedules = Schedules(jobs: f.jobs)
    try schedules.upsert(.init(id: "tick", queue: "q", name: "noop", repeats: .every(milliseconds: 60_000)))
    // The first run is due at once; then the process is down for ten days.
    f.clock.advance(by: .seconds(10 * 86_400))
    try f.jobs.promoteDue()
    #expect(try f.claim().count == 1)
    #expect(try schedules.materialize() == 1)
    let next = try pending(f, "tick")
    #expect(next.count == 1)
    #expect(next.first?.runAt == f.clock.now().addingTimeInterval(60))
  }

  @Test func aLimitStopsTheSchedule() throws {
    let f = try Fixture()
    let schedules = Schedules(jobs: f.jobs)
    try schedules.upsert(.init(id: "thrice", queue: "q", name: "noop", repeats: .every(milliseconds: 1_000), limit: 3))
    var ran = 0
    for _ in 0..<6 {
      try f.jobs.promoteDue()
      ran += try f.claim().count
      try schedules.materialize()
      f.clock.advance(by: .seconds(1))
    }
    #expect(ran == 3)
    #expect(try schedules.list().first?.fired == 3)
    #expect(try schedules.list().first?.nextRunAt == nil)
  }

  @Test func startAndEndBoundTheRuns() throws {
    let f = try Fixture()
    let schedules = Schedules(jobs: f.jobs)
    let start = f.clock.now().addingTimeInterval(3600)
    try schedules.upsert(
      .init(
        id: "window", queue: "q", name: "noop", repeats: .every(milliseconds: 1_800_000), start: start,
        end: start.addingTimeInterval(3600)))
    #expect(try pending(f, "window").first?.runAt == start)
    for _ in 0..<4 {
      f.clock.advance(by: .seconds(1800))
      try f.jobs.promoteDue()
      _ = try f.claim()
      try schedules.materialize()
    }
    #expect(try schedules.list().first?.fired == 3)  // start, +30m, +60m (= end)
  }

  @Test func concurrentMaterialisersCreateOneJob() async throws {
    let f = try Fixture()
    let schedules = Schedules(jobs: f.jobs)
    try schedules.upsert(
      .init(
        id: "busy", queue: "q", name: "noop", repeats: .cron(try CronExpression(parsing: "* * * * *"), timeZone: "UTC"))
    )
    f.clock.advance(by: .seconds(60))
    try f.jobs.promoteDue()
    _ = try f.claim()
    let mine = f.jobs
    let other = JobStore(store: try Store.open(path: f.store.path), clock: f.clock)
    try await withThrowingTaskGroup(of: Int.self) { group in
      for index in 0..<8 {
        group.addTask { try Schedules(jobs: index % 2 == 0 ? mine : other).materialize() }
      }
      var total = 0
      for try await created in group { total += created }
      #expect(total == 1)
    }
    #expect(try pending(f, "busy").count == 1)
  }

  @Test func badSchedulesAreRefused() throws {
    let f = try Fixture()
    let schedules = Schedules(jobs: f.jobs)
    let never = try CronExpression(parsing: "0 0 31 2 *")
    #expect(throws: JobInputError("cron expression '0 0 31 2 *' never fires")) {
      try schedules.upsert(.init(id: "x", queue: "q", name: "n", repeats: .cron(never, timeZone: "UTC")))
    }
    let daily = try CronExpression(parsing: "@daily")
    #expect(
      throws: JobInputError("unknown time zone 'Mars/Olympus' (expected an IANA name such as Europe/Berlin or UTC)")
    ) {
      try schedules.upsert(.init(id: "x", queue: "q", name: "n", repeats: .cron(daily, timeZone: "Mars/Olympus")))
    }
    #expect(throws: JobError("no schedule with id 'x'")) { try schedules.remove("x") }
    #expect(try schedules.list().isEmpty)
  }

  @Test func syncRemovesWhatTheConfigNoLongerHasAndKeepsWhatItStillHas() throws {
    let f = try Fixture()
    let schedules = Schedules(jobs: f.jobs)
    let a = ScheduleSpec(id: "a", queue: "q", name: "noop", repeats: .every(milliseconds: 3_600_000))
    let b = ScheduleSpec(id: "b", queue: "q", name: "noop", repeats: .every(milliseconds: 7_200_000))
    try schedules.sync([a, b], source: "config")
    try schedules.upsert(.init(id: "manual", queue: "q", name: "noop", repeats: .every(milliseconds: 60_000)))
    let before = try f.jobs.list(queue: "q").map(\.id).sorted()
    try schedules.sync([a], source: "config")
    #expect(try schedules.list().map(\.id) == ["a", "manual"])
    let after = try f.jobs.list(queue: "q").map(\.id).sorted()
    #expect(after == before.filter { !$0.hasPrefix("schedule:b:") })
    #expect(try f.countersMatchTable())
  }
}
