import Foundation
import GRDB
import Resilience
import Storage
import Testing

/// Two registries on one database stand for two processes.
struct BreakerRegistryTests {
  let directory: URL
  let store: Store
  let clock = ManualClock(Date(timeIntervalSince1970: 1_767_225_600))

  init() throws {
    directory = FileManager.default.temporaryDirectory.appendingPathComponent("opsdeck-breakers-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    store = try Store.open(path: directory.appendingPathComponent("ops.db").path, create: true)
    try store.migrate(StorageSchema.migrations + ResilienceSchema.migrations, now: clock.now(), version: "test")
  }

  func registry() -> BreakerRegistry {
    var settings = BreakerSettings()
    settings.windowSize = 4
    settings.halfOpenCalls = 2
    settings.waitInOpenMilliseconds = 10_000
    return BreakerRegistry(store: store, clock: clock, settings: ["fx": settings], actor: "test")
  }

  func fail(_ registry: BreakerRegistry, times: Int) throws {
    for _ in 0..<times { try registry.record(try registry.acquire("fx"), .failure("503 from fx")) }
  }

  @Test func aBreakerOpenedInOneProcessRejectsInTheOtherWithinASync() throws {
    let run = registry()
    let console = registry()
    _ = try console.acquire("fx")
    try fail(run, times: 4)
    #expect(run.state("fx") == .open)
    #expect(throws: BreakerRejection.self) { _ = try run.acquire("fx") }
    // The other process looks at the shared row a quarter second later.
    clock.advance(by: 0.25)
    #expect(throws: BreakerRejection.self) { _ = try console.acquire("fx") }
    #expect(console.state("fx") == .open)
    let history = try store.pool.read { db in try BreakerAdmin.history(db, name: "fx") }
    #expect(history.map(\.to) == [.open])
    #expect(history.first?.reason.hasPrefix("failure rate 100.0%") == true)
    try run.syncAll()
    let status = try store.pool.read { db in try BreakerAdmin.statuses(db, names: ["fx"], now: clock.now()) }
    #expect(status.first?.state == .open)
    #expect(status.first?.notPermitted == 1)
    #expect(status.first?.lastError == "503 from fx")
    #expect(status.first?.halfOpenAt == clock.now().addingTimeInterval(10 - 0.25))
  }

  @Test func aForceOpenByHandStopsCallsEverywhereAndIsAudited() throws {
    let run = registry()
    _ = try run.acquire("fx")
    try BreakerAdmin.apply(.forceOpen, to: "fx", store: store, at: clock.now(), actor: "ana")
    #expect(throws: IllegalTransition(name: "fx", state: .forcedOpen)) {
      try BreakerAdmin.apply(.forceOpen, to: "fx", store: store, at: clock.now(), actor: "ana")
    }
    clock.advance(by: 0.25)
    let rejection = #expect(throws: BreakerRejection.self) { _ = try run.acquire("fx") }
    #expect(rejection?.state == .forcedOpen)
    try BreakerAdmin.apply(.reset, to: "fx", store: store, at: clock.now(), actor: "ana")
    clock.advance(by: 0.25)
    _ = try run.acquire("fx")
    let (history, audit) = try store.pool.read { db in
      (try BreakerAdmin.history(db, name: "fx"), try AuditLog.entries(db, target: "breaker:fx"))
    }
    #expect(history.map(\.to) == [.closed, .forcedOpen])
    #expect(history.map(\.actor) == ["ana", "ana"])
    #expect(audit.map(\.action) == ["breaker.reset", "breaker.force-open"])
  }

  @Test func halfOpensAfterTheWaitAndClosesOnRecovery() throws {
    let run = registry()
    try fail(run, times: 4)
    clock.advance(by: 10)
    for _ in 0..<2 { try run.record(try run.acquire("fx"), .success) }
    #expect(run.state("fx") == .closed)
    let history = try store.pool.read { db in try BreakerAdmin.history(db, name: "fx") }
    #expect(history.map(\.to) == [.closed, .halfOpen, .open])
  }

  @Test func anUnknownDependencyIsNamed() {
    #expect(throws: BreakerUnknown(name: "bank")) { _ = try registry().acquire("bank") }
  }
}
