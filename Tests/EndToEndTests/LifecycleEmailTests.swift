import Foundation
import GRDB
import Testing

/// The trial sequence over real SMTP (aiosmtpd): one message per step on
/// its day, the one-click unsubscribe header on each, and a token that
/// suppresses the account.
@Suite struct LifecycleEmailTests {
  static let templates = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("data/templates").path

  /// `ops.toml` sending through `server`, `[lifecycle]` with the
  /// repository's templates and `lifecycle` lines; an initialised database.
  static func prepared(
    _ server: SMTPReceiver, in workspace: Workspace,
    lifecycle: String = """
    unsubscribe_url = "https://app.example.test/unsubscribe?token={{token}}"
    reengage_after = "0s"
    """
  ) throws -> [String] {
    try workspace.write(
      "ops.toml",
      """
      [email]
      url = "smtp://127.0.0.1:\(server.port)"
      from = "Reconcile <team@example.test>"
      [lifecycle]
      templates = "\(Self.templates)"
      \(lifecycle)
      """)
    let base = ["--db", workspace.path("ops.db"), "--config", workspace.path("ops.toml")]
    #expect(try workspace.opsdeck(base + ["init", "--no-config"]).status == 0)
    return base
  }

  /// `lifecycle tick` then a worker on the email queue, at `time`.
  func tickAndSend(_ workspace: Workspace, _ base: [String], at time: String) throws {
    let now = ["--now", time]
    let tick = try workspace.opsdeck(base + now + ["lifecycle", "tick"])
    #expect(tick.status == 0, "\(tick.stderr)")
    let work = try workspace.opsdeck(base + now + ["work", "--until-empty", "--queue", "email"])
    #expect(work.status == 0, "\(work.stderr)")
  }

  @Test func theSequenceArrivesOneMessagePerStepWithUnsubscribe() throws {
    let workspace = try Workspace()
    let server = try SMTPReceiver(in: workspace)
    let base = try Self.prepared(server, in: workspace)
    let added = try workspace.opsdeck(
      base + ["--now", "2026-03-02T10:00:00Z", "accounts", "add", "acme", "--email", "ana@acme.test", "--name", "Acme"])
    #expect(added.status == 0, "\(added.stderr)")
    // Each step's day at 09:00 UTC, twice (the second tick sends nothing).
    let days = ["02T10", "03T09", "05T09", "09T09", "16T09", "23T09", "29T09", "31T09"]
    for day in days {
      try tickAndSend(workspace, base, at: "2026-03-\(day):00:00Z")
      try tickAndSend(workspace, base, at: "2026-03-\(day):00:00Z")
    }
    var subjects: [String] = []
    for number in 1...8 {
      let message = try server.message(number)
      let headers = message["headers"] as? [String: String] ?? [:]
      subjects.append(headers["Subject"] ?? "")
      #expect(headers["To"] == "ana@acme.test")
      #expect(headers["List-Unsubscribe"]?.hasPrefix("<https://app.example.test/unsubscribe?token=") == true)
      #expect(headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click")
    }
    #expect(
      subjects == [
        "Welcome to Reconcile, Acme", "Connect your bank in two minutes", "Your first reconciliation is one click away",
        "Your first week: 1 of 5 done", "Halfway through your trial", "How finance teams close the month in a day",
        "3 days left in your trial", "Your trial ends tonight",
      ])
    let welcome = try server.message(1)
    #expect((welcome["text"] as? String)?.contains("Your next step: Connect your bank.") == true)
    #expect((welcome["html"] as? String)?.contains("<strong>Connect your bank</strong>") == true)
    // The header's token unsubscribes: day 30's e-mail never goes.
    let header = (try server.message(8)["headers"] as? [String: String])?["List-Unsubscribe"] ?? ""
    let token = String(header.split(separator: "=").last?.dropLast() ?? "")
    let unsubscribed = try workspace.opsdeck(base + ["lifecycle", "unsubscribe", token])
    #expect(unsubscribed.stdout == "acme\n", "\(unsubscribed.stderr)")
    try tickAndSend(workspace, base, at: "2026-04-01T09:00:00Z")
    #expect(FileManager.default.fileExists(atPath: server.directory.appendingPathComponent("9.json").path) == false)
    let outbox = try workspace.opsdeck(base + ["outbox", "--status", "sent", "--json"])
    let rows = try JSONSerialization.jsonObject(with: Data(outbox.stdout.utf8)) as? [[String: Any]] ?? []
    #expect(rows.count == 8)
    let bad = try workspace.opsdeck(base + ["lifecycle", "unsubscribe", token + "x"])
    #expect(bad.status == 2 && bad.stderr.contains("invalid unsubscribe token"))
  }

  /// The crash this design chooses to lose rather than repeat: a row left
  /// `sending` is marked failed, not sent again.
  @Test func aSendInterruptedByACrashIsNotSentTwice() throws {
    let workspace = try Workspace()
    let server = try SMTPReceiver(in: workspace)
    let base = try Self.prepared(server, in: workspace)
    let now = ["--now", "2026-03-02T10:00:00Z"]
    _ = try workspace.opsdeck(base + now + ["accounts", "add", "acme", "--email", "ana@acme.test"])
    _ = try workspace.opsdeck(base + now + ["lifecycle", "tick"])
    try DatabaseQueue(path: workspace.path("ops.db")).write { db in
      try db.execute(sql: "UPDATE email_outbox SET status = 'sending'")
    }
    _ = try workspace.opsdeck(base + now + ["work", "--until-empty", "--queue", "email"])
    let failed = try workspace.opsdeck(base + ["outbox", "--status", "failed"]).stdout
    #expect(failed.contains("interrupted while sending"))
    usleep(300_000)
    #expect(!FileManager.default.fileExists(atPath: server.directory.appendingPathComponent("1.json").path))
  }

  @Test func usageCheckAnswersWithItsExitCode() throws {
    let workspace = try Workspace()
    let server = try SMTPReceiver(in: workspace)
    let base = try Self.prepared(server, in: workspace)
    _ = try workspace.opsdeck(base + ["accounts", "add", "acme", "--email", "ana@acme.test"])
    let record = try workspace.opsdeck(
      base + ["usage", "record", "acme", "reconciliations", "40", "--idempotency-key", "r1"])
    #expect(record.stdout == "reconciliations: 40 of 50 (crossed 80%)\n", "\(record.stderr)")
    let allowed = try workspace.opsdeck(base + ["usage", "check", "acme", "reconciliations", "--qty", "10"])
    #expect(allowed.status == 0 && allowed.stdout == "allowed 40/50\n")
    let denied = try workspace.opsdeck(base + ["usage", "check", "acme", "reconciliations", "--qty", "11"])
    #expect(denied.status == 3 && denied.stdout == "denied 40/50\n" && denied.stderr.isEmpty)
    let bad = try workspace.opsdeck(base + ["usage", "record", "acme", "reconciliations", "lots"])
    #expect(bad.status == 2 && bad.stderr.contains("invalid QTY 'lots'"))
    let trials = try workspace.opsdeck(base + ["trials", "--json"])
    let rows = try JSONSerialization.jsonObject(with: Data(trials.stdout.utf8)) as? [[String: Any]] ?? []
    #expect(rows.first?["account_id"] as? String == "acme")
    #expect(rows.first?["days_left"] as? Int == 30)
    #expect(rows.first?["onboarding_done"] as? Int == 1 && rows.first?["onboarding_total"] as? Int == 5)
    #expect(rows.first?["next_email_step"] as? String == "trial/welcome")
  }

  /// Two `opsdeck lifecycle tick` processes at the same instant: every
  /// due step is in the outbox once, with one job.
  @Test func twoProcessesTickingAtOnceQueueEachStepOnce() throws {
    let workspace = try Workspace()
    let server = try SMTPReceiver(in: workspace)
    let base = try Self.prepared(server, in: workspace)
    let signup = ["--now", "2026-03-02T06:00:00Z"]
    for index in 0..<150 {
      _ = try workspace.opsdeck(base + signup + ["accounts", "add", "a\(index)", "--email", "a\(index)@example.test"])
    }
    let tick = base + ["--now", "2026-03-02T09:00:00Z", "lifecycle", "tick"]
    let first = try Programs.start(Programs.opsdeck, tick, in: workspace.url)
    let second = try Programs.start(Programs.opsdeck, tick, in: workspace.url)
    #expect(try first.wait(timeout: 60).status == 0)
    #expect(try second.wait(timeout: 60).status == 0)
    let db = workspace.path("ops.db")
    #expect(try scalar(db, "SELECT count(*) FROM email_outbox") == 150)
    #expect(try scalar(db, "SELECT count(*) FROM jobs WHERE name = 'email.send'") == 150)
  }

  /// `events track` completes onboarding: the step it covers is skipped.
  @Test func anEventCompletesOnboardingAndItsEmailIsSkipped() throws {
    let workspace = try Workspace()
    let server = try SMTPReceiver(in: workspace)
    let base = try Self.prepared(server, in: workspace)
    _ = try workspace.opsdeck(
      base + ["--now", "2026-03-02T10:00:00Z", "accounts", "add", "acme", "--email", "ana@acme.test"])
    let tracked = try workspace.opsdeck(
      base + ["--now", "2026-03-02T11:00:00Z", "events", "track", "bank.connected", "--account", "acme"])
    #expect(tracked.stdout == "recorded bank.connected for acme (onboarding: bank_connected done)\n")
    _ = try workspace.opsdeck(base + ["--now", "2026-03-03T09:00:00Z", "lifecycle", "tick"])
    let skipped = try workspace.opsdeck(base + ["outbox", "--status", "skipped", "--json"])
    let rows = try JSONSerialization.jsonObject(with: Data(skipped.stdout.utf8)) as? [[String: Any]] ?? []
    #expect(rows.map { $0["step"] as? String } == ["connect_bank"])
    #expect(rows.first?["error"] as? String == "bank_connected done")
  }

  /// A template that uses a variable nothing provides fails `config check`.
  @Test func aTemplateWithAnUnknownVariableFailsConfigCheck() throws {
    let workspace = try Workspace()
    try FileManager.default.createDirectory(
      atPath: workspace.path("templates"), withIntermediateDirectories: true)
    try workspace.write("templates/hello.txt.mustache", "Hi {{name}}, {{days_lft}} days left.\n")
    try workspace.write(
      "ops.toml",
      """
      [lifecycle]
      templates = "\(workspace.path("templates"))"
      [[lifecycle.sequences]]
      name = "trial"
      [[lifecycle.sequences.steps]]
      id = "hello"
      day = 0
      template = "hello"
      subject = "Hello {{name}}"
      unless = "bank_connected"
      """)
    let checked = try workspace.opsdeck(["--config", workspace.path("ops.toml"), "config", "check"])
    #expect(checked.status == 2)
    #expect(checked.stderr.contains("{{days_lft}} is not a variable"), "\(checked.stderr)")
  }
}
