import Foundation

/// A quota on one metric per billing period: soft quotas allow and warn,
/// hard ones deny.
public struct Quota: Sendable, Equatable {
  public var limit: Double
  public var hard: Bool

  public init(limit: Double, hard: Bool) {
    self.limit = limit
    self.hard = hard
  }
}

/// A plan (`[plans.NAME]`): its monthly price and quotas. `trial` is a plan too.
public struct Plan: Sendable, Equatable {
  public var name: String
  public var price: Double
  public var quotas: [String: Quota]

  public init(name: String, price: Double = 0, quotas: [String: Quota] = [:]) {
    self.name = name
    self.price = price
    self.quotas = quotas
  }
}

/// How a metric's records add up over a period.
public enum Aggregate: String, Sendable, CaseIterable {
  case sum, count, max, last
}

/// A step of onboarding (`[[lifecycle.onboarding]]`), completed by an event.
public struct OnboardingStep: Sendable, Equatable {
  public var id: String
  public var title: String
  public var event: String

  public init(id: String, title: String, event: String) {
    self.id = id
    self.title = title
    self.event = event
  }
}

/// One e-mail of a sequence, `day` days after the trial started, at the
/// send hour in the account's time zone.
public struct SequenceStep: Sendable, Equatable {
  public var id: String
  public var day: Int
  public var template: String
  public var subject: String
  /// Skipped when any of these onboarding steps is done.
  public var unless: [String]
  /// Only for accounts on one of these plans (empty: any).
  public var onlyPlan: [String]
  /// Sent only when all of these onboarding steps are done.
  public var onlyIf: [String]
  /// Which e-mail goes first when a frequency cap allows only some.
  public var priority: Int

  public init(
    id: String, day: Int, template: String, subject: String, unless: [String] = [], onlyPlan: [String] = [],
    onlyIf: [String] = [], priority: Int = 50
  ) {
    self.id = id
    self.day = day
    self.template = template
    self.subject = subject
    self.unless = unless
    self.onlyPlan = onlyPlan
    self.onlyIf = onlyIf
    self.priority = priority
  }
}

/// A sequence (`[[lifecycle.sequences]]`). An account leaves it when it
/// converts (exit on goal) unless `exit_on_convert` is off.
public struct EmailSequence: Sendable, Equatable {
  public var name: String
  public var steps: [SequenceStep]
  public var exitOnConvert: Bool

  public init(name: String, steps: [SequenceStep], exitOnConvert: Bool = true) {
    self.name = name
    self.steps = steps
    self.exitOnConvert = exitOnConvert
  }
}

/// An e-mail Lifecycle sends on an occasion rather than a day: usage at
/// 80% and 100% of a quota, a paid-only feature tried, inactivity.
public struct TriggeredEmail: Sendable, Equatable {
  public var template: String
  public var subject: String
  public var priority: Int

  public init(template: String, subject: String, priority: Int) {
    self.template = template
    self.subject = subject
    self.priority = priority
  }
}

/// Everything `[lifecycle]` and `[plans]` say.
public struct LifecycleSettings: Sendable, Equatable {
  public var trialDays = 30
  /// The local hour sequence e-mails go out.
  public var sendHour = 9
  /// Local hours no e-mail goes out: from `quietStart` to `quietEnd` (they
  /// may wrap midnight); equal: none.
  public var quietStart = 21
  public var quietEnd = 8
  public var maxPerDay = 2
  public var maxPerWeek = 5
  /// A sequence step that could not go out (caps, quiet hours) for this
  /// long after its time is skipped rather than sent late.
  public var staleAfter: Duration = .seconds(48 * 3600)
  /// Days without activity before the re-engagement e-mail (0: never).
  public var reengageAfterDays = 7
  public var usageThresholds = [80, 100]
  public var usageEmail = TriggeredEmail(
    template: "usage", subject: "You have used {{percent}}% of your {{metric}}", priority: 70)
  public var nudgeEmail = TriggeredEmail(
    template: "upgrade", subject: "{{metric}} is on the {{upgrade_plan}} plan", priority: 40)
  public var reengageEmail = TriggeredEmail(
    template: "reengage", subject: "Your reconciliations miss you, {{name}}", priority: 20)
  /// Where the unsubscribe link points; `{{token}}` is the signed token.
  public var unsubscribeURL: String? = nil
  /// The key tokens are signed with; empty: one kept in the database.
  public var unsubscribeSecret = ""
  public var templatesDirectory = "data/templates"
  /// Where the console's "send a preview to yourself" goes.
  public var previewTo: String? = nil
  public var plans: [Plan] = [Plan(name: "trial")]
  public var aggregates: [String: Aggregate] = [:]
  public var onboarding: [OnboardingStep] = []
  public var sequences: [EmailSequence] = []
  /// The queue `email.send` jobs go on, and their retries.
  public var queue = "email"
  public var attempts = 5

  public init() {}

  public func plan(_ name: String) -> Plan? { plans.first { $0.name == name } }

  /// The occasional e-mails by kind (the key `lifecycle preview` takes and
  /// ``Templates/occasionVariables`` lists their variables under).
  public var occasions: [String: TriggeredEmail] {
    ["usage": usageEmail, "upgrade": nudgeEmail, "reengage": reengageEmail]
  }

  /// The cheapest paid plan whose quota for `metric` is higher than `than`
  /// (or unlimited), for upgrade nudges.
  public func upgrade(for metric: String, above limit: Double) -> Plan? {
    plans.filter { $0.name != "trial" && $0.price > 0 }.sorted { $0.price < $1.price }.first { plan in
      plan.quotas[metric].map { $0.limit > limit } ?? true
    }
  }

  /// Every sequence step in the order a trial meets them: by day, then
  /// as the config lists them. Keys are `sequence/step`.
  public var timeline: [SequencePlace] {
    var all: [(SequencePlace, Int)] = []
    for sequence in sequences {
      for step in sequence.steps {
        all.append((SequencePlace(key: "\(sequence.name)/\(step.id)", sequence: sequence, step: step), all.count))
      }
    }
    return all.sorted { ($0.0.step.day, $0.1) < ($1.0.step.day, $1.1) }.map(\.0)
  }

}

/// A step's place in the trial's timeline.
public struct SequencePlace: Sendable, Equatable {
  public var key: String
  public var sequence: EmailSequence
  public var step: SequenceStep
}
