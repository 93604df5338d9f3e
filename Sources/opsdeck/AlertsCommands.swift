import Alerting
import ArgumentParser
import Foundation
import OpsDeck
import Storage

struct AlertsCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "alerts",
    abstract: "Operational alerts: raise, list, acknowledge, resolve, snooze, silence, ingest.",
    subcommands: [
      Raise.self, List.self, Show.self, History.self, Ack.self, Unack.self, Resolve.self, Snooze.self, SilenceAdd.self,
      Silences.self, ExpireSilence.self, Ingest.self,
    ],
    defaultSubcommand: List.self)

  /// Acknowledges or resolves `texts` (all or none), then asks for a look
  /// at once so receivers such as PagerDuty hear of it.
  static func change(
    _ global: GlobalOptions, _ texts: [String], done: String, _ body: (AlertStore, [Int64]) throws -> Void
  ) throws {
    let ids = try Self.ids(texts)
    let runtime = try global.runtime()
    try body(runtime.alertStore(.write), ids)
    try? AlertJobs.watchNow(runtime.jobStore(.write))
    Output.line("\(done) " + ids.map(String.init).joined(separator: ", "))
  }

  static func ids(_ texts: [String]) throws -> [Int64] {
    try texts.map { text in
      guard let id = Int64(text), id > 0 else { throw ValidationError("invalid alert id '\(text)': expected a number") }
      return id
    }
  }

  struct Raise: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Open an alert (or repeat the open one with the same labels); prints its id.",
      discussion: """
        Alerts with the same labels (and alertname, the summary unless given) are one
        alert: a repeat raises its count. --dedup-key names the alert instead.

        Example:
          opsdeck alerts raise --severity critical --summary "backups failed" --label service=db --runbook https://runbooks/backups
        """)
    @OptionGroup var global: GlobalOptions
    @Option(help: "critical, error, warning or info.") var severity: String
    @Option(help: "One line saying what is wrong.") var summary: String
    @Option(name: .customLong("label"), help: "A label, name=value (repeatable).") var labels: [String] = []
    @Option(help: "Who raises it (default: cli).") var source = "cli"
    @Option(help: "Dedup by this key instead of the labels.") var dedupKey: String?
    @Option(help: "More detail.") var description: String?
    @Option(help: "Where the fix is written down.") var runbook: String?

    func run() throws {
      var parsed: [String: String] = [:]
      for label in labels {
        let parts = label.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2, !parts[0].isEmpty else {
          throw ValidationError("invalid --label '\(label)': expected name=value")
        }
        parsed[parts[0]] = parts[1]
      }
      let alert = NewAlert(
        severity: try Severity.parse(severity), summary: summary, labels: parsed, source: source, dedupKey: dedupKey,
        description: description, runbookURL: runbook)
      let raised = try global.runtime().alertStore(.write).raise(alert)
      Output.line(String(raised.id))
    }
  }

  struct List: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Open alerts (or those of a status), most severe and oldest first.",
      discussion: "Example:\n  opsdeck alerts list --status firing --severity critical --json")
    @OptionGroup var global: GlobalOptions
    @Option(help: "firing, acknowledged, resolved or silenced (default: every open alert).") var status: String?
    @Option(help: "Only this severity.") var severity: String?
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
      let alerts = try global.runtime().alertStore(.view).list(
        status: status, severity: try severity.map { try Severity.parse($0) })
      if json { return try Output.json(alerts.map(AlertJSON.init)) }
      let now = Date()
      Output.columns(
        ["ID", "SEVERITY", "STATUS", "SUMMARY", "SOURCE", "COUNT", "AGE", "ACKED BY"],
        alerts.map {
          [
            String($0.id), $0.severity.rawValue, $0.silenced ? "\($0.status.rawValue) (silenced)" : $0.status.rawValue,
            $0.summary, $0.source, String($0.count), Timestamp.span(from: now, to: $0.firstSeen).text,
            $0.acknowledgedBy ?? "",
          ]
        })
    }
  }

  struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "One alert: labels, annotations, times, who acknowledged.",
      discussion: "Example:\n  opsdeck alerts show 12 --json")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The alert's id.") var id: String
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
      let alert = try global.runtime().alertStore(.view).alert(try AlertsCommand.ids([id])[0])
      if json { return try Output.json(AlertJSON(alert)) }
      var rows: [(String, String)] = [
        ("id", String(alert.id)), ("severity", alert.severity.rawValue), ("status", alert.status.rawValue),
        ("summary", alert.summary), ("fingerprint", alert.fingerprint), ("source", alert.source),
        ("count", String(alert.count)), ("first seen", Timestamp.format(alert.firstSeen)),
        ("last seen", Timestamp.format(alert.lastSeen)),
      ]
      rows += alert.labels.sorted { $0.key < $1.key }.map { ("label " + $0.key, $0.value) }
      if let description = alert.description { rows.append(("description", description)) }
      if let runbook = alert.runbookURL { rows.append(("runbook", runbook)) }
      if let by = alert.acknowledgedBy { rows.append(("acknowledged by", by)) }
      if alert.silenced { rows.append(("silenced", "yes")) }
      Output.table(rows)
    }
  }

  struct History: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "An alert's audit trail: every change with time, actor and note.",
      discussion: "Example:\n  opsdeck alerts history 12")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The alert's id.") var id: String
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
      let events = try global.runtime().alertStore(.view).history(try AlertsCommand.ids([id])[0])
      if json { return try Output.json(events.map(AlertEventJSON.init)) }
      Output.columns(
        ["AT", "WHAT", "WHO", "NOTE"], events.map { [Timestamp.format($0.at), $0.kind, $0.actor, $0.note ?? ""] })
    }
  }

  struct Ack: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "ack", abstract: "Acknowledge firing alerts (all or none).",
      discussion: "Example:\n  opsdeck alerts ack 12 13 --note \"on it\"")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Alert ids.") var ids: [String]
    @Option(help: "A note for the audit trail.") var note: String?

    func run() throws {
      try AlertsCommand.change(global, ids, done: "acknowledged") { try $0.acknowledge($1, note: note) }
    }
  }

  struct Unack: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "unack", abstract: "Undo an acknowledgement: the alert fires again.",
      discussion: "Example:\n  opsdeck alerts unack 12")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The alert's id.") var id: String

    func run() throws {
      let id = try AlertsCommand.ids([id])[0]
      try global.runtime().alertStore(.write).unacknowledge(id)
      Output.line("alert \(id) is firing again")
    }
  }

  struct Resolve: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Resolve alerts (all or none); they stay in the history.",
      discussion: "Example:\n  opsdeck alerts resolve 12 --note \"disk cleaned\"")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Alert ids.") var ids: [String]
    @Option(help: "A note for the audit trail.") var note: String?

    func run() throws {
      try AlertsCommand.change(global, ids, done: "resolved") { try $0.resolve($1, note: note) }
    }
  }

  struct Snooze: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Quiet one alert for a while (recorded, not notified).",
      discussion: "Example:\n  opsdeck alerts snooze 12 --for 2h")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The alert's id.") var id: String
    @Option(name: .customLong("for"), help: "How long, such as 30m or 2h.") var duration: String

    func run() throws {
      let id = try AlertsCommand.ids([id])[0]
      let length = try Parse.milliseconds(duration, flag: "--for") ?? 0
      let runtime = try global.runtime()
      let until = runtime.clock.now().addingTimeInterval(Double(length) / 1000)
      try runtime.alertStore(.write).snooze(id, until: until)
      Output.line("alert \(id) snoozed until \(Timestamp.format(until))")
    }
  }

  struct SilenceAdd: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "silence", abstract: "Silence alerts whose labels match every --match; prints the silence id.",
      discussion: """
        Matchers: name=value, name!=value, name=~regex, name!~regex (anchored);
        severity matches as a label. Silenced alerts are still recorded, not notified.

        Example:
          opsdeck alerts silence --match service=db --match severity=~warning|info --for 2h --comment "maintenance"
        """)
    @OptionGroup var global: GlobalOptions
    @Option(name: .customLong("match"), help: "A matcher (repeatable).") var matchers: [String] = []
    @Option(name: .customLong("for"), help: "How long, such as 2h.") var duration: String
    @Option(help: "Why.") var comment: String

    func run() throws {
      let parsed = try matchers.map { try LabelMatcher(parsing: $0) }
      let length = Duration.milliseconds(try Parse.milliseconds(duration, flag: "--for") ?? 0)
      let id = try global.runtime().alertStore(.write).silence(matchers: parsed, for: length, comment: comment)
      Output.line(String(id))
    }
  }

  struct Silences: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Every silence with its state (pending, active, expired).",
      discussion: "Example:\n  opsdeck alerts silences --json")
    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
      let runtime = try global.runtime()
      let silences = try runtime.alertStore(.view).silences()
      let now = runtime.clock.now()
      if json { return try Output.json(silences.map { SilenceJSON($0, now: now) }) }
      Output.columns(
        ["ID", "STATE", "MATCHERS", "STARTS", "ENDS", "BY", "COMMENT"],
        silences.map {
          [
            String($0.id), $0.state(at: now).rawValue, $0.matchers.map(\.description).joined(separator: ","),
            Timestamp.format($0.startsAt), Timestamp.format($0.endsAt), $0.author, $0.comment,
          ]
        })
    }
  }

  struct ExpireSilence: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "expire-silence", abstract: "End a silence now.",
      discussion: "Example:\n  opsdeck alerts expire-silence 3")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The silence's id.") var id: Int64

    func run() throws {
      try global.runtime().alertStore(.write).expireSilence(id)
      Output.line("silence \(id) expired")
    }
  }

  struct Ingest: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Take in an Alertmanager webhook payload (version 4) from a file or stdin.",
      discussion: """
        Firing alerts open or repeat (identified by Alertmanager's fingerprint of their
        labels), resolved ones resolve; unknown fields are ignored.

        Example:
          opsdeck alerts ingest --format alertmanager payload.json
        """)
    @OptionGroup var global: GlobalOptions
    @Option(help: "The payload's format: alertmanager.") var format: String
    @Argument(help: "The payload file, or - for stdin.") var file: String

    func run() throws {
      guard format == "alertmanager" else {
        throw ValidationError("invalid --format '\(format)': expected alertmanager")
      }
      let outcome = try AlertmanagerIngest.ingest(Parse.input(file), into: global.runtime().alertStore(.write))
      Output.line("\(outcome.opened) opened, \(outcome.repeated) repeated, \(outcome.resolved) resolved")
    }
  }
}

/// `alerts list --json` and `alerts show --json`: every key, nulls included.
struct AlertJSON: Encodable {
  let alert: Alert
  init(_ alert: Alert) { self.alert = alert }
  enum CodingKeys: String, CodingKey {
    case id, fingerprint, severity, status, summary, description, labels, source, count, silenced
    case runbookURL = "runbook_url"
    case firstSeen = "first_seen"
    case lastSeen = "last_seen"
    case acknowledgedBy = "acknowledged_by"
    case acknowledgedAt = "acknowledged_at"
    case resolvedAt = "resolved_at"
    case snoozedUntil = "snoozed_until"
  }
  func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(alert.id, forKey: .id)
    try container.encode(alert.fingerprint, forKey: .fingerprint)
    try container.encode(alert.severity, forKey: .severity)
    try container.encode(alert.status, forKey: .status)
    try container.encode(alert.summary, forKey: .summary)
    try container.encode(alert.description, forKey: .description)
    try container.encode(alert.runbookURL, forKey: .runbookURL)
    try container.encode(alert.labels, forKey: .labels)
    try container.encode(alert.source, forKey: .source)
    try container.encode(alert.count, forKey: .count)
    try container.encode(alert.firstSeen, forKey: .firstSeen)
    try container.encode(alert.lastSeen, forKey: .lastSeen)
    try container.encode(alert.acknowledgedBy, forKey: .acknowledgedBy)
    try container.encode(alert.acknowledgedAt, forKey: .acknowledgedAt)
    try container.encode(alert.resolvedAt, forKey: .resolvedAt)
    try container.encode(alert.snoozedUntil, forKey: .snoozedUntil)
    try container.encode(alert.silenced, forKey: .silenced)
  }
}

struct AlertEventJSON: Encodable {
  let event: AlertEvent
  init(_ event: AlertEvent) { self.event = event }
  enum CodingKeys: String, CodingKey { case at, kind, actor, note }
  func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(event.at, forKey: .at)
    try container.encode(event.kind, forKey: .kind)
    try container.encode(event.actor, forKey: .actor)
    try container.encode(event.note, forKey: .note)
  }
}

struct SilenceJSON: Encodable {
  let silence: Silence
  let now: Date
  init(_ silence: Silence, now: Date) {
    self.silence = silence
    self.now = now
  }
  enum CodingKeys: String, CodingKey {
    case id, state, matchers, author, comment
    case startsAt = "starts_at"
    case endsAt = "ends_at"
  }
  func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(silence.id, forKey: .id)
    try container.encode(silence.state(at: now).rawValue, forKey: .state)
    try container.encode(silence.matchers.map(\.description), forKey: .matchers)
    try container.encode(silence.startsAt, forKey: .startsAt)
    try container.encode(silence.endsAt, forKey: .endsAt)
    try container.encode(silence.author, forKey: .author)
    try container.encode(silence.comment, forKey: .comment)
  }
}
