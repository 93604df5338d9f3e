import Foundation
import GRDB
import Storage

/// A funnel to compute: steps (event names), the conversion window, a
/// date range that filters every event, the mode, whose funnel (accounts or
/// users), exclusions and a breakdown property.
public struct FunnelQuery: Sendable, Equatable {
  public var steps: [String]
  public var window: Duration = .seconds(14 * 86_400)
  public var from: Date? = nil
  public var to: Date? = nil
  public var mode: FunnelMode = .ordered
  public var byUser = false
  public var exclusions: [FunnelExclusion] = []
  public var breakdown: String? = nil
  /// Breakdown values shown; the rest are "Other".
  public var breakdownLimit = 5

  public init(steps: [String]) {
    self.steps = steps
  }

  public func validate() throws {
    guard steps.count >= 2 else { throw AnalyticsInputError("invalid --steps: at least two, such as signup,activated") }
    guard steps.count <= 20 else { throw AnalyticsInputError("invalid --steps: at most 20") }
    guard window > .zero else { throw AnalyticsInputError("invalid --window: it must be longer than 0") }
    if let from, let to, from > to { throw AnalyticsInputError("invalid --from/--to: --from is after --to") }
    for exclusion in exclusions {
      guard exclusion.from >= 1, exclusion.to <= steps.count, exclusion.from < exclusion.to else {
        throw AnalyticsInputError(
          "invalid --exclude \(exclusion.event):\(exclusion.from):\(exclusion.to): expected steps i < j between 1 and \(steps.count)"
        )
      }
      guard !steps.contains(exclusion.event) else {
        throw AnalyticsInputError("invalid --exclude \(exclusion.event): it is one of the steps")
      }
    }
  }
}

/// One step's figures.
public struct FunnelStepResult: Sendable, Equatable {
  public var event: String
  /// Actors reaching at least this step.
  public var count: Int
  public var conversionFromFirst: Double
  public var conversionFromPrevious: Double
  /// From the previous step, over the actors converting (nil for step 1
  /// or when nobody did).
  public var meanSeconds: Double?
  public var medianSeconds: Double?
  /// Actors who reached the previous step and stopped there.
  public var dropped: Int
}

/// A computed funnel: the steps, the breakdown (one set of steps per
/// value, most step-1 actors first, then "Other"), and each actor's outcome.
public struct FunnelResult: Sendable {
  public var steps: [FunnelStepResult]
  public var breakdown: [(value: String, steps: [FunnelStepResult])]
  /// Actor (its interned id) → outcome, for drill-down; names come from
  /// ``EventLog/keys(_:)`` only for the actors shown.
  public var outcomes: FunnelOutcomes
  /// Actors dropped because an exclusion disqualified their best chain.
  public var excluded: Int

  /// The ids of the actors who reached step `step - 1` and not `step`.
  public func droppedIDs(at step: Int) -> [Int64] { outcomes.dropped(at: step) }
}

extension EventLog {
  /// Computes a funnel from the events (PostHog's rules; see ``FunnelRules``).
  public func funnel(_ query: FunnelQuery) throws -> FunnelResult {
    try FunnelState(query: query, log: self).result
  }

  /// The names of interned actors, in the order given.
  public func keys(_ ids: [Int64]) throws -> [String] {
    guard !ids.isEmpty else { return [] }
    return try store.pool.read { db in
      var names: [Int64: String] = [:]
      var start = 0
      while start < ids.count {
        let chunk = ids[start..<min(ids.count, start + 500)]
        for row in try Row.fetchAll(
          db, sql: "SELECT id, key FROM analytics_actors WHERE id IN (\(chunk.map(String.init).joined(separator: ",")))"
        ) {
          names[row[0]] = row[1]
        }
        start += 500
      }
      return ids.map { names[$0] ?? "#\($0)" }
    }
  }

  /// The actors who reached step `step - 1` and not `step`, by name, sorted.
  public func dropped(_ result: FunnelResult, at step: Int, limit: Int = .max) throws -> [String] {
    Array(try keys(result.droppedIDs(at: step)).sorted().prefix(limit))
  }
}
