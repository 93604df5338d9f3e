import Foundation
import Testing

/// The real binary in a real terminal: tmux runs it, send-keys types,
/// capture-pane reads the screen.
final class TmuxSession {
  let socket = "opsdeck-\(UUID().uuidString.prefix(8))"
  let name = "console"

  init(
    command: String, width: Int = 100, height: Int = 30, term: String = "xterm-256color", in directory: URL
  ) throws {
    // The pane lingers after the program so the test can read what it left;
    // kill-server ends the sleep (spawned with default signal handling).
    let outcome = try tmux([
      "-f", "/dev/null", "new-session", "-d", "-s", name, "-x", "\(width)", "-y", "\(height)", "-c", directory.path,
      "unset NO_COLOR; export LANG=C.UTF-8 TERM=\(term); \(command); echo EXITED $?; exec sleep 30",
    ])
    guard outcome.status == 0 else { throw TmuxFailure(message: outcome.stderr) }
  }

  struct TmuxFailure: Error { let message: String }

  @discardableResult
  func tmux(_ arguments: [String]) throws -> Outcome {
    try Programs.run("/usr/bin/tmux", ["-L", socket] + arguments, in: FileManager.default.temporaryDirectory)
  }

  func screen() -> String {
    (try? tmux(["capture-pane", "-p", "-t", name]).stdout) ?? ""
  }

  func send(_ keys: String...) throws {
    try tmux(["send-keys", "-t", name] + keys)
  }

  /// Waits (up to ten seconds) until the screen shows `text`.
  func waitFor(_ text: String) -> Bool {
    for _ in 0..<500 {
      if screen().contains(text) { return true }
      usleep(20_000)
    }
    return false
  }

  var alternateScreenOn: Bool {
    ((try? tmux(["display-message", "-p", "-t", name, "#{alternate_on}"]).stdout) ?? "").hasPrefix("1")
  }

  deinit { _ = try? tmux(["kill-server"]) }
}

@Suite struct ConsoleTmuxTests {
  /// A database with one failed job in the `mail` queue.
  func prepared() throws -> (Workspace, String, String) {
    let workspace = try Workspace()
    let db = workspace.path("ops.db")
    #expect(try workspace.opsdeck(["--db", db, "init", "--no-config"]).status == 0)
    let id = try workspace.opsdeck(["--db", db, "jobs", "add", "mail", "exec", "--data", #"{"command": "false"}"#])
      .stdout.trimmingCharacters(in: .newlines)
    #expect(try workspace.opsdeck(["--db", db, "work", "--until-empty"]).status == 0)
    return (workspace, db, id)
  }

  @Test func retryAFailedJobThroughTheConfirmationThenQuit() throws {
    let (workspace, db, id) = try prepared()
    let session = try TmuxSession(command: "\(Programs.opsdeck) --db \(db) console --no-engines", in: workspace.url)
    #expect(session.waitFor("1 Overview"), "\(session.screen())")
    #expect(session.alternateScreenOn)
    try session.send("2")
    #expect(session.waitFor("QUEUES"))
    try session.send("]", "]", "]", "]")
    #expect(session.waitFor("failed 1"))
    try session.tmux(["resize-window", "-t", session.name, "-x", "120", "-y", "40"])
    #expect(session.waitFor("REASON"))
    try session.send("l", "r")
    #expect(session.waitFor("Retry job \(id)?"), "\(session.screen())")
    try session.send("y")
    #expect(session.waitFor("job \(id) is waiting again"), "\(session.screen())")
    try session.send("q")
    #expect(session.waitFor("EXITED 0"), "\(session.screen())")
    #expect(!session.alternateScreenOn, "the terminal is restored")
    let shown = try workspace.opsdeck(["--db", db, "jobs", "show", id, "--json"])
    #expect(try jsonField(shown.stdout, "state") == "waiting")
  }

  @Test func readOnlyHasNoRetryKeyAtAll() throws {
    let (workspace, db, id) = try prepared()
    let session = try TmuxSession(command: "\(Programs.opsdeck) --db \(db) console --readonly", in: workspace.url)
    #expect(session.waitFor("(viewer)"), "\(session.screen())")
    try session.send("2", "]", "]", "]", "]", "l", "?")
    #expect(session.waitFor("Jobs keys"))
    let help = session.screen()
    #expect(!help.contains("retry"))
    #expect(help.contains("read-only"))
    try session.send("Escape")
    try pressingRetryChangesNothing(session, workspace: workspace, db: db, job: id)
  }

  /// `r` on the selected failed job asks nothing; after `q` the job is
  /// still failed.
  func pressingRetryChangesNothing(_ session: TmuxSession, workspace: Workspace, db: String, job id: String) throws {
    try session.send("r")
    usleep(300_000)
    #expect(!session.screen().contains("Retry job"))
    try session.send("q")
    #expect(session.waitFor("EXITED 0"))
    let shown = try workspace.opsdeck(["--db", db, "jobs", "show", id, "--json"])
    #expect(try jsonField(shown.stdout, "state") == "failed")
  }

  @Test func aViewerFromTheAccessListCannotAct() throws {
    let (workspace, db, id) = try prepared()
    try workspace.write("ops.toml", "[access]\nviewers = [\"growth\"]\n")
    let session = try TmuxSession(
      command: "env SUDO_USER= USER=growth \(Programs.opsdeck) --db \(db) --config ops.toml", in: workspace.url)
    #expect(session.waitFor("growth (viewer)"), "\(session.screen())")
    try session.send("2", "]", "]", "]", "]", "l")
    try pressingRetryChangesNothing(session, workspace: workspace, db: db, job: id)
  }

  /// SIGTERM ends the console cleanly; a crash (the signals a Swift trap,
  /// an abort or a bad pointer raise, delivered to the running console)
  /// still gives the terminal back before the process dies of it.
  @Test(
    arguments: [(SIGTERM, Int32(0)), (SIGILL, 128 + SIGILL), (SIGABRT, 128 + SIGABRT), (SIGSEGV, 128 + SIGSEGV)]
      as [(Int32, Int32)])
  func signalsRestoreTheTerminal(_ signal: Int32, _ status: Int32) throws {
    let (workspace, db, _) = try prepared()
    let session = try TmuxSession(
      command: "ulimit -c 0; \(Programs.opsdeck) --db \(db) console --no-engines", in: workspace.url)
    #expect(session.waitFor("1 Overview"))
    #expect(session.alternateScreenOn)
    // The console itself, not the shell around it.
    let pids = try Programs.run("/usr/bin/pgrep", ["-f", "^\(Programs.opsdeck) --db \(db) console"], in: workspace.url)
      .stdout
    for pid in pids.split(separator: "\n").compactMap({ Int32($0) }) { kill(pid, signal) }
    #expect(session.waitFor("EXITED \(status)"), "\(session.screen())")
    #expect(!session.alternateScreenOn)
  }

  /// 16 colours on a 16-colour terminal, the 256-colour palette on one
  /// that has it, none with NO_COLOR (tmux reports the colours each cell
  /// was drawn with).
  @Test(arguments: [("xterm-256color", "", "palette"), ("xterm", "", "basic"), ("xterm-256color", "1", "none")])
  func colorsFollowTheTerminal(_ term: String, _ noColor: String, _ expected: String) throws {
    let (workspace, db, _) = try prepared()
    let session = try TmuxSession(
      command: "env NO_COLOR=\(noColor) \(Programs.opsdeck) --db \(db) console --no-engines", term: term,
      in: workspace.url)
    #expect(session.waitFor("1 Overview"))
    let styled = (try? session.tmux(["capture-pane", "-e", "-p", "-t", session.name]).stdout) ?? ""
    let palette = styled.contains("38;5;") || styled.contains("48;5;")
    let basic = (Array(30...37) + Array(40...47)).contains { styled.contains("\u{1B}[\($0)m") }
    #expect(palette == (expected == "palette"), "\(styled.prefix(300))")
    #expect(basic == (expected == "basic"), "\(styled.prefix(300))")
    #expect(styled.contains("\u{1B}[1m"), "bold is used whatever the colours")
    try session.send("q")
    #expect(session.waitFor("EXITED 0"))
  }

  /// An on-call engineer acknowledges an alert with two keys; the audit
  /// row names them.
  @Test func anAlertIsAcknowledgedWithTwoKeysAndTheTrailNamesTheUser() throws {
    let (workspace, db, _) = try prepared()
    let raised = try workspace.opsdeck([
      "--db", db, "alerts", "raise", "--severity", "critical", "--summary", "payments API down",
    ])
    let id = raised.stdout.trimmingCharacters(in: .newlines)
    let session = try TmuxSession(
      command: "env SUDO_USER= USER=oncall-ana \(Programs.opsdeck) --db \(db) console --no-engines", in: workspace.url)
    #expect(session.waitFor("1 critical"), "\(session.screen())")
    try session.send("5")
    #expect(session.waitFor("payments API down"))
    try session.send("a", "Enter")
    #expect(session.waitFor("acknowledged \(id)"), "\(session.screen())")
    try session.send("q")
    #expect(session.waitFor("EXITED 0"))
    let trail = try workspace.opsdeck(["--db", db, "alerts", "history", id, "--json"])
    let events = try JSONSerialization.jsonObject(with: Data(trail.stdout.utf8)) as? [[String: Any]] ?? []
    #expect(events.last?["kind"] as? String == "acknowledged")
    #expect(events.last?["actor"] as? String == "oncall-ana")
  }

  /// Trials pane: an operator mails an account's next e-mail to themselves
  /// (over real SMTP) and extends the trial through the form.
  @Test func aPreviewArrivesAndATrialIsExtendedFromTheTrialsPane() throws {
    let workspace = try Workspace()
    let server = try SMTPReceiver(in: workspace)
    let base = try LifecycleEmailTests.prepared(server, in: workspace, lifecycle: #"preview_to = "Ana <ana@ops.test>""#)
    _ = try workspace.opsdeck(base + ["accounts", "add", "acme", "--email", "finance@acme.test", "--name", "Acme"])
    let session = try TmuxSession(
      command: "env SUDO_USER= USER=growth-ana \(Programs.opsdeck) \(base.joined(separator: " ")) console --no-engines",
      width: 120, height: 40, in: workspace.url)
    try session.send("6")
    #expect(session.waitFor("Acme (acme)"), "\(session.screen())")
    try session.send("p")
    #expect(session.waitFor("next e-mail to yourself"), "\(session.screen())")
    try session.send("y")
    #expect(session.waitFor("sent trial/welcome for acme to Ana <ana@ops.test>"), "\(session.screen())")
    let headers = try server.message(1)["headers"] as? [String: String] ?? [:]
    #expect(headers["Subject"] == "[preview] Welcome to Reconcile, Acme")
    #expect(headers["To"] == "Ana <ana@ops.test>")
    try session.send("e")
    #expect(session.waitFor("Extend the trial of acme"), "\(session.screen())")
    try session.send("-l", "customer asked")
    try session.send("Enter")
    #expect(session.waitFor("acme: trial ends"), "\(session.screen())")
    try session.send("q")
    #expect(session.waitFor("EXITED 0"))
    let shown = try workspace.opsdeck(base + ["accounts", "show", "acme", "--json"]).stdout
    #expect(shown.contains("trial_extended") && shown.contains("growth-ana") && shown.contains("customer asked"))
  }

  @Test func withoutATerminalTheConsoleSaysSo() throws {
    let workspace = try Workspace()
    #expect(try workspace.opsdeck(["--db", "x.db", "init", "--no-config"]).status == 0)
    let outcome = try workspace.opsdeck(["--db", "x.db"])
    #expect(outcome.status == 2)
    #expect(
      outcome.stderr
        == "opsdeck: the console needs a terminal; for scripts use a command such as `opsdeck queues --json`\n")
  }
}
