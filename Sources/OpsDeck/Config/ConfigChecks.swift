import Foundation
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

  static func problems(in table: ConfigTable) -> [Problem] {
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
    return problems
  }
}
