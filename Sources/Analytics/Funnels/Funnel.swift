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

/// One actor's events as the rules read them, in order: the name index
/// (-1: another event), the time, the breakdown value. Either
/// ``FunnelEvent``s or keys packed by ``FunnelRules/pack(name:ts:)``.
public protocol FunnelEventSequence {
  var count: Int { get }
  func name(_ index: Int) -> Int32
  func ts(_ index: Int) -> Int64
  func value(_ index: Int) -> Int32
}

extension UnsafeBufferPointer: FunnelEventSequence where Element == FunnelEvent {
  public func name(_ index: Int) -> Int32 { self[index].name }
  public func ts(_ index: Int) -> Int64 { self[index].ts }
  public func value(_ index: Int) -> Int32 { self[index].value }
}

/// Events packed one to a 64-bit key that sorts as the rules read them:
/// time (from a base), then rank, then name. See ``FunnelRules/pack(name:ts:)``.
struct PackedFunnelEvents: FunnelEventSequence {
  let keys: UnsafeBufferPointer<UInt64>
  let base: Int64

  var count: Int { keys.count }
  func name(_ index: Int) -> Int32 { Int32(keys[index] & 0x7F) - 1 }
  func ts(_ index: Int) -> Int64 { Int64(keys[index] >> 12) + base }
  func value(_ index: Int) -> Int32 { -1 }
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
  /// `stepsOf` and `exclusionsOf` flattened, for the loop over events: name
  /// `n`'s steps are `stepList[stepStart[n]..<stepStart[n + 1]]`, its
  /// exclusions (from, to) likewise.
  let stepList: [Int]
  let stepStart: [Int]
  let exclusionList: [(from: Int, to: Int)]
  let exclusionStart: [Int]

  /// Times a packed key holds: 2^51 ms from its base, about 71,000 years.
  static let packedSpan: Int64 = 1 << 51

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
    stepList = stepsOf.flatMap { $0 }
    stepStart = [0] + stepsOf.reduce(into: [Int]()) { starts, list in starts.append((starts.last ?? 0) + list.count) }
    exclusionList = exclusionsOf.flatMap { $0.map { ($0.from, $0.to) } }
    exclusionStart =
      [0] + exclusionsOf.reduce(into: [Int]()) { starts, list in starts.append((starts.last ?? 0) + list.count) }
  }

  /// An event as one key: its time from `base` (0 ≤ ts − base < ``packedSpan``),
  /// its rank among events at the same instant, its name; keys sort as
  /// ``sort(_:)`` sorts events.
  func pack(name: Int32, ts: Int64, base: Int64) -> UInt64 {
    UInt64(ts - base) << 12 | UInt64(rank(name)) << 7 | UInt64(name + 1)
  }

  /// Sorts packed keys: a few dozen, mostly in runs already in order (one
  /// per event name, as the column blocks hold them) take an insertion
  /// sort, as events do; more take the standard sort.
  func sort(_ keys: UnsafeMutableBufferPointer<UInt64>) {
    guard keys.count <= 64 else {
      var all = keys  // the same memory
      all.sort()
      return
    }
    for index in 1..<max(1, keys.count) {
      let moving = keys[index]
      var position = index
      while position > 0, keys[position - 1] > moving {
        keys[position] = keys[position - 1]
        position -= 1
      }
      keys[position] = moving
    }
  }

  /// Sorts one actor's events as the rules read them: by time, and at the
  /// same instant in step order (steps, then exclusions, then the rest).
  public func sort(_ events: inout [FunnelEvent]) {
    // An actor has a few dozen events, mostly in order already: an
    // insertion sort on (time, rank) beats the general sort's overhead.
    guard events.count > 64 else {
      events.withUnsafeMutableBufferPointer { buffer in
        for index in 1..<max(1, buffer.count) {
          let moving = buffer[index]
          let rank = self.rank(moving.name)
          var position = index
          while position > 0 {
            let before = buffer[position - 1]
            if before.ts < moving.ts || (before.ts == moving.ts && self.rank(before.name) <= rank) { break }
            buffer[position] = before
            position -= 1
          }
          buffer[position] = moving
        }
      }
      return
    }
    events.sort { left, right in
      if left.ts != right.ts { return left.ts < right.ts }
      return rank(left.name) < rank(right.name)
    }
  }

  func rank(_ name: Int32) -> Int { name < 0 ? steps.count + 3 : order[Int(name)] }

  /// One actor's outcome from its events, sorted by ``sort(_:)``.
  public func outcome(_ events: [FunnelEvent]) -> FunnelOutcome {
    var scratch = Scratch()
    return outcome(events, scratch: &scratch)
  }

  /// Buffers one actor after another reuses: a funnel over millions of
  /// events would otherwise allocate per chain.
  public struct Scratch {
    /// Per level: the chain there (−1: none) and its start.
    var enteredChain: [Int] = []
    var enteredStart: [Int64] = []
    /// Per chain: its level, when it reached it, disqualified, breakdown value.
    var level: [Int] = []
    var reached: [Int] = []
    var excluded: [Bool] = []
    var value: [Int32] = []
    /// Per chain, `steps` slots: the time of each step it reached.
    var times: [Int64] = []

    public init() {}
  }

  public func outcome(_ events: [FunnelEvent], scratch: inout Scratch) -> FunnelOutcome {
    mode == .any
      ? anyOrder(events) : events.withUnsafeBufferPointer { ordered($0, scratch: &scratch) }
  }

  /// One actor's outcome from packed keys, sorted.
  func outcome(packed: PackedFunnelEvents, scratch: inout Scratch) -> FunnelOutcome {
    guard mode == .any else { return ordered(packed, scratch: &scratch) }
    return anyOrder(
      (0..<packed.count).map { FunnelEvent(name: packed.name($0), ts: packed.ts($0), value: packed.value($0)) })
  }

  func ordered(_ events: [FunnelEvent]) -> FunnelOutcome {
    var scratch = Scratch()
    return events.withUnsafeBufferPointer { ordered($0, scratch: &scratch) }
  }

  /// The array model of PostHog's aggregate_funnel: per level, the chain
  /// that last got there; a chain only ever advances from its own level.
  func ordered<Events: FunnelEventSequence>(_ events: Events, scratch: inout Scratch) -> FunnelOutcome {
    let count = steps.count
    scratch.enteredChain.removeAll(keepingCapacity: true)
    scratch.enteredChain.append(contentsOf: repeatElement(-1, count: count + 1))
    scratch.enteredStart.removeAll(keepingCapacity: true)
    scratch.enteredStart.append(contentsOf: repeatElement(0, count: count + 1))
    scratch.level.removeAll(keepingCapacity: true)
    scratch.reached.removeAll(keepingCapacity: true)
    scratch.excluded.removeAll(keepingCapacity: true)
    scratch.value.removeAll(keepingCapacity: true)
    scratch.times.removeAll(keepingCapacity: true)
    var sequence = 0
    for index in 0..<events.count {
      let name = events.name(index)
      let ts = events.ts(index)
      let own = name >= 0 ? stepStart[Int(name)]..<stepStart[Int(name) + 1] : 0..<0
      let exclusions = name >= 0 ? exclusionStart[Int(name)]..<exclusionStart[Int(name) + 1] : 0..<0
      if mode == .strict && own.isEmpty && exclusions.isEmpty {
        // Anything that is not a step breaks every chain.
        for level in 1...count { scratch.enteredChain[level] = -1 }
        continue
      }
      for slot in own {
        let step = stepList[slot]
        if step == 1 {
          // Every step-1 event starts a chain; the latest replaces the last.
          let chain = scratch.level.count
          scratch.level.append(1)
          scratch.reached.append(sequence)
          scratch.excluded.append(false)
          scratch.value.append(events.value(index))
          scratch.times.append(ts)
          scratch.times.append(contentsOf: repeatElement(0, count: count - 1))
          sequence += 1
          scratch.enteredChain[1] = chain
          scratch.enteredStart[1] = ts
        } else {
          let chain = scratch.enteredChain[step - 1]
          guard chain >= 0, ts - scratch.enteredStart[step - 1] <= window, scratch.enteredChain[step] != chain
          else { continue }
          scratch.enteredChain[step] = chain
          scratch.enteredStart[step] = scratch.enteredStart[step - 1]
          if step > scratch.level[chain] {
            scratch.level[chain] = step
            scratch.reached[chain] = sequence
            scratch.times[chain * count + step - 1] = ts
            if scratch.value[chain] < 0 { scratch.value[chain] = events.value(index) }
            sequence += 1
          }
        }
      }
      for slot in exclusions {
        let exclusion = exclusionList[slot]
        for level in exclusion.from..<exclusion.to {
          let chain = scratch.enteredChain[level]
          guard chain >= 0, ts - scratch.enteredStart[level] <= window, scratch.enteredChain[exclusion.to] != chain
          else { continue }
          scratch.excluded[chain] = true
        }
      }
      if mode == .strict {
        for level in 1...count where !stepList[own].contains(level) { scratch.enteredChain[level] = -1 }
      }
    }
    guard let best = scratch.level.max() else { return FunnelOutcome(level: 0, times: []) }
    // The chains at the best level, in the order they got there: the first clean one counts.
    var chosen = -1
    var firstAny = -1
    for chain in scratch.level.indices where scratch.level[chain] == best {
      if firstAny < 0 || scratch.reached[chain] < scratch.reached[firstAny] { firstAny = chain }
      if !scratch.excluded[chain] && (chosen < 0 || scratch.reached[chain] < scratch.reached[chosen]) {
        chosen = chain
      }
    }
    guard chosen >= 0 else {
      return FunnelOutcome(level: best, times: [], excluded: true, value: scratch.value[firstAny])
    }
    let base = chosen * count
    let gaps = best < 2 ? [] : (1..<best).map { scratch.times[base + $0] - scratch.times[base + $0 - 1] }
    return FunnelOutcome(level: best, times: gaps, value: scratch.value[chosen])
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
