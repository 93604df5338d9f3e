import Analytics
import Foundation
import Storage
import Testing

/// Funnels computed from tracked events in a real database file.
struct FunnelQueryTests {
  let log: EventLog
  let base = Date(timeIntervalSince1970: 1_767_225_600)  // 2026-01-01T00:00:00Z

  init() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("opsdeck-funnel-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let store = try Store.open(path: directory.appendingPathComponent("ops.db").path, create: true)
    try store.migrate(StorageSchema.migrations + AnalyticsSchema.migrations, now: base, version: "test")
    log = EventLog(store: store)
  }

  func track(_ account: String, _ name: String, _ seconds: Double, user: String? = nil, plan: String? = nil) throws {
    try log.track(
      TrackedEvent(
        name: name, accountID: account, userID: user, at: base.addingTimeInterval(seconds),
        properties: plan.map { ["plan": $0] } ?? [:]))
  }

  /// `count` events of random names, accounts, users, times (and plans).
  func trackRandom(_ count: Int, names: [String], accounts: Int, plans: Bool = false) throws {
    var random = SystemRandomNumberGenerator()
    for _ in 0..<count {
      try log.track(
        TrackedEvent(
          name: names.randomElement(using: &random)!, accountID: "a\(Int.random(in: 0..<accounts, using: &random))",
          userID: Bool.random(using: &random) ? "u\(Int.random(in: 0..<30, using: &random))" : nil,
          at: base.addingTimeInterval(Double.random(in: 0...100_000, using: &random)),
          properties: plans && Bool.random(using: &random)
            ? ["plan": ["trial", "growth", "scale"].randomElement(using: &random)!] : [:]))
    }
  }

  /// signup → bank → recon in 20,000 s, in every mode, by account and by user.
  var everyKindOfFunnel: [FunnelQuery] {
    FunnelMode.allCases.flatMap { mode in
      [false, true].map { byUser in
        var query = FunnelQuery(steps: ["signup", "bank", "recon"])
        query.window = .seconds(20_000)
        query.mode = mode
        query.byUser = byUser
        return query
      }
    }
  }

  @Test func countsConversionsTimesAndDropOffs() throws {
    // acme: all three, 10 s then 30 s; globex: two, 20 s; initech: one; hooli: the second step only.
    try track("acme", "signup", 0, plan: "trial")
    try track("acme", "bank", 10)
    try track("acme", "recon", 40)
    try track("globex", "signup", 0, plan: "growth")
    try track("globex", "bank", 20, plan: "trial")
    try track("initech", "signup", 5)
    try track("hooli", "bank", 5)
    var query = FunnelQuery(steps: ["signup", "bank", "recon"])
    query.window = .seconds(3_600)
    let result = try log.funnel(query)
    #expect(result.steps.map(\.count) == [3, 2, 1])
    #expect(result.steps[1].conversionFromFirst == 2.0 / 3 && result.steps[2].conversionFromPrevious == 0.5)
    #expect(result.steps[1].meanSeconds == 15 && result.steps[1].medianSeconds == 15)
    #expect(result.steps[2].medianSeconds == 30)
    #expect(result.steps.map(\.dropped) == [0, 1, 1])
    #expect(try log.dropped(result, at: 2) == ["initech"] && log.dropped(result, at: 3) == ["globex"])
    // The date range filters every event: cut before acme's last step.
    query.to = base.addingTimeInterval(30)
    #expect(try log.funnel(query).steps.map(\.count) == [3, 2, 0])
    // Breakdown by the first step event's value that has it.
    query.to = nil
    query.breakdown = "plan"
    let split = try log.funnel(query).breakdown
    #expect(split.map(\.value) == ["growth", "trial", ""])
    #expect(split.first { $0.value == "growth" }?.steps.map(\.count) == [1, 1, 0])
    #expect(split.first { $0.value == "trial" }?.steps.map(\.count) == [1, 1, 1])
  }

  /// Folding events into columns changes no figure: blocks, then rows.
  @Test func compactingChangesNothing() throws {
    let names = ["signup", "bank", "recon", "other"]
    try trackRandom(400, names: names, accounts: 60)
    for var query in everyKindOfFunnel {
      query.from = base.addingTimeInterval(1_000)
      let before = try log.funnel(query)
      #expect(try log.compact() == (query.mode == .ordered && !query.byUser ? 400 : 0))
      let after = try log.funnel(query)
      #expect(before.steps == after.steps && before.outcomes == after.outcomes, "\(query)")
    }
    // New rows after a fold, then another fold that tops up the blocks.
    try trackRandom(300, names: names, accounts: 60)
    let query = FunnelQuery(steps: ["signup", "bank", "recon"])
    let mixed = try log.funnel(query)
    #expect(try log.compact() == 300)
    #expect(try log.funnel(query).outcomes == mixed.outcomes)
  }

  /// A kept funnel (and retention report) refreshed with new events gives
  /// what computing it afresh gives: new actors, events older than those
  /// seen, a step name that did not exist yet, a fold in between.
  @Test func aRefreshedFunnelEqualsAFreshOne() throws {
    try trackRandom(500, names: ["signup", "bank", "other", "cancel"], accounts: 80, plans: true)
    var queries = everyKindOfFunnel
    queries[0].from = base.addingTimeInterval(5_000)
    queries[1].breakdown = "plan"
    queries[2].exclusions = [FunnelExclusion(event: "cancel", from: 1, to: 3)]
    queries[4].breakdown = "plan"
    var states = try queries.map { try FunnelState(query: $0, log: log) }
    var retention = RetentionQuery(startEvent: "signup", returnEvent: "recon")
    retention.period = .day
    var kept = try RetentionState(query: retention, log: log)
    var ranged = retention
    ranged.from = base.addingTimeInterval(30_000)
    ranged.timeZone = "America/New_York"
    ranged.recurring = true
    var keptRanged = try RetentionState(query: ranged, log: log)
    for round in 0..<3 {
      // "recon" appears only now: the kept funnels were built without it.
      try trackRandom(150, names: ["signup", "bank", "recon", "other", "cancel"], accounts: 80, plans: true)
      if round == 1 { try log.compact() }
      for index in states.indices {
        try states[index].refresh(log)
        let fresh = try log.funnel(queries[index])
        let kept = states[index].result
        #expect(kept.steps == fresh.steps, "\(queries[index])")
        #expect(kept.outcomes == fresh.outcomes, "\(queries[index])")
        #expect(kept.breakdown.map(\.value) == fresh.breakdown.map(\.value))
        #expect(kept.breakdown.map(\.steps) == fresh.breakdown.map(\.steps))
      }
      try kept.refresh(log)
      #expect(kept.cohorts() == (try log.retention(retention)))
      try keptRanged.refresh(log)
      #expect(keptRanged.cohorts() == (try log.retention(ranged)))
    }
  }

  @Test func usersAndBadQueries() throws {
    try track("acme", "signup", 0, user: "ana")
    try track("acme", "bank", 10, user: "tom")
    var query = FunnelQuery(steps: ["signup", "bank"])
    #expect(try log.funnel(query).steps.map(\.count) == [1, 1])
    query.byUser = true
    #expect(try log.funnel(query).steps.map(\.count) == [1, 0], "ana signed up; tom connected the bank")
    #expect(throws: AnalyticsInputError.self) { try log.funnel(FunnelQuery(steps: ["signup"])) }
    var bad = FunnelQuery(steps: ["signup", "bank"])
    bad.exclusions = [FunnelExclusion(event: "x", from: 2, to: 1)]
    #expect(throws: AnalyticsInputError.self) { try log.funnel(bad) }
  }
}
