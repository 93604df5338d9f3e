import Foundation
import Testing

/// Breakers against a real HTTP server on 127.0.0.1, through the real binary.
@Suite struct BreakerTests {
  func prepared(timeout: String = "2s", extra: String = "") throws -> (Workspace, HTTPReceiver, [String]) {
    let workspace = try Workspace()
    let receiver = try HTTPReceiver(in: workspace)
    try workspace.write(
      "ops.toml",
      """
      [dependencies.fx]
      url = "\(receiver.base)/health"
      timeout = "\(timeout)"
      \(extra)
      [dependencies.fx.breaker]
      window_size = 4
      minimum_calls = 4
      wait_in_open = "1s"
      half_open_calls = 2
      """)
    let base = ["--db", workspace.path("ops.db"), "--config", workspace.path("ops.toml")]
    #expect(try workspace.opsdeck(base + ["init", "--no-config"]).status == 0)
    return (workspace, receiver, base)
  }

  func calls(_ outcome: Outcome) throws -> [[String: Any]] {
    let object = try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any]
    return object?["calls"] as? [[String: Any]] ?? []
  }

  @Test func opensRejectsWithoutCallingHalfOpensAndClosesOnRecovery() throws {
    let (workspace, receiver, base) = try prepared()
    try receiver.answer("500")
    let failing = try workspace.opsdeck(base + ["probe", "fx", "--count", "4", "--json"])
    #expect(failing.status == 1)
    let first = try calls(failing)
    #expect(first.map { $0["outcome"] as? String } == ["failed", "failed", "failed", "failed"])
    #expect(first.map { $0["state"] as? String } == ["closed", "closed", "closed", "open"])
    #expect(first.allSatisfy { $0["latency_ms"] is Int })
    // Open: rejected, and the server never sees the call.
    let before = try receiver.count()
    let rejected = try workspace.opsdeck(base + ["probe", "fx", "--json"])
    #expect(try calls(rejected).map { $0["outcome"] as? String } == ["rejected"])
    #expect(try receiver.count() == before)
    let listed = try workspace.opsdeck(base + ["breakers", "--json"])
    #expect(listed.stdout.contains(#""state":"open""#))
    #expect(listed.stdout.contains(#""failure_rate":100"#))
    #expect(listed.stdout.contains(#""not_permitted":1"#))
    // After the wait: two trial calls, then closed.
    try receiver.answer("200")
    usleep(1_100_000)
    let recovered = try workspace.opsdeck(base + ["probe", "fx", "--count", "2", "--json"])
    #expect(recovered.status == 0)
    #expect(try calls(recovered).map { $0["state"] as? String } == ["half_open", "closed"])
    let history = try workspace.opsdeck(base + ["breakers", "history", "fx", "--json"])
    let transitions = try JSONSerialization.jsonObject(with: Data(history.stdout.utf8)) as? [[String: Any]] ?? []
    #expect(transitions.map { $0["to"] as? String } == ["closed", "half_open", "open"])
  }

  @Test func aStalledServerTripsTheTimeoutNamingTheLimit() throws {
    let (workspace, receiver, base) = try prepared(timeout: "300ms")
    try receiver.answer("stall")
    let started = Date()
    let stalled = try workspace.opsdeck(base + ["probe", "fx", "--json"])
    #expect(Date().timeIntervalSince(started) < 5)
    let call = try #require(try calls(stalled).first)
    #expect(call["outcome"] as? String == "failed")
    #expect(call["error"] as? String == "fx: no complete answer within 300ms (timeout)")
    #expect((call["latency_ms"] as? Int ?? 0) >= 300)
  }

  @Test func aTransferSlowerThanTheLowSpeedLimitIsAborted() throws {
    let (workspace, receiver, base) = try prepared(
      timeout: "20s", extra: "low_speed_limit = 1000\nlow_speed_time = \"1s\"")
    try receiver.answer("stall")
    let started = Date()
    let slow = try workspace.opsdeck(base + ["probe", "fx", "--json"])
    #expect(Date().timeIntervalSince(started) < 5)
    #expect(try calls(slow).first?["error"] as? String == "fx: slower than 1000 bytes/s for 1s (low_speed_limit)")
  }

  @Test func aForceOpenByHandRejectsEverywhereAndNamesWhoDidIt() throws {
    let (workspace, receiver, base) = try prepared()
    let env = ["USER": "ana", "SUDO_USER": ""]
    let forced = try workspace.opsdeck(base + ["breakers", "force-open", "fx"], environment: env)
    #expect(forced.stdout == "fx: closed → forced_open\n")
    let again = try workspace.opsdeck(base + ["breakers", "force-open", "fx"], environment: env)
    #expect(again.status == 1)
    #expect(again.stderr == "opsdeck: breaker fx is already forced_open\n")
    let probe = try workspace.opsdeck(base + ["probe", "fx", "--json"])
    #expect(try calls(probe).first?["outcome"] as? String == "rejected")
    #expect(try receiver.count() == 0)
    let history = try workspace.opsdeck(base + ["breakers", "history", "fx"])
    #expect(history.stdout.contains("forced_open") && history.stdout.contains("ana"))
    let unknown = try workspace.opsdeck(base + ["breakers", "reset", "bank"])
    #expect(unknown.status == 2)
    #expect(unknown.stderr == "opsdeck: no dependency named 'bank' (configured: fx, mail; add [dependencies.bank])\n")
    #expect(try workspace.opsdeck(base + ["audit"]).stdout.contains("breaker.force-open"))
  }
}
