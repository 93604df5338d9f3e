import ArgumentParser
import Delivery
import Foundation
import OpsDeck
import Resilience
import Storage

struct WebhooksCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "webhooks",
    abstract: "Outgoing webhooks: endpoints, events, the delivery log.",
    discussion: """
      Each event becomes one `webhook.deliver` job per subscribed endpoint on the
      `webhooks` queue: a JSON POST signed with HMAC-SHA256 (header Opsdeck-Signature:
      t=UNIX_SECONDS,v1=HEX over "t.BODY", with the secret from the endpoint's
      environment variable), retried with backoff, through the endpoint's breaker.
      An endpoint that fails 20 deliveries in a row is disabled.
      """,
    subcommands: [Add.self, List.self, Log.self, Emit.self, Enable.self], defaultSubcommand: List.self)

  static func webhooks(_ runtime: Runtime, _ purpose: Runtime.Purpose) throws -> Webhooks {
    let jobs = try runtime.jobStore(purpose)
    return Webhooks(
      jobs: jobs, registry: BreakerRegistry(store: jobs.store, clock: runtime.clock, settings: [:]),
      settings: runtime.config.webhooks)
  }

  struct Add: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Add an endpoint; prints its id.",
      discussion: """
        The secret itself is never stored: the process that delivers reads it from the
        environment variable named by --secret-env.

        Example:
          opsdeck webhooks add https://hooks.example.com/opsdeck --secret-env ACME_HOOK_SECRET --events trial.started,plan.upgraded
        """)
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The endpoint's http:// or https:// URL.") var url: String
    @Option(help: "The environment variable holding the signing secret.") var secretEnv: String
    @Option(help: "Only these events, comma-separated (default: every event).") var events: String?
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
      let list = events.map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) } ?? []
      let endpoint = try WebhooksCommand.webhooks(global.runtime(), .write).add(
        url: url, secretEnv: secretEnv, events: list)
      if json { return try Output.json(EndpointJSON(endpoint)) }
      Output.line(String(endpoint.id))
    }
  }

  struct List: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Every endpoint: URL, events, enabled, deliveries, failures in a row.",
      discussion: "Example:\n  opsdeck webhooks list --json")
    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
      let endpoints = try WebhooksCommand.webhooks(global.runtime(), .view).list()
      if json { return try Output.json(endpoints.map(EndpointJSON.init)) }
      Output.columns(
        ["ID", "URL", "EVENTS", "STATE", "DELIVERED", "FAILED", "IN A ROW", "LAST"],
        endpoints.map {
          [
            String($0.id), $0.url, $0.events.isEmpty ? "*" : $0.events.joined(separator: ","),
            $0.enabled ? "enabled" : "disabled", String($0.delivered), String($0.failed),
            String($0.consecutiveFailures), $0.lastDeliveryAt.map(Timestamp.format) ?? "-",
          ]
        })
    }
  }

  struct Log: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Deliveries, newest first: when, endpoint, event, attempt, status, latency, outcome.",
      discussion: "Example:\n  opsdeck webhooks log --endpoint 1 --json")
    @OptionGroup var global: GlobalOptions
    @Option(help: "Only this endpoint's deliveries.") var endpoint: Int64?
    @Option(help: "At most this many.") var limit = 50
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
      let entries = try WebhooksCommand.webhooks(global.runtime(), .view).log(endpoint: endpoint, limit: limit)
      if json { return try Output.json(entries.map(DeliveryJSON.init)) }
      Output.columns(
        ["AT", "ENDPOINT", "EVENT", "JOB", "TRY", "STATUS", "MS", "OUTCOME", "ERROR"],
        entries.map {
          [
            Timestamp.format($0.at), String($0.endpointID), $0.event, $0.jobID, String($0.attempt),
            $0.status.map(String.init) ?? "-", String($0.latencyMilliseconds), $0.outcome, $0.error ?? "",
          ]
        })
    }
  }

  struct Emit: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Send an event to every subscribed endpoint (as webhook.deliver jobs); prints the job ids.",
      discussion: "Example:\n  opsdeck webhooks emit reconciliation.completed --data '{\"account\": \"acc_1042\"}'")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The event's name.") var event: String
    @Option(help: "The event's payload, as JSON.") var data = "{}"

    func run() throws {
      let ids = try WebhooksCommand.webhooks(global.runtime(), .write).emit(event: event, payload: data)
      for id in ids { Output.line(id) }
    }
  }

  struct Enable: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Switch a disabled endpoint back on (its failures-in-a-row count starts again).",
      discussion: "Example:\n  opsdeck webhooks enable 3")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The endpoint's id.") var id: Int64

    func run() throws {
      try WebhooksCommand.webhooks(global.runtime(), .write).enable(id)
      Output.line("enabled webhook endpoint \(id)")
    }
  }
}

struct EndpointJSON: Encodable {
  let endpoint: WebhookEndpoint
  init(_ endpoint: WebhookEndpoint) { self.endpoint = endpoint }
  enum CodingKeys: String, CodingKey {
    case id, url, events, enabled, delivered, failed
    case secretEnv = "secret_env"
    case disabledReason = "disabled_reason"
    case consecutiveFailures = "consecutive_failures"
    case lastDeliveryAt = "last_delivery_at"
    case createdAt = "created_at"
  }
  func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(endpoint.id, forKey: .id)
    try container.encode(endpoint.url, forKey: .url)
    try container.encode(endpoint.secretEnv, forKey: .secretEnv)
    try container.encode(endpoint.events, forKey: .events)
    try container.encode(endpoint.enabled, forKey: .enabled)
    try container.encode(endpoint.disabledReason, forKey: .disabledReason)
    try container.encode(endpoint.consecutiveFailures, forKey: .consecutiveFailures)
    try container.encode(endpoint.delivered, forKey: .delivered)
    try container.encode(endpoint.failed, forKey: .failed)
    try container.encode(endpoint.lastDeliveryAt, forKey: .lastDeliveryAt)
    try container.encode(endpoint.createdAt, forKey: .createdAt)
  }
}

struct DeliveryJSON: Encodable {
  let delivery: WebhookDelivery
  init(_ delivery: WebhookDelivery) { self.delivery = delivery }
  enum CodingKeys: String, CodingKey {
    case at, event, attempt, status, outcome, error
    case endpointID = "endpoint_id"
    case jobID = "job_id"
    case latencyMilliseconds = "latency_ms"
  }
  func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(delivery.at, forKey: .at)
    try container.encode(delivery.endpointID, forKey: .endpointID)
    try container.encode(delivery.jobID, forKey: .jobID)
    try container.encode(delivery.event, forKey: .event)
    try container.encode(delivery.attempt, forKey: .attempt)
    try container.encode(delivery.status, forKey: .status)
    try container.encode(delivery.latencyMilliseconds, forKey: .latencyMilliseconds)
    try container.encode(delivery.outcome, forKey: .outcome)
    try container.encode(delivery.error, forKey: .error)
  }
}
