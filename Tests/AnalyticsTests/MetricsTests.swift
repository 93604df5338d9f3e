import Analytics
import Foundation
import Storage
import Testing

struct MetricsTests {
  let now = Date(timeIntervalSince1970: 1_768_435_200)  // 2026-01-15T00:00:00Z, a Thursday
  let log: EventLog

  init() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
      "opsdeck-metrics-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let store = try Store.open(path: directory.appendingPathComponent("ops.db").path, create: true)
    try store.migrate(StorageSchema.migrations + AnalyticsSchema.migrations, now: Date(), version: "test")
    log = EventLog(store: store)
  }

  func daysAgo(_ days: Double) -> Date { now.addingTimeInterval(-days * 86_400) }

  @Test func headlineNumbersAndTheirWeekAgo() throws {
    let facts = [
      // Signed up 20 days ago, onboarded in 3 days, converted 10 days ago at $199.
      AccountFacts(
        id: "acme", signedUpAt: daysAgo(20), trial: true, convertedAt: daysAgo(10), churnedAt: nil, monthlyPrice: 199,
        onboardedAt: daysAgo(17), firstReconciliationAt: daysAgo(18)),
      // Signed up 12 days ago, onboarded after 9 days: not activated.
      AccountFacts(
        id: "globex", signedUpAt: daysAgo(12), trial: true, convertedAt: nil, churnedAt: nil, monthlyPrice: 0,
        onboardedAt: daysAgo(3), firstReconciliationAt: daysAgo(8)),
      // Paying since long ago, churned 3 days ago.
      AccountFacts(
        id: "initech", signedUpAt: daysAgo(80), trial: true, convertedAt: daysAgo(60), churnedAt: daysAgo(3),
        monthlyPrice: 49, onboardedAt: nil, firstReconciliationAt: nil),
      // Signed up 2 days ago: too new for the activation cohort.
      AccountFacts(
        id: "hooli", signedUpAt: daysAgo(2), trial: true, convertedAt: nil, churnedAt: nil, monthlyPrice: 0,
        onboardedAt: daysAgo(1), firstReconciliationAt: nil),
    ]
    try log.track(TrackedEvent(name: "login", accountID: "acme", at: daysAgo(0.5)))
    try log.track(TrackedEvent(name: "login", accountID: "globex", at: daysAgo(3)))
    try log.track(TrackedEvent(name: "login", accountID: "acme", at: daysAgo(9)))
    let report = try Metrics.compute(facts: facts, log: log, now: now)
    // Cohort: acme, globex, initech (7–90 days ago); activated: acme.
    #expect(report.activationRate.value == 1.0 / 3)
    #expect(report.mrr.value == 199 && report.mrr.weekAgo == 248)
    #expect(report.payingAccounts == 1)
    // Paying 30 days ago: initech only; it churned since.
    #expect(report.churnRate.value == 1)
    #expect(report.dailyActive.value == 1 && report.weeklyActive.value == 2 && report.weeklyActive.weekAgo == 1)
    // First reconciliation: acme after 2 days, globex after 4: median 3 days.
    #expect(abs((report.medianTimeToFirstReconciliation.value ?? 0) - 3 * 86_400) < 0.01)
    #expect(report.trialToPaid.count == 8)
    #expect(report.trialToPaid.last?.week == "2026-01-12" && report.trialToPaid.last?.trials == 1)
    // globex signed up on Saturday 3 January (not converted), acme on Friday 26 December (converted).
    let globexWeek = report.trialToPaid[report.trialToPaid.count - 3]
    #expect(globexWeek.week == "2025-12-29" && globexWeek.trials == 1 && globexWeek.converted == 0)
    let acmeWeek = report.trialToPaid[report.trialToPaid.count - 4]
    #expect(acmeWeek.week == "2025-12-22" && acmeWeek.converted == 1 && acmeWeek.rate == 1)
    #expect(report.mrr.change.map { ($0 * 1000).rounded() / 1000 } == -0.198)
  }
}
