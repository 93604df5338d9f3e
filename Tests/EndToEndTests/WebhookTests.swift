import Foundation
import Testing

/// Webhooks delivered by the real binary to a real local server that checks
/// their signatures.
@Suite struct WebhookTests {
  let secret = ["HOOK_SECRET": "whsec_test_123"]

  func prepared(_ receiver: HTTPReceiver, in workspace: Workspace, config: String = "") throws -> [String] {
    try workspace.write("ops.toml", config)
    let base = ["--db", workspace.path("ops.db"), "--config", workspace.path("ops.toml")]
    #expect(try workspace.opsdeck(base + ["init", "--no-config"]).status == 0)
    return base
  }

  @Test func aSignedEventReachesOnlyItsSubscribersAndIsLogged() throws {
    let workspace = try Workspace()
    let receiver = try HTTPReceiver(in: workspace, secret: "whsec_test_123")
    let base = try prepared(receiver, in: workspace)
    let added = try workspace.opsdeck(
      base + ["webhooks", "add", "\(receiver.base)/hook", "--secret-env", "HOOK_SECRET", "--events", "trial.started"])
    #expect(added.stdout == "1\n", "\(added.stderr)")
    _ = try workspace.opsdeck(
      base + ["webhooks", "add", "\(receiver.base)/other", "--secret-env", "HOOK_SECRET", "--events", "plan.upgraded"])
    let emitted = try workspace.opsdeck(
      base + ["webhooks", "emit", "trial.started", "--data", #"{"account": "acc_1042"}"#])
    #expect(emitted.stdout.split(separator: "\n").count == 1)
    let work = try workspace.opsdeck(base + ["work", "--until-empty"], environment: secret)
    #expect(work.status == 0, "\(work.stderr)")
    let requests = try receiver.requests()
    #expect(requests.count == 1)
    let request = try #require(requests.first)
    #expect(request["path"] as? String == "/hook")
    #expect(request["signature_ok"] as? Bool == true)
    let headers = request["headers"] as? [String: String] ?? [:]
    #expect(headers["Opsdeck-Event"] == "trial.started")
    #expect(headers["Content-Type"] == "application/json")
    let body = try JSONSerialization.jsonObject(with: Data((request["body"] as? String ?? "").utf8)) as? [String: Any]
    #expect(body?["event"] as? String == "trial.started")
    #expect((body?["data"] as? [String: Any])?["account"] as? String == "acc_1042")
    #expect(body?["id"] as? String == emitted.stdout.trimmingCharacters(in: .newlines))
    let log = try workspace.opsdeck(base + ["webhooks", "log", "--json"])
    let entries = try JSONSerialization.jsonObject(with: Data(log.stdout.utf8)) as? [[String: Any]] ?? []
    #expect(entries.map { $0["outcome"] as? String } == ["ok"])
    #expect(entries.first?["status"] as? Int == 200)
  }

  @Test func aWrongSecretFailsTheReceiversCheck() throws {
    let workspace = try Workspace()
    let receiver = try HTTPReceiver(in: workspace, secret: "whsec_test_123")
    let base = try prepared(receiver, in: workspace, config: "[webhooks]\nattempts = 1\n")
    _ = try workspace.opsdeck(base + ["webhooks", "add", "\(receiver.base)/hook", "--secret-env", "HOOK_SECRET"])
    _ = try workspace.opsdeck(base + ["webhooks", "emit", "trial.started"])
    _ = try workspace.opsdeck(base + ["work", "--until-empty"], environment: ["HOOK_SECRET": "guessed"])
    #expect(try receiver.requests().first?["signature_ok"] as? Bool == false)
  }

  @Test func failuresAreRetriedThenTheEndpointIsDisabled() throws {
    let workspace = try Workspace()
    let receiver = try HTTPReceiver(in: workspace, secret: "whsec_test_123")
    let base = try prepared(
      receiver, in: workspace, config: "[webhooks]\nattempts = 3\nbackoff = \"fixed:20ms\"\ndisable_after = 5\n")
    _ = try workspace.opsdeck(base + ["webhooks", "add", "\(receiver.base)/hook", "--secret-env", "HOOK_SECRET"])
    try receiver.answer("500")
    _ = try workspace.opsdeck(base + ["webhooks", "emit", "a"])
    _ = try workspace.opsdeck(base + ["webhooks", "emit", "b"])
    // One at a time, so the order of tries is known (with more in flight,
    // a try already under way when the endpoint is disabled still goes out).
    let work = try workspace.opsdeck(base + ["work", "--until-empty", "--concurrency", "1"], environment: secret)
    #expect(work.status == 0)
    // Two events, three tries each: the fifth failure in a row disables the
    // endpoint, and the sixth try is skipped.
    #expect(try receiver.count() == 5)
    let list = try workspace.opsdeck(base + ["webhooks", "list", "--json"])
    let endpoint = try #require(
      (try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])?.first)
    #expect(endpoint["enabled"] as? Bool == false)
    #expect(
      (endpoint["disabled_reason"] as? String)?.hasPrefix("5 failed deliveries in a row; last: webhook:1: HTTP 500")
        == true)
    let log = try workspace.opsdeck(base + ["webhooks", "log", "--json"])
    let outcomes = (try JSONSerialization.jsonObject(with: Data(log.stdout.utf8)) as? [[String: Any]] ?? [])
      .compactMap { $0["outcome"] as? String }
    #expect(outcomes.sorted() == ["failed", "failed", "failed", "failed", "failed", "skipped"])
    #expect(try workspace.opsdeck(base + ["audit"]).stdout.contains("webhook.disable"))
    #expect(try workspace.opsdeck(base + ["webhooks", "enable", "1"]).stdout == "enabled webhook endpoint 1\n")
  }

  @Test(arguments: [
    (["webhooks", "add", "ftp://x.example/h", "--secret-env", "S"], "invalid URL 'ftp://x.example/h'"),
    (["webhooks", "add", "https://x.example/h", "--secret-env", "1BAD"], "invalid --secret-env '1BAD'"),
    (["webhooks", "emit", "a", "--data", "{nope"], "invalid payload: not JSON"),
  ])
  func badInputIsOneLine(_ arguments: [String], _ message: String) throws {
    let workspace = try Workspace()
    let base = ["--db", workspace.path("ops.db")]
    #expect(try workspace.opsdeck(base + ["init", "--no-config"]).status == 0)
    let outcome = try workspace.opsdeck(base + arguments)
    #expect(outcome.status == 2)
    #expect(outcome.stderr.hasPrefix("opsdeck: " + message), "\(outcome.stderr)")
  }
}
