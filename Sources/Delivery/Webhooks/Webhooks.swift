import Foundation
import GRDB
import Resilience
import Scheduler
import Storage

/// A customer's endpoint that gets signed JSON POSTs for the events it
/// subscribed to (all when `events` is empty).
public struct WebhookEndpoint: Sendable, Equatable {
  public var id: Int64
  public var url: String
  /// The environment variable holding the signing secret (never the secret).
  public var secretEnv: String
  public var events: [String]
  public var enabled: Bool
  public var disabledReason: String?
  public var consecutiveFailures: Int
  public var delivered: Int
  public var failed: Int
  public var lastDeliveryAt: Date?
  public var createdAt: Date
}

/// One attempt to deliver one event to one endpoint.
public struct WebhookDelivery: Sendable, Equatable {
  public var at: Date
  public var endpointID: Int64
  public var jobID: String
  public var event: String
  public var attempt: Int
  public var status: Int?
  public var latencyMilliseconds: Int64
  /// `ok`, `failed`, `rejected` (the endpoint's breaker is open) or `skipped` (disabled).
  public var outcome: String
  public var error: String?
}

/// How webhooks are delivered (`[webhooks]`).
public struct WebhookSettings: Sendable, Equatable {
  public var queue = "webhooks"
  public var attempts = 6
  public var backoff = Backoff(kind: .exponential, delayMilliseconds: 10_000, jitter: 0.2)
  /// Consecutive failed deliveries after which an endpoint is disabled.
  public var disableAfter = 20
  public var timeouts: HTTPTimeouts = {
    var timeouts = HTTPTimeouts()
    timeouts.connectMilliseconds = 5_000
    timeouts.totalMilliseconds = 15_000
    return timeouts
  }()
  /// Each endpoint's breaker.
  public var breaker: BreakerSettings = {
    var settings = BreakerSettings()
    settings.windowSize = 20
    settings.minimumCalls = 10
    settings.waitInOpenMilliseconds = 60_000
    settings.halfOpenCalls = 2
    return settings
  }()

  public init() {}
}

public struct WebhookInputError: ReportableError, Equatable {
  public let message: String
  public init(_ message: String) { self.message = message }
  public var description: String { TerminalText.sanitize(message) }
  public var isBadInput: Bool { true }
}

/// Outgoing webhooks: endpoints, events fanned out as `webhook.deliver`
/// jobs (retried with backoff by the Scheduler), signed deliveries through
/// each endpoint's breaker, a delivery log, and endpoints that keep
/// failing switched off.
public final class Webhooks: Sendable {
  public static let jobName = "webhook.deliver"
  public let jobs: JobStore
  public let registry: BreakerRegistry
  public let settings: WebhookSettings
  /// Where secrets are read from, by name.
  public let environment: [String: String]

  public init(
    jobs: JobStore, registry: BreakerRegistry, settings: WebhookSettings = WebhookSettings(),
    environment: [String: String] = ProcessInfo.processInfo.environment
  ) {
    self.jobs = jobs
    self.registry = registry
    self.settings = settings
    self.environment = environment
  }

  static func milliseconds(_ date: Date) -> Int64 { date.epochMilliseconds }
  static func date(_ milliseconds: Int64?) -> Date? { milliseconds.map(Date.init(epochMilliseconds:)) }

  // MARK: - Endpoints

  @discardableResult
  public func add(url: String, secretEnv: String, events: [String]) throws -> WebhookEndpoint {
    guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme ?? ""), parsed.host != nil else {
      throw WebhookInputError("invalid URL '\(url)': expected http:// or https:// with a host")
    }
    guard !secretEnv.isEmpty, secretEnv.allSatisfy({ $0 == "_" || $0.isASCII && ($0.isLetter || $0.isNumber) }),
      !(secretEnv.first?.isNumber ?? true)
    else {
      throw WebhookInputError(
        "invalid --secret-env '\(secretEnv)': expected an environment variable name such as HOOK_SECRET")
    }
    for event in events where event.isEmpty || event.contains(where: { $0.isWhitespace || $0 == "," }) {
      throw WebhookInputError("invalid event '\(event)': expected names such as trial.started,plan.upgraded")
    }
    let now = jobs.clock.now()
    let id = try jobs.store.writeTransaction { db -> Int64 in
      try db.execute(
        sql: "INSERT INTO webhook_endpoints (url, secret_env, events, created_at) VALUES (?, ?, ?, ?)",
        arguments: [url, secretEnv, events.joined(separator: ","), Self.milliseconds(now)])
      let id = db.lastInsertedRowID
      try AuditLog.record(
        db, AuditEntry(at: now, actor: jobs.actor, action: "webhook.add", target: "webhook:\(id)", detail: url))
      return id
    }
    return try endpoint(id)
  }

  /// Switches an endpoint back on; its failures in a row start from zero.
  public func enable(_ id: Int64) throws {
    let now = jobs.clock.now()
    try jobs.store.writeTransaction { db in
      try db.execute(
        sql: "UPDATE webhook_endpoints SET enabled = 1, disabled_reason = NULL, consecutive_failures = 0 WHERE id = ?",
        arguments: [id])
      guard db.changesCount == 1 else { throw WebhookInputError("no webhook endpoint \(id)") }
      try AuditLog.record(
        db, AuditEntry(at: now, actor: jobs.actor, action: "webhook.enable", target: "webhook:\(id)", detail: nil))
    }
  }

  public func endpoint(_ id: Int64) throws -> WebhookEndpoint {
    guard let found = try list().first(where: { $0.id == id }) else {
      throw WebhookInputError("no webhook endpoint \(id)")
    }
    return found
  }

  public func list() throws -> [WebhookEndpoint] {
    try jobs.store.pool.read { db in
      try Row.fetchAll(db, sql: "SELECT * FROM webhook_endpoints ORDER BY id").map(Self.endpoint)
    }
  }

  static func endpoint(_ row: Row) -> WebhookEndpoint {
    let events: String = row["events"]
    return WebhookEndpoint(
      id: row["id"], url: row["url"], secretEnv: row["secret_env"],
      events: events.split(separator: ",").map(String.init), enabled: row["enabled"] as Bool,
      disabledReason: row["disabled_reason"], consecutiveFailures: row["consecutive_failures"],
      delivered: row["delivered"], failed: row["failed"], lastDeliveryAt: date(row["last_delivery_at"]),
      createdAt: date(row["created_at"]) ?? Date())
  }

  /// The delivery log, newest first; one endpoint's when given.
  public func log(endpoint: Int64? = nil, limit: Int = 50) throws -> [WebhookDelivery] {
    try jobs.store.pool.read { db in
      try Row.fetchAll(
        db,
        sql: """
          SELECT * FROM webhook_deliveries WHERE ?1 IS NULL OR endpoint_id = ?1 ORDER BY id DESC LIMIT ?2
          """, arguments: [endpoint, limit]
      ).map { row in
        WebhookDelivery(
          at: Self.date(row["at"]) ?? Date(), endpointID: row["endpoint_id"], jobID: row["job_id"],
          event: row["event"], attempt: row["attempt"], status: row["status"], latencyMilliseconds: row["latency_ms"],
          outcome: row["outcome"], error: row["error"])
      }
    }
  }

  // MARK: - Events

  /// One `webhook.deliver` job per enabled endpoint subscribed to `event`.
  /// Returns the jobs' ids.
  @discardableResult
  public func emit(event: String, payload: String = "{}") throws -> [String] {
    guard let data = JSONValue(parsing: payload) else {
      throw WebhookInputError("invalid payload: not JSON (\(payload.prefix(60)))")
    }
    let created = Timestamp.format(jobs.clock.now())
    let targets = try list().filter { $0.enabled && ($0.events.isEmpty || $0.events.contains(event)) }
    var options = JobOptions()
    options.attempts = settings.attempts
    options.backoff = settings.backoff
    let batch = try targets.map { endpoint in
      NewJob(
        name: Self.jobName,
        data: try JSONOutput.string(
          JSONValue.object([
            "endpoint_id": .number(Double(endpoint.id)), "event": .string(event), "created_at": .string(created),
            "payload": data,
          ])), options: options)
    }
    var ids: [String] = []
    for job in batch {
      ids.append(try jobs.add(queue: settings.queue, name: job.name, data: job.data, options: job.options).id)
    }
    return ids
  }

  // MARK: - Delivering

  /// The `webhook.deliver` handler's work: one signed POST through the
  /// endpoint's breaker, logged; a failure throws, so the Scheduler retries.
  public func deliver(_ context: JobContext) async throws -> String? {
    let object = context.dataObject
    guard let number = object["endpoint_id"] as? NSNumber, let event = object["event"] as? String else {
      throw HandlerFailure("webhook.deliver needs data {\"endpoint_id\": N, \"event\": \"...\", \"payload\": {...}}")
    }
    let id = number.int64Value
    let job = context.job
    let attempt = job.attemptsMade + 1
    guard let endpoint = try? endpoint(id), endpoint.enabled else {
      try record(
        id, job: job.id, event: event, attempt: attempt, status: nil, latency: 0, outcome: "skipped",
        error: "endpoint \(id) is disabled or gone")
      return "skipped: endpoint \(id) is disabled or gone"
    }
    guard let secret = environment[endpoint.secretEnv], !secret.isEmpty else {
      throw HandlerFailure("webhook \(id): the secret's environment variable \(endpoint.secretEnv) is not set")
    }
    let payload =
      (try? JSONSerialization.data(withJSONObject: object["payload"] ?? [:], options: [.fragmentsAllowed]))
      .flatMap { JSONValue(parsing: String(decoding: $0, as: UTF8.self)) } ?? .object([:])
    let body = Data(
      try JSONOutput.string(
        JSONValue.object([
          "id": .string(job.id), "event": .string(event),
          "created_at": .string(object["created_at"] as? String ?? ""), "data": payload,
        ])
      ).utf8)
    let name = "webhook:\(id)"
    registry.ensure(name, settings: settings.breaker)
    let permit: BreakerPermit
    do {
      permit = try registry.acquire(name)
    } catch let rejection as BreakerRejection {
      try record(
        id, job: job.id, event: event, attempt: attempt, status: nil, latency: 0, outcome: "rejected",
        error: rejection.description)
      throw HandlerFailure(rejection.description)
    }
    let timestamp = Int64(jobs.clock.now().timeIntervalSince1970)
    let request = HTTPRequest.json(
      endpoint.url, body,
      headers: [
        (WebhookSignature.header, WebhookSignature.sign(body: body, secret: secret, timestamp: timestamp)),
        ("Opsdeck-Event", event), ("Opsdeck-Delivery", job.id),
      ])
    let timeouts = settings.timeouts
    let started = DispatchTime.now().uptimeNanoseconds
    let result: Result<HTTPResponse, HTTPFailure> = try await BlockingPool.http.run {
      do throws(HTTPFailure) {
        return .success(try HTTPClient.perform(request, timeouts: timeouts, label: name))
      } catch {
        return .failure(error)
      }
    }
    let latency = Int64((DispatchTime.now().uptimeNanoseconds - started) / 1_000_000)
    switch result {
    case .success(let response) where (200..<300).contains(response.status):
      try registry.record(permit, .success)
      try record(
        id, job: job.id, event: event, attempt: attempt, status: response.status, latency: latency,
        outcome: "ok", error: nil)
      return "HTTP \(response.status)"
    case .success(let response):
      let error = "\(name): HTTP \(response.status)"
      try registry.record(
        permit,
        Dependencies.isFailure(status: response.status, recordClientErrors: true) ? .failure(error) : .success)
      try record(
        id, job: job.id, event: event, attempt: attempt, status: response.status, latency: latency,
        outcome: "failed", error: error)
      throw HandlerFailure(error)
    case .failure(let failure):
      try registry.record(permit, .failure(failure.message))
      try record(
        id, job: job.id, event: event, attempt: attempt, status: nil, latency: latency, outcome: "failed",
        error: failure.message)
      throw HandlerFailure(failure.message)
    }
  }

  /// The delivery log row and the endpoint's counters, in one transaction;
  /// the endpoint is disabled (and audited) once it has failed
  /// `disable_after` times in a row.
  private func record(
    _ id: Int64, job: String, event: String, attempt: Int, status: Int?, latency: Int64, outcome: String,
    error: String?
  ) throws {
    let now = jobs.clock.now()
    let at = Self.milliseconds(now)
    let limit = settings.disableAfter
    let actor = jobs.actor
    try jobs.store.writeTransaction { db in
      guard try Bool.fetchOne(db, sql: "SELECT 1 FROM webhook_endpoints WHERE id = ?", arguments: [id]) != nil else {
        return
      }
      try db.execute(
        sql: """
          INSERT INTO webhook_deliveries (endpoint_id, job_id, event, attempt, at, status, latency_ms, outcome, error)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
          """, arguments: [id, job, event, attempt, at, status, latency, outcome, error])
      switch outcome {
      case "ok":
        try db.execute(
          sql: """
            UPDATE webhook_endpoints SET consecutive_failures = 0, delivered = delivered + 1, last_delivery_at = ?
            WHERE id = ?
            """, arguments: [at, id])
      case "failed", "rejected":
        try db.execute(
          sql: """
            UPDATE webhook_endpoints SET consecutive_failures = consecutive_failures + 1, failed = failed + 1,
              last_delivery_at = ?
            WHERE id = ?
            """, arguments: [at, id])
        let failures =
          try Int.fetchOne(db, sql: "SELECT consecutive_failures FROM webhook_endpoints WHERE id = ?", arguments: [id])
          ?? 0
        if failures >= limit,
          try Int.fetchOne(db, sql: "SELECT enabled FROM webhook_endpoints WHERE id = ?", arguments: [id]) == 1
        {
          let reason = "\(failures) failed deliveries in a row; last: \(error ?? outcome)"
          try db.execute(
            sql: "UPDATE webhook_endpoints SET enabled = 0, disabled_reason = ? WHERE id = ?", arguments: [reason, id])
          try AuditLog.record(
            db,
            AuditEntry(at: now, actor: actor, action: "webhook.disable", target: "webhook:\(id)", detail: reason))
        }
      default: break
      }
      // The log keeps the last 1,000 deliveries per endpoint.
      try db.execute(
        sql: """
          DELETE FROM webhook_deliveries WHERE endpoint_id = ?1 AND id <= coalesce(
            (SELECT id FROM webhook_deliveries WHERE endpoint_id = ?1 ORDER BY id DESC LIMIT 1 OFFSET 1000), 0)
          """, arguments: [id])
    }
  }
}

/// `webhook.deliver`: the Scheduler's handler for webhook jobs.
public struct WebhookDeliverHandler: JobHandler {
  public let webhooks: Webhooks
  public init(webhooks: Webhooks) { self.webhooks = webhooks }
  public func run(_ context: JobContext) async throws -> String? { try await webhooks.deliver(context) }
}
