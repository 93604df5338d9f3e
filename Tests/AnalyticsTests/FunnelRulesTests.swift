import Analytics
import Testing

/// The issue's examples, one by one: steps A, B, C, window 100 s.
struct FunnelRulesTests {
  static let (a, b, c, x, e): (Int32, Int32, Int32, Int32, Int32) = (0, 1, 2, 3, 4)

  func run(
    _ events: [(Int32, Int64)], steps: [Int32] = [a, b, c], mode: FunnelMode = .ordered,
    exclusions: [(Int32, Int, Int)] = []
  ) -> FunnelOutcome {
    let rules = FunnelRules(steps: steps, names: 5, window: 100_000, mode: mode, exclusions: exclusions)
    var list = events.map { FunnelEvent(name: $0.0, ts: $0.1 * 1000) }
    rules.sort(&list)
    return rules.outcome(list)
  }

  func seconds(_ outcome: FunnelOutcome) -> [Int64] { outcome.times.map { $0 / 1000 } }

  @Test func theIssuesExamples() {
    let (a, b, c, x, e) = (Self.a, Self.b, Self.c, Self.x, Self.e)
    var outcome = run([(a, 0), (b, 10), (c, 20)])
    #expect(outcome.level == 3 && seconds(outcome) == [10, 10])
    #expect(run([(a, 0), (b, 100)]).level == 2, "the window is inclusive")
    #expect(run([(a, 0), (b, 101)]).level == 1)
    outcome = run([(a, 0), (a, 150), (b, 200)])
    #expect(outcome.level == 2 && seconds(outcome) == [50], "the latest start wins")
    #expect(run([(b, 0), (a, 10)]).level == 1)
    outcome = run([(a, 5), (b, 5)])
    #expect(outcome.level == 2 && seconds(outcome) == [0], "the same instant, in step order")
    outcome = run([(a, 0), (b, 10), (b, 20), (c, 50)])
    #expect(outcome.level == 3 && seconds(outcome) == [10, 40])
    #expect(run([(a, 0), (x, 5), (b, 10)], mode: .strict).level == 1)
    #expect(run([(a, 0), (x, 5), (b, 10)], mode: .ordered).level == 2)
    outcome = run([(a, 0), (e, 5), (b, 10)], exclusions: [(e, 1, 2)])
    #expect(outcome.excluded)
    outcome = run([(a, 0), (e, 5), (a, 20), (b, 30)], exclusions: [(e, 1, 2)])
    #expect(!outcome.excluded && outcome.level == 2 && seconds(outcome) == [10])
  }

  @Test func aRepeatedStepNeedsTwoEvents() {
    let a = Self.a
    #expect(run([(a, 0)], steps: [a, a]).level == 1)
    let outcome = run([(a, 0), (a, 30)], steps: [a, a])
    #expect(outcome.level == 2 && seconds(outcome) == [30])
    #expect(run([(a, 0), (a, 130)], steps: [a, a]).level == 1)
  }

  @Test func anyOrderCountsTheStepsInsideOneWindow() {
    let (a, b, c) = (Self.a, Self.b, Self.c)
    #expect(run([(c, 0), (b, 10), (a, 20)], mode: .any).level == 3)
    #expect(run([(c, 0), (b, 10), (a, 120)], mode: .any).level == 2)
    #expect(run([(a, 0), (a, 5)], mode: .any).level == 1, "one A is one step")
  }
}

/// An independent reference: PostHog's aggregate_funnel transcribed as
/// plainly as possible (entered timestamps per step, "already reached with
/// the same entered timestamp", strict resets), with chains named by their
/// start event for exclusions, checked against the engine on random data.
struct FunnelReference {
  let steps: [Int32]
  let window: Int64
  let mode: FunnelMode
  let exclusions: [(Int32, Int, Int)]

  struct Entered: Equatable {
    var start: Int  // index of the starting event: a chain's name
    var startTime: Int64
    var timings: [Int64]
    /// The breakdown value of each step event of the chain.
    var values: [Int32]
  }

  /// The value on the earliest step event of the chain that has one.
  static func value(_ values: [Int32]) -> Int32 { values.first { $0 >= 0 } ?? -1 }

  /// Any order, by brute force: every window starting at an event; in it,
  /// each step name counts as often as the steps need it; the earliest
  /// window with the most. Times are between the window's first events of
  /// the steps, taken in time order.
  func anyOrder(_ events: [FunnelEvent]) -> FunnelOutcome {
    var needed: [Int32: Int] = [:]
    for step in steps { needed[step, default: 0] += 1 }
    var best = FunnelOutcome(level: 0, times: [])
    for first in events where needed[first.name] != nil {
      let inside = events.filter { $0.ts >= first.ts && $0.ts - first.ts <= window && needed[$0.name] != nil }
      var used: [Int32: Int] = [:]
      let matched = inside.filter { event in
        guard used[event.name, default: 0] < needed[event.name]! else { return false }
        used[event.name, default: 0] += 1
        return true
      }
      guard matched.count > best.level else { continue }
      let times = zip(matched.dropFirst(), matched).map { $0.ts - $1.ts }
      best = FunnelOutcome(level: matched.count, times: times, value: Self.value(matched.map(\.value)))
    }
    return best
  }

  func outcome(_ events: [FunnelEvent]) -> FunnelOutcome {
    if mode == .any { return anyOrder(events) }
    let n = steps.count
    var entered = [Entered?](repeating: nil, count: n + 1)
    var reached: [(start: Int, level: Int, order: Int, timings: [Int64], values: [Int32])] = []
    var excluded = Set<Int>()
    var order = 0
    for (index, event) in events.enumerated() {
      let matching = (1...n).filter { steps[$0 - 1] == event.name }
      let excluding = exclusions.filter { $0.0 == event.name }
      if mode == .strict && matching.isEmpty && excluding.isEmpty {
        entered = [Entered?](repeating: nil, count: n + 1)
        continue
      }
      for step in matching.reversed() {
        if step == 1 {
          entered[1] = Entered(start: index, startTime: event.ts, timings: [event.ts], values: [event.value])
          reached.append((index, 1, order, [event.ts], [event.value]))
          order += 1
          continue
        }
        guard let previous = entered[step - 1] else { continue }
        let inWindow = event.ts - previous.startTime <= window
        let already = entered[step]?.start == previous.start
        if inWindow && !already {
          entered[step] = Entered(
            start: previous.start, startTime: previous.startTime, timings: previous.timings + [event.ts],
            values: previous.values + [event.value])
          if let at = reached.firstIndex(where: { $0.start == previous.start }), reached[at].level < step {
            reached[at] = (previous.start, step, order, previous.timings + [event.ts], previous.values + [event.value])
            order += 1
          }
        }
      }
      for (_, from, to) in excluding {
        for level in from..<to {
          if let chain = entered[level], event.ts - chain.startTime <= window, entered[to]?.start != chain.start {
            excluded.insert(chain.start)
          }
        }
      }
      if mode == .strict {
        for level in 1...n where !matching.contains(level) { entered[level] = nil }
      }
    }
    guard let top = reached.map(\.level).max() else { return FunnelOutcome(level: 0, times: []) }
    let atTop = reached.filter { $0.level == top }.sorted { $0.order < $1.order }
    guard let clean = atTop.first(where: { !excluded.contains($0.start) }) else {
      return FunnelOutcome(level: top, times: [], excluded: true, value: Self.value(atTop[0].values))
    }
    let times =
      clean.timings.count < 2 ? [] : (1..<clean.timings.count).map { clean.timings[$0] - clean.timings[$0 - 1] }
    return FunnelOutcome(level: top, times: times, value: Self.value(clean.values))
  }
}

struct FunnelRandomTests {
  /// Random actors (names, times, breakdown values) through the engine and
  /// the reference: the same level, exclusion, step times and breakdown
  /// value. Any order is checked without exclusions (the reference has none).
  @Test(arguments: [FunnelMode.ordered, .strict, .any])
  func theEngineAgreesWithTheReference(_ mode: FunnelMode) {
    var random = SystemRandomNumberGenerator()
    let shapes: [[Int32]] = [[0, 1, 2], [0, 1, 2, 3], [0, 0, 1], [1, 0, 1]]
    var disagreements = 0
    for round in 0..<3_000 {
      let steps = shapes[round % shapes.count]
      let exclusions: [(Int32, Int, Int)] = round % 3 == 0 && mode != .any ? [(4, 1, steps.count)] : []
      let rules = FunnelRules(steps: steps, names: 6, window: 100, mode: mode, exclusions: exclusions)
      let reference = FunnelReference(steps: steps, window: 100, mode: mode, exclusions: exclusions)
      var events = (0..<Int.random(in: 0...12, using: &random)).map { _ in
        FunnelEvent(
          name: Int32.random(in: -1...5, using: &random), ts: Int64.random(in: 0...300, using: &random),
          value: Int32.random(in: -1...2, using: &random))
      }
      rules.sort(&events)
      let ours = rules.outcome(events)
      let theirs = reference.outcome(events)
      if ours != theirs {
        disagreements += 1
        #expect(ours == theirs, "\(mode) \(steps) \(exclusions) \(events)")
        if disagreements > 3 { break }
      }
    }
  }
}
