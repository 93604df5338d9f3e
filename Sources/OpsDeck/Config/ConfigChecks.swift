import Alerting
import Analytics
import Foundation
import Lifecycle
import Scheduler
import Storage

/// Rules that span keys or need an engine to judge, run after every key
/// has the right type: a schedule needs exactly one of cron and every, its
/// cron must parse and fire, its zone must exist, its data must be JSON.
enum ConfigChecks {
  struct Problem {
    var path: [String]
    var message: String
  }

  static func problems(in table: ConfigTable, templates: Bool = true) -> [Problem] {
    var problems: [Problem] = []
    var seen = Set<String>()
    for (index, entry) in table.tableList("schedules").enumerated() {
      let path = ["schedules[\(index)]"]
      for required in ["id", "queue", "name"] where entry.string(required) == nil {
        problems.append(Problem(path: path, message: "\(required) is missing"))
      }
      if let id = entry.string("id"), !seen.insert(id).inserted {
        problems.append(Problem(path: path + ["id"], message: "schedule id '\(id)' is used twice"))
      }
      switch (entry.string("cron"), entry.duration("every")) {
      case (let pattern?, nil):
        do {
          let cron = try CronExpression(parsing: pattern)
          let zone = try Schedules.timeZone(entry.string("tz") ?? "UTC")
          if cron.next(after: Date(), in: zone) == nil {
            problems.append(Problem(path: path + ["cron"], message: "cron expression '\(pattern)' never fires"))
          }
        } catch let error as CronSyntaxError {
          problems.append(Problem(path: path + ["cron"], message: error.description))
        } catch {
          problems.append(Problem(path: path + ["tz"], message: "\(error)"))
        }
      case (nil, let every?):
        if entry.string("tz") != nil {
          problems.append(Problem(path: path + ["tz"], message: "tz applies to cron only"))
        }
        if every <= .zero { problems.append(Problem(path: path + ["every"], message: "every must be positive")) }
      default:
        problems.append(Problem(path: path, message: "expected exactly one of cron and every"))
      }
      if let data = entry.string("data") {
        do {
          try JobStore.validate(data: data)
        } catch {
          problems.append(Problem(path: path + ["data"], message: "not valid JSON"))
        }
      }
    }
    let fx = table.table("fx")
    if let pattern = fx.string("cron") {
      do {
        _ = try CronExpression(parsing: pattern)
        _ = try Schedules.timeZone(fx.string("tz") ?? "UTC")
      } catch let error as CronSyntaxError {
        problems.append(Problem(path: ["fx", "cron"], message: error.description))
      } catch {
        problems.append(Problem(path: ["fx", "tz"], message: "\(error)"))
      }
    }
    let alerting = table.table("alerting")
    var receiverNames = Set<String>()
    for (index, receiver) in alerting.tableList("receivers").enumerated() {
      let path = ["alerting", "receivers[\(index)]"]
      guard let name = receiver.string("name"), let kind = receiver.string("type") else {
        problems.append(Problem(path: path, message: "name and type are required"))
        continue
      }
      if !receiverNames.insert(name).inserted {
        problems.append(Problem(path: path + ["name"], message: "receiver '\(name)' is defined twice"))
      }
      switch kind {
      case "pagerduty" where receiver.string("routing_key") == nil:
        problems.append(Problem(path: path, message: "a pagerduty receiver needs routing_key"))
      case "slack", "webhook":
        if receiver.string("url") == nil {
          problems.append(Problem(path: path, message: "a \(kind) receiver needs url"))
        }
      case "email" where (receiver.list("to") ?? []).isEmpty:
        problems.append(Problem(path: path, message: "an email receiver needs to = [\"ops@example.com\"]"))
      default: break
      }
    }
    func checkRoute(_ route: ConfigTable, _ path: [String]) {
      if let receiver = route.string("receiver"), !receiverNames.contains(receiver) {
        problems.append(Problem(path: path + ["receiver"], message: "no receiver named '\(receiver)'"))
      }
      for matcher in route.list("matchers") ?? [] {
        do {
          _ = try LabelMatcher(parsing: matcher)
        } catch {
          problems.append(Problem(path: path + ["matchers"], message: error.message))
        }
      }
      for (index, child) in route.tableList("routes").enumerated() {
        checkRoute(child, path + ["routes[\(index)]"])
      }
    }
    checkRoute(alerting.table("route"), ["alerting", "route"])
    for (index, policy) in alerting.tableList("escalation_policies").enumerated() {
      let path = ["alerting", "escalation_policies[\(index)]"]
      if policy.tableList("levels").isEmpty { problems.append(Problem(path: path, message: "levels: at least one")) }
      for (number, level) in policy.tableList("levels").enumerated() {
        for receiver in level.list("receivers") ?? [] where !receiverNames.contains(receiver) {
          problems.append(
            Problem(path: path + ["levels[\(number)]", "receivers"], message: "no receiver named '\(receiver)'"))
        }
      }
    }
    for (index, rule) in alerting.tableList("inhibit_rules").enumerated() {
      let path = ["alerting", "inhibit_rules[\(index)]"]
      for key in ["source_matchers", "target_matchers"] {
        let matchers = rule.list(key) ?? []
        if matchers.isEmpty { problems.append(Problem(path: path, message: "\(key) is required")) }
        for matcher in matchers {
          do {
            _ = try LabelMatcher(parsing: matcher)
          } catch {
            problems.append(Problem(path: path + [key], message: error.message))
          }
        }
      }
    }
    if let backoff = alerting.string("notify_backoff") {
      do {
        _ = try Backoff(parsing: backoff)
      } catch {
        problems.append(Problem(path: ["alerting", "notify_backoff"], message: error.message))
      }
    }
    if let backoff = table.table("webhooks").string("backoff") {
      do {
        _ = try Backoff(parsing: backoff)
      } catch {
        problems.append(Problem(path: ["webhooks", "backoff"], message: error.message))
      }
    }
    let access = table.table("access")
    let both = Set(access.list("viewers") ?? []).intersection(access.list("operators") ?? [])
    if let user = both.sorted().first {
      problems.append(
        Problem(path: ["access", "operators"], message: "user '\(user)' is both a viewer and an operator"))
    }
    for queue in table.namedTables("queues") {
      let hasMax = queue.table.integer("rate_max") != nil
      let hasPer = queue.table.duration("rate_per") != nil
      if hasMax != hasPer {
        problems.append(Problem(path: ["queues", queue.name], message: "rate_max and rate_per go together"))
      }
    }
    problems += lifecycleProblems(table, templates: templates)
    problems += analyticsProblems(table.table("analytics"))
    return problems
  }

  /// Sequences that name what exists (onboarding steps, plans) and
  /// templates that render: a variable nothing provides is an error here,
  /// not a blank in a customer's inbox.
  static func lifecycleProblems(_ table: ConfigTable, templates checkTemplates: Bool) -> [Problem] {
    var problems: [Problem] = []
    let lifecycle = table.table("lifecycle")
    let settings = OpsDeckConfig.lifecycle(lifecycle, plans: table.namedTables("plans"))
    let stepIDs = Set(settings.onboarding.map(\.id))
    let planNames = Set(settings.plans.map(\.name))
    for (index, step) in lifecycle.tableList("onboarding").enumerated() {
      for required in ["id", "event"] where step.string(required) == nil {
        problems.append(Problem(path: ["lifecycle", "onboarding[\(index)]"], message: "\(required) is missing"))
      }
    }
    var sequenceNames = Set<String>()
    for (index, sequence) in lifecycle.tableList("sequences").enumerated() {
      let path = ["lifecycle", "sequences[\(index)]"]
      guard let name = sequence.string("name") else {
        problems.append(Problem(path: path, message: "name is missing"))
        continue
      }
      if ["usage", "nudge", "reengage"].contains(name) || !sequenceNames.insert(name).inserted {
        problems.append(Problem(path: path + ["name"], message: "sequence name '\(name)' is taken"))
      }
      var ids = Set<String>()
      for (number, step) in sequence.tableList("steps").enumerated() {
        let stepPath = path + ["steps[\(number)]"]
        for required in ["id", "template", "subject"] where step.string(required) == nil {
          problems.append(Problem(path: stepPath, message: "\(required) is missing"))
        }
        if step.integer("day") == nil { problems.append(Problem(path: stepPath, message: "day is missing")) }
        if let id = step.string("id"), !ids.insert(id).inserted {
          problems.append(Problem(path: stepPath + ["id"], message: "step id '\(id)' is used twice in '\(name)'"))
        }
        for key in ["unless", "only_if"] {
          for id in step.list(key) ?? [] where !stepIDs.contains(id) {
            problems.append(
              Problem(
                path: stepPath + [key],
                message: "no onboarding step '\(id)' (steps: \(settings.onboarding.map(\.id).joined(separator: ", ")))")
            )
          }
        }
        for plan in step.list("only_plan") ?? [] where !planNames.contains(plan) {
          problems.append(Problem(path: stepPath + ["only_plan"], message: "no plan '\(plan)'"))
        }
      }
    }
    guard checkTemplates else { return problems }
    let directory = settings.templatesDirectory
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
      // The seed's templates ship in data/templates; a config that names
      // its own sequences or folder must have them.
      if !lifecycle.tableList("sequences").isEmpty || directory != "data/templates" {
        problems.append(Problem(path: ["lifecycle", "templates"], message: "no folder '\(directory)'"))
      }
      return problems
    }
    let templates = Templates(directory: directory)
    var checked = Set<String>()
    var uses: [(String, String, [String])] = settings.sequences.flatMap { sequence in
      sequence.steps.map { ($0.template, $0.subject, [String]()) }
    }
    uses += settings.occasions.sorted { $0.key < $1.key }.map { kind, email in
      (email.template, email.subject, Templates.occasionVariables[kind] ?? [])
    }
    for (template, subject, extra) in uses where checked.insert(template + "|" + subject).inserted {
      for problem in templates.problems(template: template, subject: subject, extra: extra) {
        problems.append(Problem(path: ["lifecycle", "templates"], message: problem))
      }
    }
    return problems
  }

  /// Saved reports that would fail when the pane opens them.
  static func analyticsProblems(_ analytics: ConfigTable) -> [Problem] {
    var problems: [Problem] = []
    if TimeZone(identifier: analytics.string("tz") ?? "UTC") == nil {
      problems.append(Problem(path: ["analytics", "tz"], message: "no time zone '\(analytics.string("tz") ?? "")'"))
    }
    for (index, funnel) in analytics.tableList("funnels").enumerated() {
      let path = ["analytics", "funnels[\(index)]"]
      var query = FunnelQuery(steps: funnel.list("steps") ?? [])
      query.window = funnel.duration("window") ?? query.window
      do {
        query.exclusions = try (funnel.list("exclude") ?? []).map(FunnelExclusion.init(parsing:))
        try query.validate()
      } catch let error as AnalyticsInputError {
        problems.append(Problem(path: path, message: error.message.replacingOccurrences(of: "--", with: "")))
      } catch {
        problems.append(Problem(path: path, message: "\(error)"))
      }
    }
    for (index, report) in analytics.tableList("retention").enumerated() {
      for key in ["start_event", "return_event"] where report.string(key) == nil {
        problems.append(Problem(path: ["analytics", "retention[\(index)]"], message: "\(key) is missing"))
      }
    }
    return problems
  }
}
