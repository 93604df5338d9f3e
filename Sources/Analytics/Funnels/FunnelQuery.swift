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
  public var outcomes: [Int64: FunnelOutcome]
  /// Actors dropped because an exclusion disqualified their best chain.
  public var excluded: Int

  /// The ids of the actors who reached step `step - 1` and not `step`.
  public func droppedIDs(at step: Int) -> [Int64] {
    outcomes.filter { !$0.value.excluded && $0.value.level == step - 1 }.map(\.key)
  }
}

extension EventLog {
  /// Computes a funnel from the events (PostHog's rules; see ``FunnelRules``).
  public func funnel(_ query: FunnelQuery) throws -> FunnelResult {
    try query.validate()
    var names = [String]()
    for name in query.steps + query.exclusions.map(\.event) where !names.contains(name) { names.append(name) }
    let rules = FunnelRules(
      steps: query.steps.map { Int32(names.firstIndex(of: $0)!) }, names: names.count,
      window: query.window.milliseconds, mode: query.mode,
      exclusions: query.exclusions.map { (Int32(names.firstIndex(of: $0.event)!), $0.from, $0.to) })
    var values: [String] = []
    var valueIndex: [String: Int32] = [:]
    // Every relevant event as flat columns: actor id, name index, time, value.
    var folded = EventColumns()
    var actors: [Int64] = []
    var nameIndexes: [Int32] = []
    var times: [Int64] = []
    var valueIndexes: [Int32] = []
    try store.pool.read { db in
      var ids: [Int64: Int32] = [:]
      for (index, name) in names.enumerated() {
        if let id = try Int64.fetchOne(
          db, sql: "SELECT id FROM analytics_event_names WHERE name = ?", arguments: [name])
        {
          ids[id] = Int32(index)
        }
      }
      let actor = query.byUser ? "user" : "account"
      var conditions = ["ts >= ?", "ts <= ?"]
      if query.byUser { conditions.append("user IS NOT NULL") }
      if query.mode != .strict {
        guard !ids.isEmpty else { return }
        conditions.append("name_id IN (\(ids.keys.map(String.init).joined(separator: ",")))")
      }
      let range: [any DatabaseValueConvertible] = [
        query.from?.epochMilliseconds ?? Int64.min, query.to?.epochMilliseconds ?? Int64.max,
      ]
      let nameOf = { (id: Int64) -> Int32 in ids[id] ?? -1 }
      if let breakdown = query.breakdown {
        let cursor = try Row.fetchCursor(
          db,
          sql: """
            SELECT \(actor), name_id, ts, json_extract(properties, '$."' || replace(?, '"', '') || '"')
            FROM analytics_events WHERE \(conditions.joined(separator: " AND "))
            """,
          arguments: StatementArguments([breakdown] + range))
        while let row = try cursor.next() {
          var value: Int32 = -1
          if let text = row[3] as String? ?? (row[3] as Int64?).map(String.init) {
            if let known = valueIndex[text] {
              value = known
            } else {
              value = Int32(values.count)
              valueIndex[text] = value
              values.append(text)
            }
          }
          actors.append(row[0])
          nameIndexes.append(nameOf(row[1]))
          times.append(row[2])
          valueIndexes.append(value)
        }
      } else {
        // Millions of events: the folded columns, then the rows since.
        folded = try columns(db, names: query.mode == .strict ? nil : ids)
        if query.mode == .strict {
          // In strict mode the names are raw ids: map them to the query's.
          for index in 0..<folded.count { folded.names[index] = ids[Int64(folded.names[index])] ?? -1 }
        }
      }
    }
    let from = query.from?.epochMilliseconds ?? Int64.min
    let to = query.to?.epochMilliseconds ?? Int64.max
    let fromColumns = query.breakdown == nil
    let total = fromColumns ? folded.count : actors.count
    /// The event at `index` of whichever source was read, and its actor (0: skip it).
    func actor(_ index: Int) -> Int {
      if !fromColumns { return Int(actors[index]) }
      let ts = folded.ts[index]
      guard ts >= from && ts <= to else { return 0 }
      return Int(query.byUser ? folded.users[index] : folded.accounts[index])
    }
    func event(_ index: Int) -> FunnelEvent {
      fromColumns
        ? FunnelEvent(name: folded.names[index], ts: folded.ts[index])
        : FunnelEvent(name: nameIndexes[index], ts: times[index], value: valueIndexes[index])
    }
    // Group by actor with a counting sort over the actor ids (small,
    // dense): each actor's events end up side by side in `grouped`.
    var maxActor = 0
    for index in 0..<total { maxActor = max(maxActor, actor(index)) }
    var starts = [Int](repeating: 0, count: maxActor + 2)
    for index in 0..<total {
      let who = actor(index)
      if who > 0 { starts[who + 1] += 1 }
    }
    for index in 1..<starts.count { starts[index] += starts[index - 1] }
    var grouped = [FunnelEvent](repeating: FunnelEvent(name: -1, ts: 0), count: starts[maxActor + 1])
    var next = starts
    for index in 0..<total {
      let who = actor(index)
      guard who > 0 else { continue }
      grouped[next[who]] = event(index)
      next[who] += 1
    }
    var outcomes: [Int64: FunnelOutcome] = [:]
    var events: [FunnelEvent] = []
    var scratch = FunnelRules.Scratch()
    for actor in 0...maxActor where starts[actor + 1] > starts[actor] {
      events.removeAll(keepingCapacity: true)
      events.append(contentsOf: grouped[starts[actor]..<starts[actor + 1]])
      rules.sort(&events)
      let outcome = rules.outcome(events, scratch: &scratch)
      if outcome.level > 0 { outcomes[Int64(actor)] = outcome }
    }
    let counted = outcomes.values.filter { !$0.excluded }
    let steps = Self.steps(query.steps, counted)
    var breakdown: [(String, [FunnelStepResult])] = []
    if query.breakdown != nil {
      var groups: [Int32: [FunnelOutcome]] = [:]
      for outcome in counted { groups[outcome.value, default: []].append(outcome) }
      // Most step-1 actors first; ties by value, "(none)" last.
      func text(_ value: Int32) -> String { value >= 0 ? values[Int(value)] : "\u{10FFFF}" }
      let ranked = groups.sorted {
        $0.value.count != $1.value.count ? $0.value.count > $1.value.count : text($0.key) < text($1.key)
      }
      let shown = ranked.prefix(query.breakdownLimit)
      for (value, group) in shown {
        breakdown.append((value >= 0 ? values[Int(value)] : "", Self.steps(query.steps, group)))
      }
      let rest = ranked.dropFirst(query.breakdownLimit).flatMap(\.value)
      if !rest.isEmpty { breakdown.append(("Other", Self.steps(query.steps, rest))) }
    }
    return FunnelResult(
      steps: steps, breakdown: breakdown, outcomes: outcomes, excluded: outcomes.count - counted.count)
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

  static func steps(_ names: [String], _ outcomes: [FunnelOutcome]) -> [FunnelStepResult] {
    var results: [FunnelStepResult] = []
    for (index, name) in names.enumerated() {
      let level = index + 1
      let reached = outcomes.filter { $0.level >= level }
      let first = results.first?.count ?? reached.count
      let previous = results.last?.count ?? reached.count
      var mean: Double? = nil
      var median: Double? = nil
      if level > 1 {
        let times = reached.map { Double($0.times[level - 2]) / 1000 }.sorted()
        if !times.isEmpty {
          mean = times.reduce(0, +) / Double(times.count)
          median =
            times.count % 2 == 1 ? times[times.count / 2] : (times[times.count / 2 - 1] + times[times.count / 2]) / 2
        }
      }
      results.append(
        FunnelStepResult(
          event: name, count: reached.count,
          conversionFromFirst: first == 0 ? 0 : Double(reached.count) / Double(first),
          conversionFromPrevious: previous == 0 ? 0 : Double(reached.count) / Double(previous), meanSeconds: mean,
          medianSeconds: median, dropped: level == 1 ? 0 : outcomes.filter { $0.level == level - 1 }.count))
    }
    return results
  }
}
