import Foundation
import GRDB
import Lifecycle
import Scheduler
import Storage
import Testing

/// A database with the lifecycle tables, the repository's templates and a
/// manual clock.
struct Fixture {
  static let templates = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("data/templates").path
  let path: String
  let store: Store
  let clock: ManualClock
  let lifecycle: Lifecycle

  init(at start: String, _ configure: (inout LifecycleSettings) -> Void = { _ in }) throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
      "opsdeck-lifecycle-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    path = directory.appendingPathComponent("ops.db").path
    clock = ManualClock(try Timestamp.parse(start))
    store = try Store.open(path: path, create: true)
    try store.migrate(
      StorageSchema.migrations + SchedulerSchema.migrations + LifecycleSchema.migrations, now: clock.now(),
      version: "test")
    var settings = LifecycleSettings()
    settings.plans = LifecycleSettings.seedPlans
    settings.onboarding = LifecycleSettings.seedOnboarding
    settings.sequences = [LifecycleSettings.seedSequence]
    settings.templatesDirectory = Self.templates
    // Re-engagement has a test of its own.
    settings.reengageAfterDays = 0
    configure(&settings)
    lifecycle = Lifecycle(jobs: JobStore(store: store, clock: clock), settings: settings, actor: "ana")
  }

  /// Another connection to the same file, as a second process would have.
  func second() throws -> Lifecycle {
    let other = try Store.open(path: path)
    return Lifecycle(jobs: JobStore(store: other, clock: clock), settings: lifecycle.settings, actor: "bob")
  }

  /// Ticks every hour on the hour up to `end` (and once now).
  func tickHourly(until end: String) throws {
    try lifecycle.tick()
    let stop = try Timestamp.parse(end)
    var next = Date(timeIntervalSince1970: (clock.now().timeIntervalSince1970 / 3_600).rounded(.down) * 3_600 + 3_600)
    while next <= stop {
      clock.set(to: next)
      try lifecycle.tick()
      next = next.addingTimeInterval(3_600)
    }
  }

  func count(_ sql: String) throws -> Int {
    try store.pool.read { db in try Int.fetchOne(db, sql: sql) ?? 0 }
  }

  func emails(_ account: String, status: String? = nil) throws -> [OutboxEmail] {
    try lifecycle.outbox(status: status, account: account).sorted { $0.id < $1.id }
  }
}

struct SequenceTests {
  /// Signed up at 15:30 in New York on 2 March 2026, ticked every hour for
  /// 31 days: every step on its day at 09:00 local — across the switch to
  /// summer time on 8 March — and nothing twice.
  @Test func aTrialGetsEachStepOnItsDayAtTheLocalHour() throws {
    let fixture = try Fixture(at: "2026-03-02T20:30:00Z")
    let account = try fixture.lifecycle.addAccount(id: "acme", email: "ana@acme.test", tz: "America/New_York")
    #expect(account.trialEndsAt == (try Timestamp.parse("2026-04-01T04:00:00Z")))
    try fixture.tickHourly(until: "2026-04-03T00:00:00Z")
    let sent = try fixture.emails("acme")
    #expect(
      sent.map(\.step) == [
        "welcome", "connect_bank", "first_reconciliation", "week_one", "halfway", "case_study", "ends_soon",
        "last_chance", "trial_ended",
      ])
    #expect(
      sent.map { Timestamp.format($0.scheduledAt) } == [
        "2026-03-02T20:30:00Z", "2026-03-03T14:00:00Z", "2026-03-05T14:00:00Z", "2026-03-09T13:00:00Z",
        "2026-03-16T13:00:00Z", "2026-03-23T13:00:00Z", "2026-03-29T13:00:00Z", "2026-03-31T13:00:00Z",
        "2026-04-01T13:00:00Z",
      ])
    #expect(sent.allSatisfy { $0.status == "pending" })
    #expect(sent[6].subject == "3 days left in your trial")
    // The trial expired by itself, on time.
    #expect(try fixture.lifecycle.account("acme").expiredAt == (try Timestamp.parse("2026-04-01T04:00:00Z")))
    // One email.send job per e-mail.
    #expect(try fixture.count("SELECT count(*) FROM jobs WHERE name = 'email.send'") == 9)
  }

  @Test func conversionOnDayTenEndsTheSequenceAtOnce() throws {
    let fixture = try Fixture(at: "2026-03-02T20:30:00Z")
    try fixture.lifecycle.addAccount(id: "acme", email: "ana@acme.test", tz: "America/New_York")
    try fixture.tickHourly(until: "2026-03-12T12:00:00Z")
    try fixture.lifecycle.convert("acme", plan: "growth")
    try fixture.tickHourly(until: "2026-04-03T00:00:00Z")
    let emails = try fixture.emails("acme")
    #expect(emails.map(\.step) == ["welcome", "connect_bank", "first_reconciliation", "week_one"])
    let timeline = try fixture.lifecycle.timeline("acme").map(\.kind)
    #expect(timeline.contains("converted"))
  }

  @Test func aConversionSkipsWhatIsStillPending() throws {
    let fixture = try Fixture(at: "2026-03-02T20:30:00Z")
    try fixture.lifecycle.addAccount(id: "acme", email: "ana@acme.test", tz: "America/New_York")
    try fixture.lifecycle.tick()
    try fixture.lifecycle.convert("acme", plan: "starter")
    #expect(try fixture.emails("acme").map(\.status) == ["skipped"])
    #expect(try fixture.emails("acme").first?.lastError == "converted")
  }

  @Test func aSuppressedAccountGetsNothing() throws {
    let fixture = try Fixture(at: "2026-03-02T20:30:00Z")
    try fixture.lifecycle.addAccount(id: "acme", email: "ana@acme.test", tz: "UTC")
    try fixture.lifecycle.suppress("acme", reason: "asked us to stop")
    try fixture.tickHourly(until: "2026-04-03T00:00:00Z")
    #expect(try fixture.emails("acme").isEmpty)
    // Usage e-mails too.
    try fixture.lifecycle.recordUsage(account: "acme", metric: "reconciliations", quantity: 50)
    #expect(try fixture.emails("acme").isEmpty)
  }

  @Test func aChurnedAccountGetsNothingMore() throws {
    let fixture = try Fixture(at: "2026-03-02T10:00:00Z")
    try fixture.lifecycle.addAccount(id: "acme", email: "ana@acme.test", tz: "UTC")
    try fixture.lifecycle.tick()
    try fixture.lifecycle.churn("acme", reason: "went with a spreadsheet")
    try fixture.tickHourly(until: "2026-04-03T00:00:00Z")
    #expect(try fixture.emails("acme").map(\.step) == ["welcome"])
    #expect(throws: LifecycleInputError.self) { try fixture.lifecycle.churn("acme", reason: "again") }
  }

  @Test func stepsWhoseOnboardingIsDoneAreSkippedWithTheReason() throws {
    let fixture = try Fixture(at: "2026-03-02T10:00:00Z")
    try fixture.lifecycle.addAccount(id: "acme", email: "ana@acme.test", tz: "UTC")
    try fixture.lifecycle.observe(account: "acme", event: "bank.connected")
    try fixture.tickHourly(until: "2026-03-04T12:00:00Z")
    let emails = try fixture.emails("acme")
    #expect(emails.map(\.step) == ["welcome", "connect_bank"])
    #expect(emails[1].status == "skipped")
    #expect(emails[1].lastError == "bank_connected done")
  }

  @Test func doubleTicksAndTwoConnectionsTickingAtOnceQueueNothingTwice() async throws {
    let fixture = try Fixture(at: "2026-03-02T08:00:00Z")
    for index in 0..<200 {
      try fixture.lifecycle.addAccount(id: "a\(index)", email: "a\(index)@example.test", tz: "UTC")
    }
    try fixture.lifecycle.tick()
    fixture.clock.set(to: try Timestamp.parse("2026-03-03T09:00:00Z"))
    let other = try fixture.second()
    let first = fixture.lifecycle
    async let one = Task.detached { try first.tick() }.value
    async let two = Task.detached { try other.tick() }.value
    let reports = try await [one, two]
    try fixture.lifecycle.tick()
    // Signed up at 08:00, before the send hour: each account's welcome
    // (09:00 day 0) and day 1's e-mail are both due — queued once, by one.
    #expect(reports.map(\.queued).reduce(0, +) == 400, "\(reports)")
    #expect(try fixture.count("SELECT count(*) FROM email_outbox WHERE step = 'connect_bank'") == 200)
    #expect(try fixture.count("SELECT count(*) FROM jobs WHERE name = 'email.send'") == 400)
  }

  @Test func anIdleAccountGetsOneReengagementPerIdleStretch() throws {
    let fixture = try Fixture(at: "2026-03-02T10:00:00Z") { $0.reengageAfterDays = 7 }
    try fixture.lifecycle.addAccount(id: "acme", email: "ana@acme.test", tz: "UTC")
    try fixture.tickHourly(until: "2026-03-09T09:00:00Z")
    #expect(try fixture.emails("acme").filter { $0.sequence == "reengage" }.isEmpty)
    try fixture.tickHourly(until: "2026-03-12T00:00:00Z")
    #expect(try fixture.emails("acme").filter { $0.sequence == "reengage" }.map(\.step) == ["idle-since-2026-03-02"])
    // Activity, then seven more idle days: one more.
    try fixture.lifecycle.observe(account: "acme", event: "statement.imported")
    try fixture.tickHourly(until: "2026-03-20T00:00:00Z")
    #expect(try fixture.emails("acme").filter { $0.sequence == "reengage" }.count == 2)
  }

  @Test func capsMakeTheLowerValueWaitAndQuietHoursHoldOccasionalEmails() throws {
    let fixture = try Fixture(at: "2026-03-02T22:30:00Z") { settings in
      settings.maxPerDay = 1
    }
    // Signed up at 22:30 UTC: inside quiet hours (21–8), so even the
    // welcome waits for 08:00.
    try fixture.lifecycle.addAccount(id: "acme", email: "ana@acme.test", tz: "UTC")
    try fixture.lifecycle.tick()
    #expect(try fixture.emails("acme").isEmpty)
    fixture.clock.set(to: try Timestamp.parse("2026-03-03T08:00:00Z"))
    try fixture.lifecycle.tick()
    #expect(try fixture.emails("acme").map(\.step) == ["welcome"])
    // Day 1's e-mail (09:00) waits for the cap: one in any 24 hours.
    fixture.clock.set(to: try Timestamp.parse("2026-03-03T09:00:00Z"))
    try fixture.lifecycle.tick()
    #expect(try fixture.emails("acme").count == 1)
    #expect(try fixture.lifecycle.account("acme").nextEmailAt == (try Timestamp.parse("2026-03-04T08:00:00Z")))
    // A usage e-mail at 23:00 waits for the quiet hours to end and the cap.
    fixture.clock.set(to: try Timestamp.parse("2026-03-03T23:00:00Z"))
    try fixture.lifecycle.recordUsage(account: "acme", metric: "reconciliations", quantity: 45)
    let usage = try #require(try fixture.emails("acme").first { $0.sequence == "usage" })
    #expect(Timestamp.format(usage.scheduledAt) == "2026-03-04T08:00:00Z")
  }
}

struct UsageTests {
  func fixture() throws -> Fixture {
    try Fixture(at: "2026-03-10T12:00:00Z") { settings in
      settings.plans = [
        Plan(
          name: "trial",
          quotas: ["reconciliations": Quota(limit: 100, hard: true), "seats": Quota(limit: 3, hard: false)]),
        Plan(name: "growth", price: 199, quotas: ["reconciliations": Quota(limit: 1_000, hard: true)]),
      ]
    }
  }

  @Test func thresholdsAt79_80_100AndOver() throws {
    let fixture = try fixture()
    try fixture.lifecycle.addAccount(id: "acme", email: "ana@acme.test")
    let lifecycle = fixture.lifecycle
    #expect(try lifecycle.recordUsage(account: "acme", metric: "reconciliations", quantity: 79).crossed == [])
    #expect(try lifecycle.checkUsage(account: "acme", metric: "reconciliations").allowed)
    #expect(try lifecycle.recordUsage(account: "acme", metric: "reconciliations", quantity: 1).crossed == [80])
    #expect(try lifecycle.checkUsage(account: "acme", metric: "reconciliations", quantity: 20).allowed)
    #expect(!(try lifecycle.checkUsage(account: "acme", metric: "reconciliations", quantity: 21).allowed))
    #expect(try lifecycle.recordUsage(account: "acme", metric: "reconciliations", quantity: 20).crossed == [100])
    let over = try lifecycle.checkUsage(account: "acme", metric: "reconciliations")
    #expect(!over.allowed && over.used == 100 && over.quota?.limit == 100)
    // Over it (recorded anyway — the product decides), nothing crosses twice.
    #expect(try lifecycle.recordUsage(account: "acme", metric: "reconciliations", quantity: 5).crossed == [])
    // One usage e-mail per threshold, with the numbers.
    let usage = try fixture.emails("acme").filter { $0.sequence == "usage" }
    #expect(usage.map(\.step) == ["reconciliations-80-2026-03", "reconciliations-100-2026-03"])
    #expect(usage.first?.subject == "You have used 80% of your reconciliations")
    #expect(try lifecycle.hardQuotaBreaches().map(\.metric) == ["reconciliations"])
    // Upgrading lifts the breach.
    try lifecycle.convert("acme", plan: "growth")
    #expect(try lifecycle.hardQuotaBreaches().isEmpty)
  }

  @Test func softQuotasAllowAndWarnAndKeysAreIdempotent() throws {
    let fixture = try fixture()
    try fixture.lifecycle.addAccount(id: "acme", email: "ana@acme.test")
    let lifecycle = fixture.lifecycle
    try lifecycle.recordUsage(account: "acme", metric: "seats", quantity: 3, idempotencyKey: "k")
    let again = try lifecycle.recordUsage(account: "acme", metric: "seats", quantity: 3, idempotencyKey: "k")
    #expect(!again.recorded && again.used == 3)
    let decision = try lifecycle.checkUsage(account: "acme", metric: "seats")
    #expect(decision.allowed && decision.overSoft)
    // A new period starts from nothing.
    fixture.clock.set(to: try Timestamp.parse("2026-04-01T00:00:01Z"))
    #expect(try lifecycle.usage(account: "acme").first { $0.metric == "seats" }?.used == 0)
  }

  @Test func badInputIsOneLineAndWritesNothing() throws {
    let fixture = try fixture()
    let lifecycle = fixture.lifecycle
    #expect(throws: LifecycleInputError.self) { try lifecycle.addAccount(id: "x", email: "not-an-address") }
    #expect(throws: LifecycleInputError.self) {
      try lifecycle.addAccount(id: "x", email: "a@b.test", tz: "Mars/Olympus")
    }
    #expect(throws: LifecycleInputError.self) { try lifecycle.addAccount(id: "x", email: "a@b.test", plan: "gold") }
    #expect(try lifecycle.accounts().isEmpty)
    try lifecycle.addAccount(id: "acme", email: "ana@acme.test")
    #expect(throws: LifecycleInputError.self) {
      try lifecycle.recordUsage(account: "acme", metric: "bad metric", quantity: 1)
    }
    #expect(throws: LifecycleInputError.self) { try lifecycle.recordUsage(account: "acme", metric: "m", quantity: -1) }
    #expect(throws: LifecycleInputError.self) { try lifecycle.recordUsage(account: "nobody", metric: "m", quantity: 1) }
    #expect(try lifecycle.usage(account: "acme").allSatisfy { $0.used == 0 })
  }
}

struct TemplateTests {
  @Test func unknownVariablesAreFoundBeforeAnyoneGetsABlank() {
    let known: Set<String> = ["name", "usage"]
    #expect(Templates.unknownVariables(in: "Hi {{name}}, {{ days_lft }}", known: known) == ["days_lft"])
    #expect(Templates.unknownVariables(in: "{{#usage}}{{metric}} {{used}}{{/usage}}", known: known).isEmpty)
    #expect(Templates.unknownVariables(in: "{{metric}}", known: known) == ["metric"])
    #expect(Templates.unknownVariables(in: "{{! a comment }}{{{name}}}{{&name}}", known: known).isEmpty)
  }

  @Test func theShippedTemplatesUseOnlyKnownVariables() {
    let templates = Templates(directory: Fixture.templates)
    for step in LifecycleSettings.seedSequence.steps {
      #expect(templates.problems(template: step.template, subject: step.subject, extra: []).isEmpty, "\(step.id)")
    }
    let settings = LifecycleSettings()
    for (email, kind) in [
      (settings.usageEmail, "usage"), (settings.nudgeEmail, "upgrade"), (settings.reengageEmail, "reengage"),
    ] {
      let problems = templates.problems(
        template: email.template, subject: email.subject, extra: Templates.occasionVariables[kind] ?? [])
      #expect(problems.isEmpty, "\(problems)")
    }
  }

  @Test func unsubscribeTokensVerifyAndRefuseTampering() throws {
    let fixture = try Fixture(at: "2026-03-02T10:00:00Z")
    try fixture.lifecycle.addAccount(id: "acme", email: "ana@acme.test")
    let token = try fixture.lifecycle.unsubscribeToken(account: "acme")
    var forged = token
    forged.removeLast()
    forged += token.hasSuffix("A") ? "B" : "A"
    #expect(throws: LifecycleInputError.self) { try fixture.lifecycle.unsubscribe(token: forged) }
    #expect(try fixture.lifecycle.account("acme").suppressedAt == nil)
    // Another connection (another process) verifies it with the stored key.
    #expect(try fixture.second().unsubscribe(token: token) == "acme")
    #expect(try fixture.lifecycle.account("acme").suppressedAt != nil)
  }
}

/// Local wall-clock times across the year's clock changes, checked against
/// Foundation's Calendar on every day of 2026 in a few zones.
struct LocalTimeTests {
  func calendarTime(day: Int, hour: Int, from start: Date, tz: String) -> Date {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: tz)!
    let target = calendar.date(byAdding: .day, value: day, to: calendar.startOfDay(for: start))!
    return calendar.date(bySettingHour: hour, minute: 0, second: 0, of: target)!
  }

  @Test func nineOClockEveryDayOfTheYearMatchesCalendar() throws {
    let start = try Timestamp.parse("2026-01-01T12:00:00Z")
    for tz in ["America/New_York", "Europe/Berlin", "Australia/Sydney", "Asia/Kathmandu", "UTC"] {
      for day in 0..<366 {
        for hour in [0, 8, 9, 21] {
          let ours = Lifecycle.localTime(day: day, hour: hour, from: start, tz: tz)
          #expect(ours == calendarTime(day: day, hour: hour, from: start, tz: tz), "\(tz) day \(day) \(hour):00")
        }
      }
    }
  }

  @Test func aHourThatDoesNotExistIsTheEndOfTheGapAndARepeatedOneIsItsFirst() throws {
    let start = try Timestamp.parse("2026-03-01T12:00:00Z")
    // 8 March 2026, New York: 02:00 jumps to 03:00 (07:00Z).
    #expect(
      Lifecycle.localTime(day: 7, hour: 2, from: start, tz: "America/New_York")
        == (try Timestamp.parse("2026-03-08T07:00:00Z")))
    // 1 November 2026: 01:00–02:00 happens twice; the first is 05:00Z.
    let autumn = try Timestamp.parse("2026-10-31T12:00:00Z")
    #expect(
      Lifecycle.localTime(day: 1, hour: 1, from: autumn, tz: "America/New_York")
        == (try Timestamp.parse("2026-11-01T05:00:00Z")))
  }
}
