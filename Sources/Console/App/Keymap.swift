import Resilience

/// What a key does.
public enum Action: Hashable, Sendable {
  case quit, help, nextPane, previousPane, pane(Int), refresh, togglePause
  case up, down, top, bottom, pageUp, pageDown, focusQueues, focusJobs
  case nextState, previousState, open, back
  case retry, remove, promote, toggleQueuePause, retryAllFailed, addJob
  case breaker(BreakerCommand)
  case markAlert, acknowledgeAlerts, undoAck, resolveAlerts, cycleSeverity, cycleStatus, silenceAlert
  case extendTrial, suppress, sendPreview
  case nextFunnel, previousFunnel, cycleWindow, cycleRange, toggleBreakdown, nextRetention
  case filter, command
}

/// One row of a pane's key table: the key, what it does, the help text,
/// and whether it changes data (dangerous actions ask first and do not
/// exist in read-only mode).
public struct KeyBinding: Sendable {
  public let key: Key
  public let action: Action
  public let help: String
  public let dangerous: Bool
  /// Shown in the footer (the pane's most useful keys).
  public let footer: Bool

  public init(_ key: Key, _ action: Action, _ help: String, dangerous: Bool = false, footer: Bool = false) {
    self.key = key
    self.action = action
    self.help = help
    self.dangerous = dangerous
    self.footer = footer
  }
}

/// The key tables. The `?` overlay and the README's key list are generated
/// from these.
public enum Keymap {
  public static let global: [KeyBinding] = [
    KeyBinding(.character("q"), .quit, "quit", footer: true),
    KeyBinding(.character("?"), .help, "all keys", footer: true),
    KeyBinding(.tab, .nextPane, "next pane"),
    KeyBinding(.backTab, .previousPane, "previous pane"),
    KeyBinding(.character("1"), .pane(1), "Overview"),
    KeyBinding(.character("2"), .pane(2), "Jobs"),
    KeyBinding(.character("3"), .pane(3), "Schedules"),
    KeyBinding(.character("4"), .pane(4), "Breakers"),
    KeyBinding(.character("5"), .pane(5), "Alerts"),
    KeyBinding(.character("6"), .pane(6), "Trials"),
    KeyBinding(.character("7"), .pane(7), "Funnels"),
    KeyBinding(.control("r"), .refresh, "reload now"),
    KeyBinding(.character("Z"), .togglePause, "pause live updates"),
    KeyBinding(.character(":"), .command, "command line (Tab completes)"),
  ]

  public static let navigation: [KeyBinding] = [
    KeyBinding(.character("j"), .down, "down"),
    KeyBinding(.down, .down, "down"),
    KeyBinding(.character("k"), .up, "up"),
    KeyBinding(.up, .up, "up"),
    KeyBinding(.character("g"), .top, "first"),
    KeyBinding(.character("G"), .bottom, "last"),
    KeyBinding(.pageDown, .pageDown, "page down"),
    KeyBinding(.pageUp, .pageUp, "page up"),
    KeyBinding(.character("/"), .filter, "filter", footer: true),
  ]

  public static func jobs(readOnly: Bool) -> [KeyBinding] {
    let viewing: [KeyBinding] = [
      KeyBinding(.character("h"), .focusQueues, "queue list"),
      KeyBinding(.left, .focusQueues, "queue list"),
      KeyBinding(.character("l"), .focusJobs, "job list"),
      KeyBinding(.right, .focusJobs, "job list"),
      KeyBinding(.character("]"), .nextState, "next state", footer: true),
      KeyBinding(.character("["), .previousState, "previous state"),
      KeyBinding(.enter, .open, "show job", footer: true),
      KeyBinding(.escape, .back, "back"),
    ]
    let acting: [KeyBinding] = [
      KeyBinding(.character("r"), .retry, "retry job", dangerous: true, footer: true),
      KeyBinding(.character("p"), .promote, "run delayed job now", dangerous: true),
      KeyBinding(.character("D"), .remove, "remove job", dangerous: true),
      KeyBinding(.character("P"), .toggleQueuePause, "pause/resume queue", dangerous: true, footer: true),
      KeyBinding(.character("R"), .retryAllFailed, "retry all failed", dangerous: true),
      KeyBinding(.character("a"), .addJob, "add a job (a form)", dangerous: true),
    ]
    return navigation + viewing + (readOnly ? [] : acting)
  }

  public static func schedules(readOnly: Bool) -> [KeyBinding] {
    let acting: [KeyBinding] = [
      KeyBinding(.character("p"), .promote, "run the next job now", dangerous: true, footer: true),
      KeyBinding(.character("D"), .remove, "remove schedule", dangerous: true),
    ]
    return navigation + [KeyBinding(.enter, .open, "its queue in Jobs", footer: true)] + (readOnly ? [] : acting)
  }

  public static func breakers(readOnly: Bool) -> [KeyBinding] {
    let acting: [KeyBinding] = [
      KeyBinding(.character("o"), .breaker(.forceOpen), "force open", dangerous: true, footer: true),
      KeyBinding(.character("c"), .breaker(.close), "close", dangerous: true, footer: true),
      KeyBinding(.character("x"), .breaker(.reset), "reset", dangerous: true),
      KeyBinding(.character("d"), .breaker(.disable), "disable", dangerous: true),
      KeyBinding(.character("m"), .breaker(.metricsOnly), "metrics only", dangerous: true),
    ]
    return navigation + [KeyBinding(.enter, .open, "history and calls", footer: true)] + (readOnly ? [] : acting)
  }

  public static func alerts(readOnly: Bool) -> [KeyBinding] {
    let viewing: [KeyBinding] = [
      KeyBinding(.enter, .open, "labels, trail", footer: true),
      KeyBinding(.character("f"), .cycleSeverity, "severity filter", footer: true),
      KeyBinding(.character("t"), .cycleStatus, "status filter (firing, acknowledged, silenced)"),
    ]
    let acting: [KeyBinding] = [
      KeyBinding(.character(" "), .markAlert, "mark"),
      KeyBinding(.character("a"), .acknowledgeAlerts, "acknowledge (marked or current; Enter)", footer: true),
      KeyBinding(.character("u"), .undoAck, "undo the last ack (for 10 s)"),
      KeyBinding(.character("r"), .resolveAlerts, "resolve", dangerous: true, footer: true),
      KeyBinding(.character("s"), .silenceAlert, "silence alerts like this one (a form)", dangerous: true),
    ]
    return navigation + viewing + (readOnly ? [] : acting)
  }

  public static func trials(readOnly: Bool) -> [KeyBinding] {
    let acting: [KeyBinding] = [
      KeyBinding(
        .character("e"), .extendTrial, "extend the trial (a form: days, reason)", dangerous: true, footer: true),
      KeyBinding(.character("x"), .suppress, "suppress its e-mails", dangerous: true),
      KeyBinding(.character("p"), .sendPreview, "send its next e-mail to yourself", dangerous: true, footer: true),
    ]
    return navigation + [KeyBinding(.enter, .open, "timeline", footer: true)] + (readOnly ? [] : acting)
  }

  public static let funnels: [KeyBinding] = [
    KeyBinding(.character("j"), .down, "next step"),
    KeyBinding(.down, .down, "next step"),
    KeyBinding(.character("k"), .up, "previous step"),
    KeyBinding(.up, .up, "previous step"),
    KeyBinding(.character("]"), .nextFunnel, "next saved funnel", footer: true),
    KeyBinding(.character("["), .previousFunnel, "previous saved funnel"),
    KeyBinding(.character("w"), .cycleWindow, "conversion window (1d, 7d, 14d, 30d, 90d)", footer: true),
    KeyBinding(.character("d"), .cycleRange, "date range (all, 7, 30, 90 days)"),
    KeyBinding(.character("b"), .toggleBreakdown, "breakdown by the funnel's property", footer: true),
    KeyBinding(.character("t"), .nextRetention, "next saved retention report"),
    KeyBinding(.enter, .open, "who dropped off at this step", footer: true),
  ]

  public static let overview: [KeyBinding] =
    navigation + [
      KeyBinding(.enter, .open, "open in its pane", footer: true)
    ]
}

extension Keymap {
  /// The README's key reference, generated from the tables above.
  public static func markdown() -> String {
    func table(_ title: String, _ bindings: [KeyBinding]) -> String {
      var seen = Set<Action>()
      var rows = ["**\(title)**", "", "| keys | does |", "|---|---|"]
      for binding in bindings where seen.insert(binding.action).inserted {
        let keys = bindings.filter { $0.action == binding.action }.map { "`\($0.key.description)`" }
        rows.append(
          "| \(keys.joined(separator: " ")) | \(binding.help)\(binding.dangerous ? " (asks first; not in read-only mode)" : "") |"
        )
      }
      return rows.joined(separator: "\n")
    }
    return [
      table("Everywhere", global), table("Overview", overview), table("Jobs", jobs(readOnly: false)),
      table("Schedules", schedules(readOnly: false)), table("Breakers", breakers(readOnly: false)),
      table("Alerts", alerts(readOnly: false)), table("Trials", trials(readOnly: false)), table("Funnels", funnels),
    ].joined(separator: "\n\n") + "\n"
  }
}
