import ArgumentParser
import Delivery
import Foundation
import OpsDeck
import Resilience
import Storage

struct BreakersCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "breakers",
    abstract: "Circuit breakers of the configured dependencies: state, rates, history; change them by hand.",
    subcommands: [
      List.self, History.self, Manual<ForceOpen>.self, Manual<Close>.self, Manual<Reset>.self, Manual<Disable>.self,
      Manual<MetricsOnly>.self,
    ],
    defaultSubcommand: List.self)

  struct List: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "list",
      abstract: "Every breaker: state, failure and slow-call rates (unknown below the minimum calls), calls.",
      discussion: "Example:\n  opsdeck breakers --json")
    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
      let statuses = try global.runtime().breakerStatuses()
      if json { return try Output.json(statuses.map(BreakerJSON.init)) }
      func rate(_ value: Double?) -> String { value.map { String(format: "%.1f%%", $0) } ?? "-" }
      Output.columns(
        ["NAME", "STATE", "FAILURE", "SLOW", "CALLS", "FAILED", "REJECTED", "OPENED", "HALF-OPEN AT", "LAST ERROR"],
        statuses.map {
          [
            $0.name, $0.state.rawValue, rate($0.failureRate), rate($0.slowCallRate), "\($0.bufferedCalls)",
            "\($0.failedCalls)", "\($0.notPermitted)", $0.openedAt.map(Timestamp.format) ?? "-",
            $0.halfOpenAt.map(Timestamp.format) ?? "-", $0.lastError ?? "",
          ]
        })
    }
  }

  struct History: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "A breaker's transitions, newest first: when, from, to, why, and who for manual ones.",
      discussion: "Example:\n  opsdeck breakers history fx --json")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The dependency.") var name: String
    @Option(help: "At most this many transitions.") var limit = 50
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
      let runtime = try global.runtime()
      let name = try runtime.requireDependency(self.name)
      let entries = try runtime.openStore(.view).pool.read { db in
        try BreakerAdmin.history(db, name: name, limit: limit)
      }
      if json { return try Output.json(entries.map(TransitionJSON.init)) }
      Output.columns(
        ["AT", "FROM", "TO", "WHY", "BY"],
        entries.map { [Timestamp.format($0.at), $0.from.rawValue, $0.to.rawValue, $0.reason, $0.actor ?? ""] })
    }
  }

  protocol ManualCommand { static var command: BreakerCommand { get } }
  enum ForceOpen: ManualCommand { static let command = BreakerCommand.forceOpen }
  enum Close: ManualCommand { static let command = BreakerCommand.close }
  enum Reset: ManualCommand { static let command = BreakerCommand.reset }
  enum Disable: ManualCommand { static let command = BreakerCommand.disable }
  enum MetricsOnly: ManualCommand { static let command = BreakerCommand.metricsOnly }

  struct Manual<Kind: ManualCommand>: ParsableCommand {
    static var configuration: CommandConfiguration {
      let abstract: String
      switch Kind.command {
      case .forceOpen: abstract = "Reject every call until closed or reset (every process stops within a second)."
      case .close: abstract = "Back to CLOSED with empty metrics."
      case .reset: abstract = "Back to CLOSED with empty metrics, whatever the state (also from CLOSED)."
      case .disable: abstract = "Let every call through and record nothing."
      case .metricsOnly: abstract = "Let every call through, record rates, never open."
      }
      return CommandConfiguration(
        commandName: Kind.command.rawValue, abstract: abstract,
        discussion:
          "Recorded in the breaker's history and the audit log with your user.\n\nExample:\n  opsdeck breakers \(Kind.command.rawValue) fx"
      )
    }
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The dependency.") var name: String

    func run() throws {
      let runtime = try global.runtime()
      let name = try runtime.requireDependency(self.name)
      let transition = try BreakerAdmin.apply(
        Kind.command, to: name, store: runtime.openStore(.write), at: runtime.clock.now(), actor: Runtime.currentUser())
      Output.line("\(TerminalText.sanitize(name)): \(transition.from.rawValue) → \(transition.to.rawValue)")
    }
  }
}

struct ProbeCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "probe",
    abstract: "Perform a dependency's health check through its breaker and print each outcome.",
    discussion: """
      Each call is a GET of the dependency's url that must answer expect_status (and
      contain body_contains) within its timeouts. Outcomes: ok, failed, slow (longer
      than the breaker's slow_call_duration), rejected (the breaker is open; no call
      was made). The breaker's state is printed after each call. Exits 1 when the
      last call failed or was rejected.

      Examples:
        opsdeck probe fx
        opsdeck probe fx --count 20 --interval 500ms --json
      """)
  @OptionGroup var global: GlobalOptions
  @Argument(help: "The dependency.") var dependency: String
  @Option(help: "How many calls (1 to 100000).") var count = 1
  @Option(help: "The pause between calls, such as 500ms.") var interval: String = "0s"
  @Flag(help: "Print JSON: {\"calls\": [{\"outcome\", \"state\", \"latency_ms\"}, …]}.") var json = false

  func validate() throws {
    guard (1...100_000).contains(count) else { throw ValidationError("invalid --count \(count): expected 1 to 100000") }
  }

  func run() throws {
    let pause: Duration
    do {
      pause = try Duration(parsing: interval)
    } catch {
      throw ValidationError("--interval: \(error.description)")
    }
    let runtime = try global.runtime()
    let name = try runtime.requireDependency(dependency)
    let dependencies = try runtime.dependencies(.write)
    var reports: [CallReport] = []
    for index in 0..<count {
      if index > 0 && pause > .zero { usleep(UInt32(min(pause.milliseconds, 3_600_000) * 1000)) }
      let report = try dependencies.probe(name)
      reports.append(report)
      if !json {
        let status = report.status.map { "HTTP \($0)" } ?? "-"
        Output.line(
          TerminalText.sanitize(
            "\(report.outcome.padding(toLength: 8, withPad: " ", startingAt: 0)) \(report.latencyMilliseconds) ms  \(status)  breaker \(report.state.rawValue)"
              + (report.error.map { "  \($0)" } ?? "")))
      }
    }
    try dependencies.registry.syncAll()
    if json { try Output.json(ProbeJSON(calls: reports.map(ProbeJSON.Call.init))) }
    if let last = reports.last, last.outcome == "failed" || last.outcome == "rejected" { throw ExitCode(1) }
  }
}

/// `breakers --json`: every key, nulls included.
struct BreakerJSON: Encodable {
  let status: BreakerStatus
  init(_ status: BreakerStatus) { self.status = status }
  enum CodingKeys: String, CodingKey {
    case name, state
    case failureRate = "failure_rate"
    case slowCallRate = "slow_call_rate"
    case bufferedCalls = "buffered_calls"
    case failedCalls = "failed_calls"
    case slowCalls = "slow_calls"
    case notPermitted = "not_permitted"
    case openedAt = "opened_at"
    case halfOpenAt = "half_open_at"
    case lastError = "last_error"
    case updatedAt = "updated_at"
  }
  func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(status.name, forKey: .name)
    try container.encode(status.state.rawValue, forKey: .state)
    try container.encode(status.failureRate, forKey: .failureRate)
    try container.encode(status.slowCallRate, forKey: .slowCallRate)
    try container.encode(status.bufferedCalls, forKey: .bufferedCalls)
    try container.encode(status.failedCalls, forKey: .failedCalls)
    try container.encode(status.slowCalls, forKey: .slowCalls)
    try container.encode(status.notPermitted, forKey: .notPermitted)
    try container.encode(status.openedAt, forKey: .openedAt)
    try container.encode(status.halfOpenAt, forKey: .halfOpenAt)
    try container.encode(status.lastError, forKey: .lastError)
    try container.encode(status.updatedAt, forKey: .updatedAt)
  }
}

struct TransitionJSON: Encodable {
  let entry: BreakerHistoryEntry
  init(_ entry: BreakerHistoryEntry) { self.entry = entry }
  enum CodingKeys: String, CodingKey { case at, from, to, reason, actor }
  func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(entry.at, forKey: .at)
    try container.encode(entry.from.rawValue, forKey: .from)
    try container.encode(entry.to.rawValue, forKey: .to)
    try container.encode(entry.reason, forKey: .reason)
    try container.encode(entry.actor, forKey: .actor)
  }
}

struct ProbeJSON: Encodable {
  struct Call: Encodable {
    let outcome: String
    let state: String
    let latencyMilliseconds: Int64
    let status: Int?
    let error: String?
    init(_ report: CallReport) {
      outcome = report.outcome
      state = report.state.rawValue
      latencyMilliseconds = report.latencyMilliseconds
      status = report.status
      error = report.error
    }
    enum CodingKeys: String, CodingKey {
      case outcome, state, status, error
      case latencyMilliseconds = "latency_ms"
    }
    func encode(to encoder: any Encoder) throws {
      var container = encoder.container(keyedBy: CodingKeys.self)
      try container.encode(outcome, forKey: .outcome)
      try container.encode(state, forKey: .state)
      try container.encode(latencyMilliseconds, forKey: .latencyMilliseconds)
      try container.encode(status, forKey: .status)
      try container.encode(error, forKey: .error)
    }
  }
  let calls: [Call]
}
