import Analytics
import Foundation
import Lifecycle
import Logging
import Scheduler
import Storage
import Synchronization

/// The demo's customers: `--accounts N` trials signed up over the last six
/// weeks (onboarding under way, usage, some converted, some expired, their
/// e-mails already sent), then a live trickle — sign-ups, onboarding
/// steps, usage, conversions — while the console is open. lifecycle.tick
/// runs from its engine schedule like anywhere else.
public final class DemoAccounts: Sendable {
  let lifecycle: Lifecycle
  let log: EventLog
  let seed: UInt64
  private let running = Atomic<Bool>(true)

  static let first = [
    "Bright", "North", "Kestrel", "Blue", "Granite", "Silver", "Harbor", "Summit", "Cedar", "Atlas", "Maple",
    "Copper", "Orbit", "Lumen", "Pioneer", "Evergreen", "Quarry", "Willow", "Falcon", "Meridian",
  ]
  static let second = [
    "Ledger", "Books", "Finance", "Accounting", "Partners", "Capital", "Holdings", "Advisors", "Trading", "Retail",
    "Logistics", "Health", "Labs", "Foods", "Energy",
  ]
  static let zones = [
    "Europe/Berlin", "Europe/London", "America/New_York", "America/Chicago", "America/Los_Angeles", "Europe/Paris",
    "Asia/Singapore", "Australia/Sydney", "UTC",
  ]

  public init(lifecycle: Lifecycle, seed: UInt64) {
    self.lifecycle = lifecycle
    self.log = EventLog(store: lifecycle.store)
    self.seed = seed
  }

  public func stop() { running.store(false, ordering: .relaxed) }

  /// `count` accounts with six weeks of history, on an empty accounts table.
  public func prepare(count: Int) throws {
    guard count > 0, try lifecycle.accounts(limit: 1).isEmpty else { return }
    var random = SplitMix64(seed: seed &+ 7)
    let end = lifecycle.clock.now()
    let clock = ManualClock(end.addingTimeInterval(-42 * 86_400))
    let past = Lifecycle(
      jobs: JobStore(store: lifecycle.store, clock: clock, actor: "demo"), settings: lifecycle.settings, actor: "demo")
    // Sign-ups in time order, ticking every six hours in between.
    let signups = (0..<count).map { _ in end.addingTimeInterval(-Double.random(in: 0...(42 * 86_400), using: &random)) }
      .sorted()
    var next = 0
    var tick = clock.now()
    while true {
      let stop = min(tick, end)
      while next < signups.count && signups[next] <= stop {
        clock.set(to: signups[next])
        try signUp(past, number: next + 1, random: &random)
        try progress(past, id: Self.id(next + 1), signedUp: signups[next], until: end, random: &random, clock: clock)
        next += 1
      }
      clock.set(to: stop)
      try past.tick()
      if stop == end { break }
      tick = tick.addingTimeInterval(6 * 3_600)
    }
    // History's e-mails went out when they were due: mark them so, and
    // clear their jobs, so the demo does not send six weeks of mail at once.
    try lifecycle.markBackfillSent(upTo: end)
    try EngineEvents.sync(lifecycle: lifecycle, log: log)
  }

  static func id(_ number: Int) -> String { String(format: "acc_%04d", number) }

  func signUp(_ lifecycle: Lifecycle, number: Int, random: inout SplitMix64) throws {
    let name =
      "\(Self.first.randomElement(using: &random) ?? "Bright") \(Self.second.randomElement(using: &random) ?? "Ledger")"
    let domain = name.lowercased().replacingOccurrences(of: " ", with: "-")
    let tz = Self.zones.randomElement(using: &random) ?? "UTC"
    try lifecycle.addAccount(
      id: Self.id(number), email: "finance@\(domain).example", name: name, plan: "trial", tz: tz)
    try event(
      lifecycle, Self.id(number), "signup",
      ["plan": "trial", "source": Self.sources.randomElement(using: &random) ?? "ads"])
  }

  static let sources = ["ads", "organic", "partner", "referral"]

  /// A product event, as the product would send it (onboarding steps it
  /// stands for complete).
  func event(_ lifecycle: Lifecycle, _ account: String, _ name: String, _ properties: [String: String] = [:]) throws {
    try log.track(TrackedEvent(name: name, accountID: account, at: lifecycle.clock.now(), properties: properties))
    try lifecycle.observe(account: account, event: name)
  }

  /// Onboarding steps, usage and maybe a conversion, spread over the days
  /// after a sign-up (but never past `until`).
  func progress(
    _ lifecycle: Lifecycle, id: String, signedUp: Date, until end: Date, random: inout SplitMix64, clock: ManualClock
  ) throws {
    let engagement = Double.random(in: 0...1, using: &random)
    var at = signedUp
    var done = 1
    for step in lifecycle.settings.onboarding.dropFirst() {
      guard Double.random(in: 0...1, using: &random) < 0.35 + engagement * 0.6 else { break }
      at = at.addingTimeInterval(Double.random(in: 1_800...(3 * 86_400), using: &random))
      guard at < end else { return }
      clock.set(to: at)
      try event(lifecycle, id, step.event)
      done += 1
    }
    if done >= 4 {
      let runs = Int(Double.random(in: 5...60, using: &random) * engagement)
      for _ in 0..<runs {
        at = at.addingTimeInterval(Double.random(in: 600...(14_400), using: &random))
        guard at < end else { return }
        clock.set(to: at)
        try lifecycle.recordUsage(account: id, metric: "reconciliations", quantity: 1)
        try event(lifecycle, id, "reconciliation.completed")
      }
    }
    if done >= 3 && Double.random(in: 0...1, using: &random) < 0.2 + engagement * 0.4 {
      let plans = ["starter", "starter", "growth", "growth", "scale"].filter { lifecycle.settings.plan($0) != nil }
      at = at.addingTimeInterval(Double.random(in: 86_400...(12 * 86_400), using: &random))
      guard at < end, let plan = plans.randomElement(using: &random) else { return }
      clock.set(to: at)
      try lifecycle.convert(id, plan: plan)
    }
  }

  /// Every couple of seconds, something happens to a customer.
  public func run(logger: Logger) {
    var random = SplitMix64(seed: seed &+ 11)
    var second = 0
    while running.load(ordering: .relaxed) {
      second += 1
      do {
        let trials = try lifecycle.trials(limit: 2_000).filter { !$0.clock.expired }
        if second % 20 == 0 {
          let count = try lifecycle.accountCount()
          try signUp(lifecycle, number: count + 1, random: &random)
        }
        if second % 3 == 0, let trial = trials.randomElement(using: &random) {
          let done = try lifecycle.onboarding(trial.account.id)
          if let step = lifecycle.nextOnboardingStep(done: done) {
            try event(lifecycle, trial.account.id, step.event)
          } else {
            try lifecycle.recordUsage(account: trial.account.id, metric: "reconciliations", quantity: 1)
            try event(lifecycle, trial.account.id, "reconciliation.completed")
          }
        }
        if second % 2 == 0, let trial = trials.filter({ $0.onboardingDone >= 4 }).randomElement(using: &random) {
          try lifecycle.recordUsage(account: trial.account.id, metric: "reconciliations", quantity: 1)
          try event(lifecycle, trial.account.id, "reconciliation.completed")
        }
        if second % 45 == 0, let trial = trials.filter({ $0.onboardingDone >= 4 }).randomElement(using: &random) {
          try lifecycle.convert(trial.account.id, plan: Bool.random(using: &random) ? "starter" : "growth")
        }
      } catch {
        logger.error("demo: accounts: \(error)")
      }
      Thread.sleep(forTimeInterval: 1)
    }
  }
}
