import Foundation

/// An escalation policy (`[[alerting.escalation_policies]]`), as PagerDuty's:
/// a firing alert the policy matches is notified to level 0's receivers,
/// then — while nobody acknowledges it — to each next level after its
/// delay (counted from the alert's first sighting); with `repeat`, the whole
/// ladder starts over every `repeat_every`. An acknowledgement (or a
/// resolve, a silence, an inhibition) stops it.
public struct EscalationPolicy: Sendable, Equatable {
  public struct Level: Sendable, Equatable {
    public var receivers: [String]
    public var after: Duration

    public init(receivers: [String], after: Duration) {
      self.receivers = receivers
      self.after = after
    }
  }

  public var name: String
  public var matchers: [LabelMatcher]
  public var levels: [Level]
  public var repeatCount: Int
  public var repeatEvery: Duration

  public init(
    name: String, matchers: [LabelMatcher], levels: [Level], repeatCount: Int = 0, repeatEvery: Duration = .zero
  ) {
    self.name = name
    self.matchers = matchers
    self.levels = levels
    self.repeatCount = repeatCount
    self.repeatEvery = repeatEvery
  }

  /// The steps reached `elapsed` after the first sighting, in order: each
  /// (cycle, level index). Step (0, 0) is the first notification.
  public func reached(after elapsed: Duration) -> [(cycle: Int, level: Int)] {
    var steps: [(Int, Int)] = []
    let cycles = repeatEvery > .zero ? repeatCount + 1 : 1
    for cycle in 0..<cycles {
      let start = repeatEvery * cycle
      for (index, level) in levels.enumerated() where elapsed >= start + level.after {
        steps.append((cycle, index))
      }
    }
    return steps
  }
}
