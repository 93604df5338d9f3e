import Foundation
import GRDB
import Storage

/// A report computed once and then kept up to date with the events
/// written since (``FunnelState``, ``RetentionState``).
public protocol KeptReport: Sendable {
  associatedtype Query: Equatable
  var query: Query { get }
  init(query: Query, log: EventLog) throws
  /// Reads the events written since; whether anything changed.
  @discardableResult mutating func refresh(_ log: EventLog) throws -> Bool
}

/// A funnel computed and kept: every actor's events grouped together and
/// its outcome. ``refresh(_:)`` reads only the events written since and
/// recomputes only their actors, so the Funnels pane follows new events
/// without computing the funnel again from the start.
///
/// Built in two passes over the column blocks (count each actor's events,
/// then place them), nothing is held per event but one 64-bit key of its
/// time and step (16 bytes with a breakdown value), which is what keeps
/// ten million events under 200 MB.
public struct FunnelState: KeptReport {
  public let query: FunnelQuery
  let rules: FunnelRules
  /// The query's names (steps, then exclusions) by their interned ids.
  let nameIDs: [Int64: Int32]
  /// The last event row read.
  private(set) var watermark: Int64 = 0
  /// Per actor id, where its events start in the grouped arrays (one more
  /// entry than actors): the events of the build.
  var starts: [Int] = [0]
  /// From the column blocks: each event packed into one key (see
  /// ``FunnelRules/pack(name:ts:base:)``), times from `base`, fixed at
  /// −2^50 ms so that any time within 35,000 years of 1970 fits.
  var groupedKeys: [UInt64] = []
  var base: Int64 = 0
  /// From the rows (with a breakdown): the events as they are.
  var groupedEvents: [FunnelEvent] = []
  var packed = true
  /// Events read by ``refresh(_:)``, per actor.
  var extra: [Int: [FunnelEvent]] = [:]
  var extraCount = 0
  /// Breakdown values by index.
  var values: [String] = []
  var valueIndex: [String: Int32] = [:]
  public private(set) var outcomes: FunnelOutcomes

  /// Events read since the build before a refresh builds afresh instead.
  static let extraLimit = 200_000

  /// Computes the funnel from the event log.
  public init(query: FunnelQuery, log: EventLog) throws {
    try query.validate()
    var names = [String]()
    for name in query.steps + query.exclusions.map(\.event) where !names.contains(name) { names.append(name) }
    guard names.count <= 100 else { throw AnalyticsInputError("invalid --exclude: at most 100 events in a funnel") }
    self.query = query
    rules = FunnelRules(
      steps: query.steps.map { Int32(names.firstIndex(of: $0)!) }, names: names.count,
      window: query.window.milliseconds, mode: query.mode,
      exclusions: query.exclusions.map { (Int32(names.firstIndex(of: $0.event)!), $0.from, $0.to) })
    var ids: [Int64: Int32] = [:]
    let found = try log.store.pool.read { db in try EventLog.nameIDs(db, names) }
    for (index, name) in names.enumerated() {
      if let id = found[name] { ids[id] = Int32(index) }
    }
    nameIDs = ids
    outcomes = FunnelOutcomes(steps: query.steps.count)
    try log.store.pool.read { db in try build(db) }
  }

  var range: ClosedRange<Int64> {
    (query.from?.epochMilliseconds ?? Int64.min)...(query.to?.epochMilliseconds ?? Int64.max)
  }

  /// In strict mode every event counts (any other event breaks a chain);
  /// otherwise only the query's names are read.
  var readsEveryName: Bool { query.mode == .strict }

  var nameFilter: String {
    readsEveryName ? "" : "name_id IN (\(nameIDs.keys.map(String.init).joined(separator: ",")))"
  }

  private mutating func build(_ db: GRDB.Database) throws {
    watermark = try EventLog.lastRow(db)
    let actorCount = (try Int.fetchOne(db, sql: "SELECT coalesce(max(id), 0) FROM analytics_actors") ?? 0) + 1
    if !readsEveryName && nameIDs.isEmpty {
      starts = [Int](repeating: 0, count: actorCount + 1)
      outcomes.resize(actorCount)
      return
    }
    let fromColumns = query.breakdown == nil ? try buildFromColumns(db, actorCount: actorCount) : false
    if !fromColumns {
      try buildFromRows(db, actorCount: actorCount)
    }
    outcomes.resize(actorCount)
    // Actors are independent: a share of them to each core, each writing
    // only its own actors' slots.
    let shares = max(1, min(ProcessInfo.processInfo.activeProcessorCount, 8)) * 4
    let state = self
    outcomes.withWriter { writer in
      DispatchQueue.concurrentPerform(iterations: shares) { share in
        var work = Work()
        let actors = (share * actorCount / shares)..<((share + 1) * actorCount / shares)
        for actor in actors where state.starts[actor + 1] > state.starts[actor] {
          writer.set(actor, state.outcome(of: actor, &work))
        }
      }
    }
  }

  /// The query's index of a raw name id (-1: another event).
  func index(of name: Int64) -> Int8 { Int8(truncatingIfNeeded: nameIDs[name] ?? -1) }

  /// The usual case: the folded column blocks, read twice without a copy
  /// (count, then place), and the rows not folded yet. False (nothing
  /// built) when the times span too much to pack.
  private mutating func buildFromColumns(_ db: GRDB.Database, actorCount: Int) throws -> Bool {
    let range = self.range
    let actorColumn = query.byUser ? "users" : "accounts"
    let position = try EventLog.foldedThrough(db)
    let whereNames = nameFilter.isEmpty ? "" : "WHERE \(nameFilter)"
    // The rows since the last fold, up to the watermark.
    var tailActors: [Int32] = []
    var tailNames: [Int32] = []
    var tailTs: [Int64] = []
    try RawStatement.scanIntegers(
      db,
      sql: """
        SELECT name_id, ts, \(query.byUser ? "coalesce(user, 0)" : "account") FROM analytics_events
        WHERE id > ? AND id <= ? \(nameFilter.isEmpty ? "" : "AND \(nameFilter)")
        """, arguments: [position, watermark], columns: 3
    ) { row in
      guard range.contains(row[1]), row[2] > 0, row[2] < actorCount else { return }
      tailActors.append(Int32(truncatingIfNeeded: row[2]))
      tailNames.append(Int32(index(of: row[0])))
      tailTs.append(row[1])
    }
    // Pass 1: how many events each actor has (the times are read only
    // when a date range filters them).
    var counts = [Int](repeating: 0, count: actorCount + 1)
    let filtered = range != Int64.min...Int64.max
    try RawStatement.scanBlobs(
      db, sql: "SELECT count, \(actorColumn)\(filtered ? ", ts" : "") FROM analytics_columns \(whereNames)",
      integers: 1, blobs: filtered ? 2 : 1
    ) { row, blobs in
      let count = min(Int(row[0]), blobs[0].count / 4, filtered ? blobs[1].count / 8 : .max)
      let actors = blobs[0].bindMemory(to: Int32.self)
      let times = filtered ? blobs[1].bindMemory(to: Int64.self) : UnsafeBufferPointer(start: nil, count: 0)
      counts.withUnsafeMutableBufferPointer { counts in
        for event in 0..<count {
          let actor = Int(actors[event])
          guard actor > 0, actor < actorCount, !filtered || range.contains(times[event]) else { continue }
          counts[actor + 1] += 1
        }
      }
    }
    // Keys hold 2^51 ms: from 35,000 years before 1970 to as many after.
    let lowest = -FunnelRules.packedSpan / 2
    let limit = FunnelRules.packedSpan / 2
    guard tailTs.allSatisfy({ $0 >= lowest && $0 < limit }) else { return false }
    base = lowest
    for actor in tailActors { counts[Int(actor) + 1] += 1 }
    for index in 1..<counts.count { counts[index] += counts[index - 1] }
    starts = counts
    groupedKeys = [UInt64](repeating: 0, count: counts[actorCount])
    // Pass 2: each event into its actor's place, as its key.
    var next = counts
    let names = nameIDs
    let rules = self.rules
    let base = self.base
    var outside = false
    try RawStatement.scanBlobs(
      db, sql: "SELECT name_id, count, \(actorColumn), ts FROM analytics_columns \(whereNames)", integers: 2,
      blobs: 2
    ) { row, blobs in
      let name = names[row[0]] ?? -1
      let count = min(Int(row[1]), blobs[0].count / 4, blobs[1].count / 8)
      let actors = blobs[0].bindMemory(to: Int32.self)
      let times = blobs[1].bindMemory(to: Int64.self)
      // The key's rank and name bits, the same for the whole block.
      let tag = rules.pack(name: name, ts: base, base: base)
      next.withUnsafeMutableBufferPointer { next in
        groupedKeys.withUnsafeMutableBufferPointer { keys in
          for event in 0..<count {
            let actor = Int(actors[event])
            let ts = times[event]
            guard actor > 0, actor < actorCount, range.contains(ts) else { continue }
            outside = outside || ts >= limit || ts < base
            let place = next[actor]
            keys[place] = UInt64(truncatingIfNeeded: ts &- base) << 12 | tag
            next[actor] = place + 1
          }
        }
      }
    }
    // A time beyond what a key holds: read as rows instead.
    if outside { return false }
    for index in tailActors.indices {
      let actor = Int(tailActors[index])
      groupedKeys[next[actor]] = rules.pack(name: tailNames[index], ts: tailTs[index], base: base)
      next[actor] += 1
    }
    packed = true
    return true
  }

  /// The SQL for rows after `after` (up to the watermark) with the breakdown
  /// property's value, or without.
  func rowsSQL(withValue: Bool) -> String {
    let actor = query.byUser ? "user" : "account"
    var conditions = ["id > ?", "id <= ?", "ts >= ?", "ts <= ?"]
    if query.byUser { conditions.append("user IS NOT NULL") }
    if !nameFilter.isEmpty { conditions.append(nameFilter) }
    let value = withValue ? ", json_extract(properties, '$.\"' || replace(?, '\"', '') || '\"')" : ""
    return "SELECT \(actor), name_id, ts\(value) FROM analytics_events WHERE \(conditions.joined(separator: " AND "))"
  }

  func rowsArguments(after: Int64, through: Int64) -> StatementArguments {
    var arguments: [any DatabaseValueConvertible] = []
    if let breakdown = query.breakdown { arguments.append(breakdown) }
    arguments += [after, through, range.lowerBound, range.upperBound]
    return StatementArguments(arguments)
  }

  /// The index of a breakdown value (-1: none), interning it.
  mutating func valueIndex(_ value: DatabaseValue) -> Int32 {
    let text: String
    switch value.storage {
    case .string(let string): text = string
    case .int64(let number): text = String(number)
    case .double(let number): text = String(number)
    default: return -1
    }
    if let known = valueIndex[text] { return known }
    let index = Int32(values.count)
    valueIndex[text] = index
    values.append(text)
    return index
  }

  /// With a breakdown: the rows, each with its property's value.
  private mutating func buildFromRows(_ db: GRDB.Database, actorCount: Int) throws {
    var actors: [Int32] = []
    var names: [Int8] = []
    var times: [Int64] = []
    var eventValues: [Int32] = []
    let cursor = try Row.fetchCursor(
      db, sql: rowsSQL(withValue: true), arguments: rowsArguments(after: 0, through: watermark))
    while let row = try cursor.next() {
      let actor: Int64 = row[0]
      guard actor > 0, actor < actorCount else { continue }
      actors.append(Int32(truncatingIfNeeded: actor))
      names.append(index(of: row[1]))
      times.append(row[2])
      eventValues.append(valueIndex(row[3]))
    }
    var counts = [Int](repeating: 0, count: actorCount + 1)
    for actor in actors { counts[Int(actor) + 1] += 1 }
    for index in 1..<counts.count { counts[index] += counts[index - 1] }
    starts = counts
    groupedKeys = []
    groupedEvents = [FunnelEvent](repeating: FunnelEvent(name: -1, ts: 0), count: actors.count)
    var next = counts
    for index in actors.indices {
      let actor = Int(actors[index])
      groupedEvents[next[actor]] = FunnelEvent(name: Int32(names[index]), ts: times[index], value: eventValues[index])
      next[actor] += 1
    }
    packed = false
  }

  /// Buffers reused from one actor to the next.
  struct Work {
    var events: [FunnelEvent] = []
    var keys: [UInt64] = []
    var scratch = FunnelRules.Scratch()
  }

  /// One actor's outcome from its events.
  mutating func compute(_ actor: Int, _ work: inout Work) {
    outcomes.set(actor, outcome(of: actor, &work))
  }

  func outcome(of actor: Int, _ work: inout Work) -> FunnelOutcome {
    let own = actor + 1 < starts.count ? starts[actor]..<starts[actor + 1] : 0..<0
    let more = extra[actor] ?? []
    if packed {
      work.keys.removeAll(keepingCapacity: true)
      work.keys.append(contentsOf: groupedKeys[own])
      for event in more { work.keys.append(rules.pack(name: event.name, ts: event.ts, base: base)) }
      return work.keys.withUnsafeMutableBufferPointer { keys in
        rules.sort(keys)
        return rules.outcome(
          packed: PackedFunnelEvents(keys: UnsafeBufferPointer(keys), base: base), scratch: &work.scratch)
      }
    } else {
      work.events.removeAll(keepingCapacity: true)
      work.events.append(contentsOf: groupedEvents[own])
      work.events.append(contentsOf: more)
      rules.sort(&work.events)
      return rules.outcome(work.events, scratch: &work.scratch)
    }
  }

  /// Reads the events written since the last read and recomputes the
  /// actors they belong to. Returns whether anything changed. A funnel
  /// whose names appeared since, or that has read many events since it
  /// was built, is built afresh.
  @discardableResult
  public mutating func refresh(_ log: EventLog) throws -> Bool {
    // What the database holds since the last read, read in one go.
    let state = self
    let reading: (last: Int64, rows: [(actor: Int, name: Int64, ts: Int64, value: DatabaseValue)])? =
      try log.store.pool.read { db in
        let last = try EventLog.lastRow(db)
        guard last > state.watermark else { return (last, []) }
        let names = Set(
          try EventLog.nameIDs(db, state.query.steps + state.query.exclusions.map(\.event)).values)
        // A name seen for the first time: nothing to refresh, all to build.
        guard names == Set(state.nameIDs.keys), state.extraCount <= Self.extraLimit else { return nil }
        var rows: [(actor: Int, name: Int64, ts: Int64, value: DatabaseValue)] = []
        let cursor = try Row.fetchCursor(
          db, sql: state.rowsSQL(withValue: state.query.breakdown != nil),
          arguments: state.rowsArguments(after: state.watermark, through: last))
        while let row = try cursor.next() {
          guard let actor = row[0] as Int?, actor > 0 else { continue }
          rows.append((actor, row[1], row[2], state.query.breakdown != nil ? row[3] : .null))
        }
        return (last, rows)
      }
    guard let reading else {
      self = try FunnelState(query: query, log: log)
      return true
    }
    if packed, reading.rows.contains(where: { $0.ts < base || $0.ts >= base + FunnelRules.packedSpan }) {
      // Outside what the keys hold: build afresh (as rows).
      self = try FunnelState(query: query, log: log)
      return true
    }
    let changed = reading.last > watermark
    watermark = max(watermark, reading.last)
    var affected = Set<Int>()
    for row in reading.rows {
      let value = query.breakdown != nil ? valueIndex(row.value) : -1
      extra[row.actor, default: []].append(FunnelEvent(name: Int32(index(of: row.name)), ts: row.ts, value: value))
      extraCount += 1
      affected.insert(row.actor)
    }
    if let highest = affected.max(), highest >= outcomes.actors { outcomes.resize(highest + 1) }
    var work = Work()
    for actor in affected { compute(actor, &work) }
    return changed
  }

  /// The figures as they stand.
  public var result: FunnelResult {
    let counted = outcomes.counted()
    let steps = outcomes.steps(query.steps, counted)
    var breakdown: [(String, [FunnelStepResult])] = []
    if query.breakdown != nil {
      var groups: [Int32: [Int]] = [:]
      for actor in counted { groups[outcomes.value[actor], default: []].append(actor) }
      // Most step-1 actors first; ties by value, "(none)" last.
      func text(_ value: Int32) -> String { value >= 0 ? values[Int(value)] : "\u{10FFFF}" }
      let ranked = groups.sorted {
        $0.value.count != $1.value.count ? $0.value.count > $1.value.count : text($0.key) < text($1.key)
      }
      for (value, group) in ranked.prefix(query.breakdownLimit) {
        breakdown.append((value >= 0 ? values[Int(value)] : "", outcomes.steps(query.steps, group)))
      }
      let rest = ranked.dropFirst(query.breakdownLimit).flatMap(\.value)
      if !rest.isEmpty { breakdown.append(("Other", outcomes.steps(query.steps, rest))) }
    }
    return FunnelResult(steps: steps, breakdown: breakdown, outcomes: outcomes, excluded: outcomes.excludedCount())
  }
}

/// Every actor's outcome, by actor id, in flat arrays.
public struct FunnelOutcomes: Sendable, Equatable {
  let stepCount: Int
  var level: [UInt8] = []
  var excluded: [Bool] = []
  var value: [Int32] = []
  /// Per actor, `stepCount - 1` slots: the time from each step to the next.
  var gaps: [Int64] = []

  init(steps: Int) {
    stepCount = steps
  }

  var actors: Int { level.count }

  mutating func resize(_ count: Int) {
    guard count > level.count else { return }
    let more = count - level.count
    level.append(contentsOf: repeatElement(0, count: more))
    excluded.append(contentsOf: repeatElement(false, count: more))
    value.append(contentsOf: repeatElement(-1, count: more))
    gaps.append(contentsOf: repeatElement(0, count: more * (stepCount - 1)))
  }

  mutating func set(_ actor: Int, _ outcome: FunnelOutcome) {
    withWriter { $0.set(actor, outcome) }
  }

  /// The arrays' storage, for threads that each write other actors.
  struct Writer: @unchecked Sendable {
    let stepCount: Int
    let level: UnsafeMutableBufferPointer<UInt8>
    let excluded: UnsafeMutableBufferPointer<Bool>
    let value: UnsafeMutableBufferPointer<Int32>
    let gaps: UnsafeMutableBufferPointer<Int64>

    func set(_ actor: Int, _ outcome: FunnelOutcome) {
      level[actor] = UInt8(outcome.level)
      excluded[actor] = outcome.excluded
      value[actor] = outcome.value
      let base = actor * (stepCount - 1)
      for slot in 0..<(stepCount - 1) { gaps[base + slot] = slot < outcome.times.count ? outcome.times[slot] : 0 }
    }
  }

  mutating func withWriter(_ body: (Writer) -> Void) {
    let steps = stepCount
    level.withUnsafeMutableBufferPointer { level in
      excluded.withUnsafeMutableBufferPointer { excluded in
        value.withUnsafeMutableBufferPointer { value in
          gaps.withUnsafeMutableBufferPointer { gaps in
            body(Writer(stepCount: steps, level: level, excluded: excluded, value: value, gaps: gaps))
          }
        }
      }
    }
  }

  /// The actor's outcome (nil: it never entered).
  public subscript(actor: Int64) -> FunnelOutcome? {
    let index = Int(actor)
    guard index >= 0, index < level.count, level[index] > 0 else { return nil }
    let count = excluded[index] ? 0 : Int(level[index]) - 1
    let base = index * (stepCount - 1)
    return FunnelOutcome(
      level: Int(level[index]), times: Array(gaps[base..<(base + count)]), excluded: excluded[index],
      value: value[index])
  }

  /// The ids of the actors that entered.
  public var entered: [Int64] { level.indices.filter { level[$0] > 0 }.map(Int64.init) }

  /// The actors counted (entered, not excluded).
  func counted() -> [Int] { level.indices.filter { level[$0] > 0 && !excluded[$0] } }

  func excludedCount() -> Int { level.indices.filter { level[$0] > 0 && excluded[$0] }.count }

  /// The ids of the actors who reached step `step - 1` and not `step`.
  func dropped(at step: Int) -> [Int64] {
    level.indices.filter { Int(level[$0]) == step - 1 && !excluded[$0] && level[$0] > 0 }.map(Int64.init)
  }

  /// Per step, over `actors`: how many reached it, conversions, mean and
  /// median time from the step before, and how many stopped just before it.
  func steps(_ names: [String], _ actors: [Int]) -> [FunnelStepResult] {
    var reached = [Int](repeating: 0, count: names.count + 2)
    for actor in actors { reached[Int(level[actor])] += 1 }
    // Reaching at least a step: the counts from the top down.
    var atLeast = [Int](repeating: 0, count: names.count + 2)
    for step in stride(from: names.count, through: 1, by: -1) { atLeast[step] = atLeast[step + 1] + reached[step] }
    var results: [FunnelStepResult] = []
    var times: [Int64] = []
    for (index, name) in names.enumerated() {
      let step = index + 1
      var mean: Double? = nil
      var median: Double? = nil
      if step > 1 {
        times.removeAll(keepingCapacity: true)
        for actor in actors where Int(level[actor]) >= step { times.append(gaps[actor * (stepCount - 1) + step - 2]) }
        if !times.isEmpty {
          mean = Double(times.reduce(0, &+)) / Double(times.count) / 1000
          median = Self.median(&times) / 1000
        }
      }
      let count = atLeast[step]
      let first = atLeast[1]
      let previous = step == 1 ? count : atLeast[step - 1]
      results.append(
        FunnelStepResult(
          event: name, count: count, conversionFromFirst: first == 0 ? 0 : Double(count) / Double(first),
          conversionFromPrevious: previous == 0 ? 0 : Double(count) / Double(previous), meanSeconds: mean,
          medianSeconds: median, dropped: step == 1 ? 0 : reached[step - 1]))
    }
    return results
  }

  /// The median (of the middle two, their mean), by selection rather than a sort.
  static func median(_ values: inout [Int64]) -> Double {
    let middle = values.count / 2
    let upper = select(&values, middle)
    guard values.count % 2 == 0 else { return Double(upper) }
    // The lower middle is the largest of what selection left below.
    let lower = values[0..<middle].max() ?? upper
    return (Double(lower) + Double(upper)) / 2
  }

  /// Puts the `k`-th smallest at `k`, smaller ones before it (quickselect).
  static func select(_ values: inout [Int64], _ k: Int) -> Int64 {
    var low = 0
    var high = values.count - 1
    while low < high {
      let pivot = values[(low + high) / 2]
      var left = low
      var right = high
      while left <= right {
        while values[left] < pivot { left += 1 }
        while values[right] > pivot { right -= 1 }
        if left <= right {
          values.swapAt(left, right)
          left += 1
          right -= 1
        }
      }
      if k <= right {
        high = right
      } else if k >= left {
        low = left
      } else {
        break
      }
    }
    return values[k]
  }

  public static func == (lhs: FunnelOutcomes, rhs: FunnelOutcomes) -> Bool {
    let count = max(lhs.actors, rhs.actors)
    for actor in 0..<count where lhs[Int64(actor)] != rhs[Int64(actor)] { return false }
    return true
  }
}
