import Analytics
import Foundation
import Storage
import Testing

struct RetentionTests {
  let log: EventLog

  init() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
      "opsdeck-retention-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let store = try Store.open(path: directory.appendingPathComponent("ops.db").path, create: true)
    try store.migrate(StorageSchema.migrations + AnalyticsSchema.migrations, now: Date(), version: "test")
    log = EventLog(store: store)
  }

  func track(_ account: String, _ name: String, _ time: String) throws {
    try log.track(TrackedEvent(name: name, accountID: account, at: try Timestamp.parse(time)))
  }

  /// Sunday-first weeks from 2026-01-04: acme signs up in week 0 and comes
  /// back in weeks 1 and 2; globex signs up in week 0 and never returns;
  /// initech signs up in week 1 (and again in week 2) and returns in week 2.
  func populate() throws {
    try track("acme", "signup", "2026-01-04T10:00:00Z")
    try track("acme", "recon", "2026-01-12T10:00:00Z")
    try track("acme", "recon", "2026-01-19T10:00:00Z")
    try track("globex", "signup", "2026-01-05T10:00:00Z")
    try track("initech", "signup", "2026-01-13T10:00:00Z")
    try track("initech", "signup", "2026-01-20T10:00:00Z")
    try track("initech", "recon", "2026-01-21T10:00:00Z")
  }

  @Test func firstTimeCohortsMakeTheTriangle() throws {
    try populate()
    var query = RetentionQuery(startEvent: "signup", returnEvent: "recon")
    query.periods = 3
    query.to = try Timestamp.parse("2026-01-24T23:59:59Z")
    let cohorts = try log.retention(query)
    #expect(cohorts.map(\.start) == ["2026-01-04", "2026-01-11", "2026-01-18"])
    #expect(cohorts.map(\.size) == [2, 1, 0])
    #expect(cohorts[0].counts == [2, 1, 1])
    #expect(cohorts[1].counts == [1, 1])
    #expect(cohorts[0].percentages == [100, 50, 50])
  }

  @Test func recurringCohortsCountEveryStart() throws {
    try populate()
    var query = RetentionQuery(startEvent: "signup", returnEvent: "recon")
    query.recurring = true
    query.periods = 3
    let cohorts = try log.retention(query)
    #expect(cohorts.map(\.size) == [2, 1, 1], "initech is in weeks 1 and 2")
  }

  @Test func bucketsFollowTheZoneAndTheWeekStart() throws {
    // 2026-01-04T02:00Z is Saturday 3 January in New York: the week before.
    try track("acme", "signup", "2026-01-04T02:00:00Z")
    var query = RetentionQuery(startEvent: "signup", returnEvent: "recon")
    query.periods = 1
    #expect(try log.retention(query).first?.start == "2026-01-04")
    query.timeZone = "America/New_York"
    #expect(try log.retention(query).first?.start == "2025-12-28")
    query.timeZone = "UTC"
    query.weekStartsMonday = true
    #expect(try log.retention(query).first?.start == "2025-12-29")
    query.period = .month
    #expect(try log.retention(query).first?.start == "2026-01-01")
    query.timeZone = "Mars/Olympus"
    #expect(throws: AnalyticsInputError.self) { try log.retention(query) }
  }
}
