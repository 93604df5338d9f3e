import Foundation
import GRDB
import Storage

/// One probe of a dependency, as kept in `health_checks`.
public struct HealthResult: Sendable, Equatable {
  public var name: String
  public var at: Date
  public var report: CallReport
}

/// `health.check`: probes dependencies with a `url` through their breakers
/// and records every result (the last 500 per dependency are kept).
public struct HealthChecks: Sendable {
  public static let jobName = "health.check"
  public let dependencies: Dependencies
  public let store: Store
  public let clock: any Clock

  public init(dependencies: Dependencies, store: Store, clock: any Clock) {
    self.dependencies = dependencies
    self.store = store
    self.clock = clock
  }

  /// Probes `names` (every dependency with a url when empty) and records each.
  public func run(_ names: [String] = []) throws -> [HealthResult] {
    let targets =
      names.isEmpty
      ? dependencies.settings.values.filter { $0.url != nil }.map(\.name).sorted() : names
    var results: [HealthResult] = []
    for name in targets {
      let report = try dependencies.probe(name)
      let result = HealthResult(name: name, at: clock.now(), report: report)
      try record(result)
      results.append(result)
    }
    try dependencies.registry.syncAll()
    return results
  }

  func record(_ result: HealthResult) throws {
    try store.writeTransaction { db in
      try db.execute(
        sql: "INSERT INTO health_checks (name, at, outcome, status, latency_ms, error) VALUES (?, ?, ?, ?, ?, ?)",
        arguments: [
          result.name, result.at.epochMilliseconds, result.report.outcome,
          result.report.status, result.report.latencyMilliseconds, result.report.error,
        ])
      try db.execute(
        sql: """
          DELETE FROM health_checks WHERE name = ?1 AND id <= coalesce(
            (SELECT id FROM health_checks WHERE name = ?1 ORDER BY id DESC LIMIT 1 OFFSET 500), 0)
          """, arguments: [result.name])
    }
  }

  /// The newest results, newest first.
  public func recent(limit: Int = 50) throws -> [HealthResult] {
    try store.pool.read { db in
      try Row.fetchAll(
        db, sql: "SELECT name, at, outcome, status, latency_ms, error FROM health_checks ORDER BY id DESC LIMIT ?",
        arguments: [limit]
      ).map { row in
        HealthResult(
          name: row[0], at: Date(epochMilliseconds: row[1]),
          report: CallReport(
            outcome: row[2], state: .closed, latencyMilliseconds: row[4], status: row[3], error: row[5]))
      }
    }
  }
}
