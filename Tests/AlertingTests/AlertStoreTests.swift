import Alerting
import Foundation
import GRDB
import Storage
import Testing

struct AlertStoreTests {
  let directory: URL
  let store: Store
  let clock = ManualClock(Date(timeIntervalSince1970: 1_767_225_600))
  let alerts: AlertStore

  init() throws {
    directory = FileManager.default.temporaryDirectory.appendingPathComponent("opsdeck-alerts-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    store = try Store.open(path: directory.appendingPathComponent("ops.db").path, create: true)
    try store.migrate(StorageSchema.migrations + AlertingSchema.migrations, now: clock.now(), version: "test")
    alerts = AlertStore(store: store, clock: clock, actor: "ana")
  }

  @Test func fingerprintsAreAlertmanagers() {
    #expect(Fingerprint.of([:]) == "cbf29ce484222325")
    // prometheus/common model: labelSetToFingerprint of this set is 5799056148416392346.
    #expect(
      Fingerprint.of(["name": "garland, briggs", "fear": "love is not enough"])
        == String(UInt64(5_799_056_148_416_392_346), radix: 16))
  }

  @Test func repeatsDedupAndCount() throws {
    let disk = NewAlert(severity: .warning, summary: "disk 90% full", labels: ["host": "db1"], source: "test")
    let first = try alerts.raise(disk)
    clock.advance(by: 60)
    let second = try alerts.raise(disk)
    #expect(first.created && !second.created && first.id == second.id)
    let alert = try alerts.alert(first.id)
    #expect(alert.count == 2)
    #expect(alert.lastSeen == clock.now())
    #expect(alert.labels == ["host": "db1", "alertname": "disk 90% full"])
    var other = disk
    other.labels["host"] = "db2"
    #expect(try alerts.raise(other).created)
    #expect(try alerts.history(first.id).map(\.kind) == ["raised", "repeated"])
    // A dedup key wins over the labels.
    var keyed = disk
    keyed.dedupKey = "disk-db1"
    keyed.labels["host"] = "elsewhere"
    let withKey = try alerts.raise(keyed)
    #expect(try alerts.raise(NewAlert(severity: .info, summary: "x", dedupKey: "disk-db1")).id == withKey.id)
  }

  @Test func ackResolveAndARiseInSeverityReopens() throws {
    let id = try alerts.raise(NewAlert(severity: .warning, summary: "queue backlog", labels: ["queue": "emails"])).id
    try alerts.acknowledge([id], note: "looking")
    var alert = try alerts.alert(id)
    #expect(alert.status == .acknowledged && alert.acknowledgedBy == "ana")
    _ = try alerts.raise(NewAlert(severity: .warning, summary: "queue backlog", labels: ["queue": "emails"]))
    #expect(try alerts.alert(id).status == .acknowledged)
    _ = try alerts.raise(NewAlert(severity: .critical, summary: "queue backlog", labels: ["queue": "emails"]))
    alert = try alerts.alert(id)
    #expect(alert.status == .firing && alert.severity == .critical && alert.acknowledgedBy == nil)
    #expect(throws: AlertInputError("alert \(id) is firing; it cannot be unacked")) { try alerts.unacknowledge(id) }
    try alerts.resolve([id], note: "drained")
    #expect(throws: AlertInputError("alert \(id) is resolved; it cannot be acknowledged")) {
      try alerts.acknowledge([id])
    }
    let trail = try alerts.history(id)
    #expect(trail.map(\.kind) == ["raised", "acknowledged", "repeated", "repeated", "reopened", "resolved"])
    #expect(trail.first { $0.kind == "acknowledged" }?.note == "looking")
    #expect(trail.last?.actor == "ana")
    // Resolved is kept; a new occurrence opens a new alert.
    #expect(
      try alerts.raise(NewAlert(severity: .warning, summary: "queue backlog", labels: ["queue": "emails"])).created)
  }

  @Test func anAckTimesOutWhileStillFiringAndSilentAlertsResolve() throws {
    let a = try alerts.raise(NewAlert(severity: .error, summary: "a")).id
    let b = try alerts.raise(NewAlert(severity: .error, summary: "b")).id
    try alerts.acknowledge([a, b])
    clock.advance(by: 600)
    _ = try alerts.raise(NewAlert(severity: .error, summary: "a"))
    clock.advance(by: 1_200)
    #expect(try alerts.sweep(ackTimeout: .seconds(1_800), resolveTimeout: nil) == 1)
    #expect(try alerts.alert(a).status == .firing)
    #expect(try alerts.alert(b).status == .acknowledged)
    #expect(try alerts.sweep(ackTimeout: nil, resolveTimeout: .seconds(1_800)) == 1)
    #expect(try alerts.alert(b).status == .resolved)
    #expect(try alerts.history(b).last?.note == "not seen for 30m")
  }

  @Test(arguments: [
    ("service=api", true), ("service!=api", false), ("service=~ap.", true), ("service=~ap", false),
    ("service!~web|db", true), ("severity=~critical|error", true), ("team=", true),
  ])
  func silencesMatchEachKind(_ matcher: String, _ silenced: Bool) throws {
    let id = try alerts.raise(NewAlert(severity: .critical, summary: "down", labels: ["service": "api"])).id
    _ = try alerts.silence(matchers: [try LabelMatcher(parsing: matcher)], for: .seconds(3_600), comment: "deploy")
    #expect(try alerts.alert(id).silenced == silenced)
    #expect(try alerts.list(status: "silenced").contains { $0.id == id } == silenced)
  }

  @Test func silencesArePendingActiveThenExpired() throws {
    let id = try alerts.raise(NewAlert(severity: .info, summary: "x", labels: ["a": "1"])).id
    let silence = try alerts.silence(
      matchers: [try LabelMatcher(parsing: "a=1")], for: .seconds(600), comment: "later",
      starting: clock.now().addingTimeInterval(60))
    #expect(try alerts.silences().first?.state(at: clock.now()) == .pending)
    #expect(try !alerts.alert(id).silenced)
    clock.advance(by: 61)
    #expect(try alerts.alert(id).silenced)
    try alerts.expireSilence(silence)
    #expect(try alerts.silences().first?.state(at: clock.now()) == .expired)
    #expect(try !alerts.alert(id).silenced)
    #expect(throws: AlertInputError.self) { _ = try LabelMatcher(parsing: "a=~(") }
    #expect(throws: AlertInputError.self) { _ = try LabelMatcher(parsing: "nothing") }
  }

  @Test func anAlertmanagerPayloadOpensRepeatsAndResolves() throws {
    let payload = """
      {"version": "4", "groupKey": "{}:{alertname=\\"HighLatency\\"}", "status": "firing", "receiver": "opsdeck",
       "groupLabels": {"alertname": "HighLatency"}, "commonLabels": {}, "commonAnnotations": {},
       "externalURL": "http://alertmanager:9093", "truncatedAlerts": 0,
       "alerts": [
        {"status": "firing", "labels": {"alertname": "HighLatency", "severity": "critical", "instance": "api-1"},
         "annotations": {"summary": "p99 over 2s on api-1", "runbook_url": "https://runbooks/latency"},
         "startsAt": "2026-01-01T00:00:00Z", "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "http://prom/graph",
         "fingerprint": "anything"},
        {"status": "firing", "labels": {"alertname": "DiskFull", "severity": "page", "instance": "db-1"},
         "annotations": {}, "startsAt": "2026-01-01T00:00:00Z", "endsAt": "0001-01-01T00:00:00Z"}
       ]}
      """
    var outcome = try AlertmanagerIngest.ingest(Data(payload.utf8), into: alerts)
    #expect(outcome == .init(opened: 2, repeated: 0, resolved: 0))
    outcome = try AlertmanagerIngest.ingest(Data(payload.utf8), into: alerts)
    #expect(outcome == .init(opened: 0, repeated: 2, resolved: 0))
    let open = try alerts.list()
    #expect(open.map(\.summary) == ["p99 over 2s on api-1", "DiskFull"])
    #expect(open.allSatisfy { $0.severity == .critical && $0.count == 2 && $0.source == "alertmanager" })
    #expect(
      open.first?.fingerprint
        == Fingerprint.of(["alertname": "HighLatency", "severity": "critical", "instance": "api-1"]))
    #expect(open.first?.runbookURL == "https://runbooks/latency")
    let resolved = payload.replacingOccurrences(
      of: #"{"status": "firing", "labels": {"alertname": "DiskFull""#,
      with: #"{"status": "resolved", "labels": {"alertname": "DiskFull""#)
    outcome = try AlertmanagerIngest.ingest(Data(resolved.utf8), into: alerts)
    #expect(outcome == .init(opened: 0, repeated: 1, resolved: 1))
    #expect(try alerts.list().count == 1)
    #expect(throws: AlertInputError("not an Alertmanager payload: no \"alerts\" list")) {
      _ = try AlertmanagerIngest.ingest(Data("{}".utf8), into: alerts)
    }
  }
}
