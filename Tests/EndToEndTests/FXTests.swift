import Foundation
import Testing

/// `fx sync` and `fx rates` on a feed in a file and behind a local server.
@Suite struct FXTests {
  static let ecb = """
    <?xml version="1.0" encoding="UTF-8"?>
    <gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01" xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">
      <gesmes:subject>Reference rates</gesmes:subject>
      <Cube>
        <Cube time='2026-11-24'>
          <Cube currency='USD' rate='1.0523'/>
          <Cube currency='GBP' rate='0.8311'/>
          <Cube currency='CHF' rate='0.9312'/>
        </Cube>
      </Cube>
    </gesmes:Envelope>
    """

  func rates(_ outcome: Outcome) throws -> [[String: Any]] {
    try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [[String: Any]] ?? []
  }

  @Test func theECBFeedIsStoredAndABrokenOneKeepsTheLastGoodSet() throws {
    let workspace = try Workspace()
    try workspace.write("ecb.xml", Self.ecb)
    try workspace.write("ops.toml", "[fx]\nurl = \"file://\(workspace.path("ecb.xml"))\"\n")
    let base = ["--db", workspace.path("ops.db"), "--config", workspace.path("ops.toml")]
    #expect(try workspace.opsdeck(base + ["init", "--no-config"]).status == 0)
    let synced = try workspace.opsdeck(base + ["fx", "sync"])
    #expect(synced.stdout == "stored 3 rates against EUR for 2026-11-24\n", "\(synced.stderr)")
    let fresh = try rates(try workspace.opsdeck(base + ["--now", "2026-11-25T12:00:00Z", "fx", "rates", "--json"]))
    #expect(fresh.map { $0["currency"] as? String } == ["CHF", "GBP", "USD"])
    #expect(fresh.first { $0["currency"] as? String == "USD" }?["rate"] as? Double == 1.0523)
    #expect(fresh.allSatisfy { $0["stale"] as? Bool == false && $0["base"] as? String == "EUR" })
    let old = try rates(try workspace.opsdeck(base + ["--now", "2026-12-05T12:00:00Z", "fx", "rates", "--json"]))
    #expect(old.allSatisfy { $0["stale"] as? Bool == true })
    try workspace.write("ecb.xml", "<html>maintenance</html>")
    let broken = try workspace.opsdeck(base + ["fx", "sync"])
    #expect(broken.status == 1)
    #expect(
      broken.stderr
        == "opsdeck: fx: not an ECB feed (no <Cube time=\"YYYY-MM-DD\">); the last good rates are kept\n")
    #expect(try rates(try workspace.opsdeck(base + ["fx", "rates", "--json"])).count == 3)
  }

  @Test func aFailingProviderKeepsTheLastGoodSetAndCountsForTheBreaker() throws {
    let workspace = try Workspace()
    let receiver = try HTTPReceiver(in: workspace)
    try workspace.write("ops.toml", "[fx]\nurl = \"\(receiver.base)/rates\"\nformat = \"json\"\n")
    let base = ["--db", workspace.path("ops.db"), "--config", workspace.path("ops.toml")]
    #expect(try workspace.opsdeck(base + ["init", "--no-config"]).status == 0)
    try receiver.answer("500")
    let failed = try workspace.opsdeck(base + ["fx", "sync"])
    #expect(failed.status == 1)
    #expect(failed.stderr == "opsdeck: fx: \(receiver.base)/rates answered HTTP 500; the last good rates are kept\n")
    let breakers = try workspace.opsdeck(base + ["breakers", "--json"])
    #expect(breakers.stdout.contains(#""last_error":"fx: HTTP 500""#))
    // The receiver's 200 body is not a rates document: refused, nothing stored.
    try receiver.answer("200")
    let wrong = try workspace.opsdeck(base + ["fx", "sync"])
    #expect(wrong.status == 1)
    #expect(wrong.stderr.hasPrefix("opsdeck: fx: expected {\"base\": \"EUR\""))
    #expect(try rates(try workspace.opsdeck(base + ["fx", "rates", "--json"])).isEmpty)
  }

  @Test func aJSONFeedFromAFile() throws {
    let workspace = try Workspace()
    try workspace.write("rates.json", #"{"base": "USD", "date": "2026-11-24", "rates": {"EUR": 0.95, "JPY": 151.2}}"#)
    try workspace.write(
      "ops.toml", "[fx]\nurl = \"file://\(workspace.path("rates.json"))\"\nformat = \"json\"\n")
    let base = ["--db", workspace.path("ops.db"), "--config", workspace.path("ops.toml")]
    #expect(try workspace.opsdeck(base + ["init", "--no-config"]).status == 0)
    #expect(try workspace.opsdeck(base + ["fx", "sync"]).stdout == "stored 2 rates against USD for 2026-11-24\n")
    let schedules = try workspace.opsdeck(base + ["config", "check", "--json"])
    #expect(schedules.status == 0)
  }

  /// With a feed and a dependency with a url, the config's engine schedules
  /// exist (fx.sync on its cron, health.check every minute), and a
  /// health.check job probes and records through the breakers.
  @Test func engineSchedulesAndAHealthCheckJob() throws {
    let workspace = try Workspace()
    let receiver = try HTTPReceiver(in: workspace)
    try workspace.write("ecb.xml", Self.ecb)
    try workspace.write(
      "ops.toml",
      """
      [fx]
      url = "file://\(workspace.path("ecb.xml"))"
      [dependencies.api]
      url = "\(receiver.base)/health"
      """)
    let base = ["--db", workspace.path("ops.db"), "--config", workspace.path("ops.toml")]
    #expect(try workspace.opsdeck(base + ["init", "--no-config"]).status == 0)
    let run = try Programs.start(Programs.opsdeck, base + ["run"], in: workspace.url)
    var listed = ""
    for _ in 0..<200 where !listed.contains("health.check") {
      usleep(50_000)
      listed = (try? workspace.opsdeck(base + ["schedules", "list"]).stdout) ?? ""
    }
    kill(run.pid, SIGTERM)
    _ = try run.wait(timeout: 30)
    #expect(listed.contains("fx.sync") && listed.contains("30 16 * * 1-5"), "\(listed)")
    #expect(listed.contains("health.check"))
    // The first health.check ran when the schedule was made.
    #expect(try scalar(workspace.path("ops.db"), "SELECT count(*) FROM health_checks WHERE name = 'api'") >= 1)
    #expect(try receiver.count() >= 1)
  }

  /// The default configuration syncs the ECB's feed on weekdays; `url = ""` turns it off.
  @Test func theDefaultConfigHasTheFXScheduleAndAnEmptyURLTurnsItOff() throws {
    let workspace = try Workspace()
    try workspace.write("default.toml", "")
    try workspace.write("off.toml", "[fx]\nurl = \"\"\n")
    let db = ["--db", workspace.path("ops.db")]
    #expect(try workspace.opsdeck(db + ["init", "--no-config"]).status == 0)
    let effective = try workspace.opsdeck(db + ["--config", "default.toml", "config", "check"])
    #expect(effective.stdout.contains(#"url = "https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml""#))
    let off = try workspace.opsdeck(db + ["--config", "off.toml", "fx", "sync"])
    #expect(off.status == 1)
    #expect(off.stderr == "opsdeck: fx: no feed configured (set [fx] url)\n")
  }
}
