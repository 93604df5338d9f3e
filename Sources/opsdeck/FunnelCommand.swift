import Analytics
import ArgumentParser
import Foundation
import OpsDeck
import Storage

struct FunnelCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "funnel", abstract: "A conversion funnel over the events, with PostHog's rules.",
    discussion: """
      Steps are event names (a name may repeat). Ordered (default): every step-1 event starts a
      chain, the latest start wins, a step's event advances the chain at the step before within
      --window of the chain's start (inclusive); strict: any other event breaks the chain; any:
      the most steps inside one window. --exclude E:i:j drops an actor whose best chain saw E
      between steps i and j. The date range filters every event, later steps included.

      Examples:
        opsdeck funnel --steps signup,bank.connected,reconciliation.completed --window 7d
        opsdeck funnel --steps signup,reconciliation.completed --breakdown plan --json
        opsdeck funnel --steps signup,reconciliation.completed --dropped-at 2
      """)
  @OptionGroup var global: GlobalOptions
  @Option(help: "The steps, comma-separated event names.") var steps: String?
  @Option(help: "A saved funnel ([[analytics.funnels]] name); other flags override it.") var saved: String?
  @Option(help: "The conversion window from a chain's first step (default 14d).") var window: String?
  @Option(help: "Only events at or after this time (ISO 8601).") var from: String?
  @Option(help: "Only events at or before this time (ISO 8601).") var to: String?
  @Option(help: "ordered, strict or any.") var mode: String?
  @Option(help: "account or user.") var by = "account"
  @Option(name: .customLong("exclude"), help: "E:i:j — event E between steps i and j (repeatable).")
  var exclusions: [String] = []
  @Option(help: "A property: one set of figures per value (its first step event's).") var breakdown: String?
  @Option(help: "List the actors who reached step K-1 but not K.") var droppedAt: Int?
  @Flag(help: "Print JSON.") var json = false

  func run() throws {
    let runtime = try global.runtime()
    var query = FunnelQuery(steps: [])
    if let saved {
      guard let found = runtime.config.analytics.funnels.first(where: { $0.name == saved }) else {
        let names = runtime.config.analytics.funnels.map { "'\($0.name)'" }.joined(separator: ", ")
        throw ValidationError("invalid --saved '\(saved)': expected one of \(names)")
      }
      query = found.query
    }
    if let steps { query.steps = steps.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
    guard !query.steps.isEmpty else { throw ValidationError("give --steps A,B,C or --saved NAME") }
    if let window, let windowMS = try Parse.milliseconds(window, flag: "--window") {
      query.window = .milliseconds(windowMS)
    }
    query.from = try Parse.time(from, flag: "--from")
    query.to = try Parse.time(to, flag: "--to")
    if let mode {
      guard let parsed = FunnelMode(rawValue: mode) else {
        throw ValidationError("invalid --mode '\(mode)': expected ordered, strict or any")
      }
      query.mode = parsed
    }
    guard by == "account" || by == "user" else {
      throw ValidationError("invalid --by '\(by)': expected account or user")
    }
    query.byUser = by == "user"
    if !exclusions.isEmpty { query.exclusions = try exclusions.map(FunnelExclusion.init(parsing:)) }
    // A saved funnel's breakdown is what the pane's `b` shows; here, only when asked.
    query.breakdown = breakdown
    let log = try runtime.eventLog(.view)
    let result = try log.funnel(query)
    if let step = droppedAt {
      guard (2...query.steps.count).contains(step) else {
        throw ValidationError("invalid --dropped-at \(step): expected 2 to \(query.steps.count)")
      }
      let actors = try log.dropped(result, at: step)
      if json { return try Output.json(JSONValue.array(actors.map(JSONValue.string))) }
      for actor in actors { Output.line(TerminalText.sanitize(actor)) }
      return
    }
    if json {
      var object: [String: JSONValue] = ["steps": Self.json(result.steps)]
      if query.breakdown != nil {
        object["breakdown"] = .array(
          result.breakdown.map { .object(["value": .string($0.value), "steps": Self.json($0.steps)]) })
      }
      object["excluded"] = .number(Double(result.excluded))
      return try Output.json(JSONValue.object(object))
    }
    Self.print(result.steps)
    for (value, steps) in result.breakdown {
      Output.line("")
      Output.line("\(query.breakdown ?? "") = \(value.isEmpty ? "(none)" : value)")
      Self.print(steps)
    }
    if result.excluded > 0 { Output.line("(\(result.excluded) excluded by --exclude)") }
  }

  static func json(_ steps: [FunnelStepResult]) -> JSONValue {
    .array(
      steps.map { step in
        .object([
          "event": .string(step.event), "count": .number(Double(step.count)),
          "conversion_from_first": .number((step.conversionFromFirst * 10_000).rounded() / 10_000),
          "conversion_from_previous": .number((step.conversionFromPrevious * 10_000).rounded() / 10_000),
          "mean_time_to_convert_s": step.meanSeconds.map { .number(($0 * 1000).rounded() / 1000) } ?? .null,
          "median_time_to_convert_s": step.medianSeconds.map { .number(($0 * 1000).rounded() / 1000) } ?? .null,
          "dropped": .number(Double(step.dropped)),
        ])
      })
  }

  static func span(_ seconds: Double) -> String { Duration.roughText(seconds: seconds) }

  static func print(_ steps: [FunnelStepResult]) {
    let peak = max(1, steps.first?.count ?? 1)
    Output.columns(
      ["STEP", "EVENT", "ACTORS", "", "OF FIRST", "OF PREVIOUS", "MEDIAN TIME", "DROPPED"],
      steps.enumerated().map { index, step in
        let bar = String(repeating: "█", count: Int((Double(step.count) / Double(peak) * 20).rounded()))
        return [
          "\(index + 1)", step.event, "\(step.count)", bar, String(format: "%.1f%%", step.conversionFromFirst * 100),
          index == 0 ? "" : String(format: "%.1f%%", step.conversionFromPrevious * 100),
          step.medianSeconds.map(Self.span) ?? "",
          index == 0 ? "" : "\(step.dropped)",
        ]
      })
  }
}
