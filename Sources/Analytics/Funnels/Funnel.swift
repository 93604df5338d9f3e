import Foundation

/// How a funnel's steps must follow each other.
public enum FunnelMode: String, Sendable, CaseIterable {
  /// Steps in time order; other events in between are fine.
  case ordered
  /// Steps in time order with nothing else in between.
  case strict
  /// The steps in any order, all inside one window.
  case any
}

/// "Event E between steps i and j" (1-based, i < j): an E inside the window
/// of a chain that has reached step i but not step j disqualifies it.
public struct FunnelExclusion: Sendable, Equatable {
  public var event: String
  public var from: Int
  public var to: Int

  public init(event: String, from: Int, to: Int) {
    self.event = event
    self.from = from
    self.to = to
  }

  /// `EVENT:i:j`.
  public init(parsing text: String) throws {
    let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
    guard parts.count >= 3, let from = Int(parts[parts.count - 2]), let to = Int(parts[parts.count - 1]) else {
      throw AnalyticsInputError("invalid --exclude '\(text)': expected EVENT:i:j such as cancelled:1:2")
    }
    let event = parts.dropLast(2).joined(separator: ":")
    guard !event.isEmpty else {
      throw AnalyticsInputError("invalid --exclude '\(text)': expected EVENT:i:j such as cancelled:1:2")
    }
    self.init(event: event, from: from, to: to)
  }
}

/// One actor's event, as the funnel reads it: the name as an index into
/// the query's names (`-1` for any other event), the time in milliseconds,
/// and the breakdown property's value (an index into the values, `-1`
/// when the event does not have it).
public struct FunnelEvent: Sendable, Equatable {
  public var name: Int32
  public var ts: Int64
  public var value: Int32

  public init(name: Int32, ts: Int64, value: Int32 = -1) {
    self.name = name
    self.ts = ts
    self.value = value
  }
}

/// One actor's outcome: how far it got (0: never entered), the time
/// between each step and the next (milliseconds), whether its best chain
/// was disqualified by an exclusion (it then counts nowhere), and its
/// breakdown value.
public struct FunnelOutcome: Sendable, Equatable {
  public var level: Int
  public var times: [Int64]
  public var excluded: Bool
  public var value: Int32

  public init(level: Int, times: [Int64], excluded: Bool = false, value: Int32 = -1) {
    self.level = level
    self.times = times
    self.excluded = excluded
    self.value = value
  }
}

/// PostHog's funnel rules, for one actor at a time. Step names are indexes
/// into `names`; a name may stand for several steps (`[A, A]`).
public struct FunnelRules: Sendable {
  public let steps: [Int32]
  public let window: Int64
  public let mode: FunnelMode
  /// Per name index: the steps (1-based) it stands for, highest first.
  let stepsOf: [[Int]]
  /// Per name index: the exclusions it triggers.
  let exclusionsOf: [[FunnelExclusion]]
  /// Per name index: the order among events at the same instant (its first step).
  let order: [Int]

  /// `names` are every name the events can carry; `steps` index into it.
  public init(steps: [Int32], names: Int, window: Int64, mode: FunnelMode, exclusions: [(Int32, Int, Int)] = []) {
    self.steps = steps
    self.window = window
    self.mode = mode
    var stepsOf = Array(repeating: [Int](), count: names)
    for (index, name) in steps.enumerated() { stepsOf[Int(name)].insert(index + 1, at: 0) }
    self.stepsOf = stepsOf
    var exclusionsOf = Array(repeating: [FunnelExclusion](), count: names)
    for (name, from, to) in exclusions {
      exclusionsOf[Int(name)].append(FunnelExclusion(event: "", from: from, to: to))
    }
    self.exclusionsOf = exclusionsOf
    self.order = (0..<names).map { stepsOf[$0].last ?? (exclusionsOf[$0].isEmpty ? steps.count + 2 : steps.count + 1) }
  }

  /// Sorts one actor's events as the rules read them: by time, and at the
  /// same instant in step order (steps, then exclusions, then the rest).
  public func sort(_ events: inout [FunnelEvent]) {
    events.sort { left, right in
      if left.ts != right.ts { return left.ts < right.ts }
      return rank(left.name) < rank(right.name)
    }
  }

  func rank(_ name: Int32) -> Int { name < 0 ? steps.count + 3 : order[Int(name)] }

  /// One actor's outcome from its events, sorted by ``sort(_:)``.
  public func outcome(_ events: [FunnelEvent]) -> FunnelOutcome {
    mode == .any ? anyOrder(events) : ordered(events)
  }

  struct Entry {
    var chain: Int
    var start: Int64
    var times: [Int64]
    var value: Int32
  }

  struct Chain {
    var level: Int
    /// When it reached `level`, in the order chains reached levels.
    var reached: Int
    var times: [Int64]
    var excluded: Bool
    var value: Int32
  }

  func ordered(_ events: [FunnelEvent]) -> FunnelOutcome {
    let count = steps.count
    var entered = [Entry?](repeating: nil, count: count + 1)
    var chains: [Chain] = []
    var sequence = 0
    for event in events {
      let own = event.name >= 0 ? stepsOf[Int(event.name)] : []
      let exclusions = event.name >= 0 ? exclusionsOf[Int(event.name)] : []
      if mode == .strict && own.isEmpty && exclusions.isEmpty {
        // Anything that is not a step breaks every chain.
        for level in 1...count { entered[level] = nil }
        continue
      }
      for step in own {
        if step == 1 {
          // Every step-1 event starts a chain; the latest replaces the last.
          chains.append(Chain(level: 1, reached: sequence, times: [event.ts], excluded: false, value: event.value))
          sequence += 1
          entered[1] = Entry(chain: chains.count - 1, start: event.ts, times: [event.ts], value: event.value)
        } else if let previous = entered[step - 1], event.ts - previous.start <= window,
          entered[step]?.chain != previous.chain
        {
          var entry = previous
          entry.times.append(event.ts)
          if entry.value < 0 { entry.value = event.value }
          entered[step] = entry
          if step > chains[entry.chain].level {
            chains[entry.chain].level = step
            chains[entry.chain].reached = sequence
            chains[entry.chain].times = entry.times
            chains[entry.chain].value = entry.value
            sequence += 1
          }
        }
      }
      for exclusion in exclusions {
        for level in exclusion.from..<exclusion.to {
          guard let entry = entered[level], event.ts - entry.start <= window,
            entered[exclusion.to]?.chain != entry.chain
          else { continue }
          chains[entry.chain].excluded = true
        }
      }
      if mode == .strict {
        for level in 1...count where !own.contains(level) { entered[level] = nil }
      }
    }
    guard let best = chains.map(\.level).max() else { return FunnelOutcome(level: 0, times: []) }
    let candidates = chains.filter { $0.level == best }.sorted { $0.reached < $1.reached }
    guard let chosen = candidates.first(where: { !$0.excluded }) else {
      return FunnelOutcome(level: best, times: [], excluded: true, value: candidates.first?.value ?? -1)
    }
    return FunnelOutcome(level: best, times: Self.gaps(chosen.times), value: chosen.value)
  }

  static func gaps(_ times: [Int64]) -> [Int64] {
    times.count < 2 ? [] : (1..<times.count).map { times[$0] - times[$0 - 1] }
  }

  /// Any order: the most steps whose events all fall inside one window
  /// (from a step event to `window` after it); the earliest such window.
  func anyOrder(_ events: [FunnelEvent]) -> FunnelOutcome {
    let stepEvents = events.filter { $0.name >= 0 && !stepsOf[Int($0.name)].isEmpty }
    let exclusionEvents = events.filter { $0.name >= 0 && !exclusionsOf[Int($0.name)].isEmpty }
    var needed: [Int32: Int] = [:]
    for name in steps { needed[name, default: 0] += 1 }
    var best = FunnelOutcome(level: 0, times: [])
    var bestClean: FunnelOutcome? = nil
    for (index, first) in stepEvents.enumerated() {
      var used: [Int32: Int] = [:]
      var matched: [FunnelEvent] = []
      for event in stepEvents[index...] {
        if event.ts - first.ts > window { break }
        if used[event.name, default: 0] < needed[event.name, default: 0] {
          used[event.name, default: 0] += 1
          matched.append(event)
        }
      }
      let level = matched.count
      let excluded = exclusionEvents.contains { exclusion in
        exclusionsOf[Int(exclusion.name)].contains { rule in
          rule.from - 1 < matched.count && exclusion.ts >= matched[rule.from - 1].ts
            && exclusion.ts <= (rule.to - 1 < matched.count ? matched[rule.to - 1].ts : first.ts + window)
        }
      }
      let outcome = FunnelOutcome(
        level: level, times: Self.gaps(matched.map(\.ts)), excluded: excluded,
        value: matched.first { $0.value >= 0 }?.value ?? -1)
      if level > best.level { best = outcome }
      if !excluded, level > (bestClean?.level ?? 0) { bestClean = outcome }
    }
    if let bestClean, bestClean.level == best.level { return bestClean }
    return best.level == 0 ? best : FunnelOutcome(level: best.level, times: [], excluded: true, value: best.value)
  }
}
