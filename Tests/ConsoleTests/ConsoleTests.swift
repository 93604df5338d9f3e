import Alerting
import Console
import Foundation
import Scheduler
import Storage
import Testing

struct ConsoleSnapshotTests {
  func frame(
    _ keys: String = "", width: Int = 80, height: Int = 24, unicode: Bool = true, readOnly: Bool = false,
    schedules: Bool = false, breakers: Bool = false, alerts: Bool = false, trials: Bool = false,
    events: Bool = false
  ) throws -> String {
    let fixture = try ConsoleFixture()
    try fixture.populate()
    if trials { try fixture.populateTrials() }
    if events { try fixture.populateEvents() }
    if schedules { try fixture.populateSchedules() }
    if breakers { try fixture.populateBreakers() }
    if alerts { try fixture.populateAlerts() }
    let (app, terminal) = fixture.app(width: width, height: height, readOnly: readOnly, unicode: unicode)
    terminal.type(keys)
    app.settle()
    return try #require(terminal.lastFrame).text
  }

  @Test func overviewAt80x24() throws { try assertSnapshot(try frame(), named: "overview-80x24") }
  @Test func overviewAt120x40() throws {
    try assertSnapshot(try frame(width: 120, height: 40), named: "overview-120x40")
  }
  @Test func jobsFailedTabAt80x24() throws {
    try assertSnapshot(try frame("2]]]]"), named: "jobs-failed-80x24")
  }
  @Test func jobsAt120x40() throws { try assertSnapshot(try frame("2", width: 120, height: 40), named: "jobs-120x40") }
  @Test func schedulesAt80x24() throws { try assertSnapshot(try frame("3", schedules: true), named: "schedules-80x24") }
  @Test func schedulesAt120x40() throws {
    try assertSnapshot(try frame("3j", width: 120, height: 40, schedules: true), named: "schedules-120x40")
  }
  @Test func addJobForm() throws {
    try assertSnapshot(try frame("2ainvoice.pdf\t{bad"), named: "add-job-form")
  }
  @Test func breakersAt120x40() throws {
    try assertSnapshot(try frame("4", width: 120, height: 40, breakers: true), named: "breakers-120x40")
  }
  @Test func overviewWithBreakersAt80x24() throws {
    try assertSnapshot(try frame("", breakers: true), named: "overview-breakers-80x24")
  }
  @Test func alertsAt120x40() throws {
    try assertSnapshot(try frame("5j", width: 120, height: 40, alerts: true), named: "alerts-120x40")
  }
  @Test func alertsAt80x24() throws { try assertSnapshot(try frame("5", alerts: true), named: "alerts-80x24") }
  @Test func trialsAt120x40() throws {
    try assertSnapshot(try frame("6", width: 120, height: 40, trials: true), named: "trials-120x40")
  }
  @Test func trialsAt80x24() throws { try assertSnapshot(try frame("6", trials: true), named: "trials-80x24") }
  @Test func anAccountsTimeline() throws {
    try assertSnapshot(try frame("6j\r", width: 120, height: 40, trials: true), named: "trials-account")
  }
  @Test func funnelsAt80x24() throws {
    try assertSnapshot(try frame("7b", trials: true, events: true), named: "funnels-80x24")
  }
  @Test func funnelsAt120x40() throws {
    try assertSnapshot(try frame("7", width: 120, height: 40, trials: true, events: true), named: "funnels-120x40")
  }
  @Test func tooSmall() throws { try assertSnapshot(try frame(width: 60, height: 20), named: "too-small") }
  @Test func asciiMode() throws { try assertSnapshot(try frame("2]]]]", unicode: false), named: "jobs-ascii") }
  @Test func helpOverlay() throws { try assertSnapshot(try frame("2?"), named: "help-jobs") }
  @Test func jobViewShowsDataAndEveryAttempt() throws {
    try assertSnapshot(try frame("2]]]]l\r", width: 120, height: 40), named: "job-view-120x40")
  }
  @Test func confirmDialogNamesItsTarget() throws {
    try assertSnapshot(try frame("2]]]]lr"), named: "confirm-retry")
  }

  @Test func escapeSequencesInDataNeverReachTheScreen() throws {
    for keys in ["", "2j]]]]", "2j]]]]l\r"] {
      let text = try frame(keys, width: 120, height: 40)
      #expect(!text.contains("\u{1B}"))
      #expect(!text.contains("\u{07}"))
    }
    let fixture = try ConsoleFixture()
    try fixture.populate()
    let (app, terminal) = fixture.app(width: 120, height: 40)
    terminal.type("2j]]]]")
    app.settle()
    let failedFx = try #require(terminal.lastFrame)
    #expect(failedFx.text.contains("bad red feed"))
    #expect(failedFx.cells.allSatisfy { cell in cell.text.unicodeScalars.allSatisfy { $0.value >= 0x20 } })
  }
}

struct ConsoleBehaviourTests {
  @Test func retryingAFailedJobAsksThenPutsItBackToWaiting() throws {
    let fixture = try ConsoleFixture()
    try fixture.populate()
    let (app, terminal) = fixture.app()
    terminal.type("2]]]]l")
    app.settle()
    let job = try #require(app.state.currentJob)
    #expect(job.state == .failed)
    terminal.type("r")
    app.settle()
    #expect(app.state.overlay == .confirm(.retry(jobID: job.id)))
    terminal.type("y")
    app.settle()
    #expect(try fixture.jobs.job(job.id).summary.state == .waiting)
    #expect(app.state.message == "job \(job.id) is waiting again")
    // The job's view (second in waiting, behind job 6) shows who retried it, after its failed attempt.
    terminal.type("[[[[j")
    app.settle()
    #expect(app.state.currentJob?.id == job.id)
    terminal.send(.key(.enter))
    app.settle()
    let screen = try #require(terminal.lastFrame).text
    #expect(screen.contains("attempt 1 failed"))
    #expect(screen.contains("job.retry by oncall"))
  }

  @Test func retryAllFailedOfAQueueAsksWithTheCount() throws {
    let fixture = try ConsoleFixture()
    try fixture.populate()
    let (app, terminal) = fixture.app()
    terminal.type("2R")
    app.settle()
    #expect(app.state.overlay == .confirm(.retryAllFailed(queue: "emails", count: 2)))
    #expect(terminal.lastFrame?.text.contains("Retry all 2 failed jobs of emails?") == true)
    terminal.type("y")
    app.settle()
    #expect(app.state.message == "2 failed jobs of emails waiting again")
    #expect(try fixture.jobs.list(queue: "emails", state: .failed).isEmpty)
  }

  @Test func anyOtherKeyCancelsTheConfirmation() throws {
    let fixture = try ConsoleFixture()
    try fixture.populate()
    let (app, terminal) = fixture.app()
    terminal.type("2]]]]lrn")
    app.settle()
    #expect(app.state.overlay == nil)
    #expect(app.state.message == "cancelled")
    #expect(try fixture.jobs.list(queue: "emails", state: .failed).count == 2)
  }

  @Test func readOnlyHasNoKeyThatChangesData() throws {
    let fixture = try ConsoleFixture()
    try fixture.populate()
    let (app, terminal) = fixture.app(readOnly: true)
    terminal.type("2]]]]lrP")
    app.settle()
    #expect(app.state.overlay == nil)
    #expect(!app.state.bindings.contains { $0.dangerous })
    #expect(try fixture.jobs.list(queue: "emails", state: .failed).count == 2)
  }

  @Test func theSelectionFollowsTheJobNotTheRow() throws {
    let fixture = try ConsoleFixture()
    try fixture.populate()
    let (app, terminal) = fixture.app()
    terminal.type("2]]]]lj")
    app.settle()
    let selected = try #require(app.state.selectedJob)
    // A newer failure lands above it; the selection stays on the same job.
    try fixture.jobs.add(queue: "emails", name: "email.send")
    let claimed = try fixture.jobs.claim(queue: "emails", limit: 1, lockDuration: 1_000).jobs
    fixture.clock.advance(by: .seconds(1))
    try fixture.jobs.finish(claimed.map { .failed($0, error: "x") })
    terminal.send(.key(.control("r")))
    app.settle()
    #expect(app.state.selectedJob == selected)
  }

  @Test func onlyQWorksWhenTheTerminalIsTooSmall() throws {
    let fixture = try ConsoleFixture()
    try fixture.populate()
    let (app, terminal) = fixture.app(width: 70, height: 20)
    terminal.type("2?")
    app.settle()
    #expect(app.state.pane == .overview)
    #expect(app.state.overlay == nil)
    terminal.resize(width: 100, height: 30)
    terminal.type("2")
    app.settle()
    #expect(app.state.pane == .jobs)
    #expect(terminal.lastFrame?.width == 100)
  }

  @Test func slashFiltersTheFocusedListAndEscClearsIt() throws {
    let fixture = try ConsoleFixture()
    try fixture.populate()
    let (app, terminal) = fixture.app()
    terminal.type("2/web\r")
    app.settle()
    #expect(app.state.visibleQueues.map(\.name) == ["webhooks"])
    #expect(app.state.selectedQueue == "webhooks")
    #expect(terminal.lastFrame?.row(22).hasPrefix(" /web   (Enter keeps") == true)
    terminal.type("\u{1B}")
    app.settle()
    #expect(app.state.visibleQueues.count == 3)
    terminal.type("g]]]]l/no such job\r")
    app.settle()
    #expect(app.state.visibleJobs.isEmpty)
    #expect(app.state.currentJob == nil)
    terminal.type("\u{1B}/try AGAIN\r")
    app.settle()
    #expect(app.state.visibleJobs.count == 2, "matches the reason, whatever the case")
  }

  @Test func theCommandLineCompletesRunsAndRemembers() throws {
    let fixture = try ConsoleFixture()
    try fixture.populate()
    let (app, terminal) = fixture.app()
    terminal.type(":jo\tfa\t\r")
    app.settle()
    #expect(app.state.pane == .jobs)
    #expect(app.state.stateTab == .failed)
    terminal.type(":queue \t")
    app.settle()
    #expect(app.state.message == "emails  fx  webhooks")
    terminal.type("w\t\r")
    app.settle()
    #expect(app.state.selectedQueue == "webhooks")
    terminal.type(":pane alerts\r")
    app.settle()
    #expect(app.state.pane == .alerts)
    #expect(app.state.message == nil)
    terminal.send(.key(.character(":")), .key(.up), .key(.up), .key(.enter))
    app.settle()
    #expect(app.state.selectedQueue == "webhooks")
    #expect(app.state.commandHistory == ["jobs failed", "queue webhooks", "pane alerts", "queue webhooks"])
    terminal.type(":frob\r")
    app.settle()
    #expect(app.state.message?.hasPrefix("unknown command 'frob'") == true)
  }

  @Test func clicksSelectAndTheWheelScrolls() throws {
    let fixture = try ConsoleFixture()
    try fixture.populate()
    let (app, terminal) = fixture.app()
    terminal.send(.click(x: 16, y: 1))
    app.settle()
    #expect(app.state.pane == .jobs)
    terminal.send(.click(x: 3, y: 5))  // the second queue
    app.settle()
    #expect(app.state.selectedQueue == "fx")
    terminal.send(.click(x: 3, y: 3), .key(.character("]")), .key(.character("]")), .key(.character("]")))
    terminal.send(.key(.character("]")), .click(x: 40, y: 6))
    app.settle()
    #expect(app.state.focus == .jobs)
    #expect(app.state.selectedJob == app.state.snapshot?.jobs[1].id)
    terminal.send(.scroll(up: true))
    app.settle()
    #expect(app.state.selectedJob == app.state.snapshot?.jobs[0].id)
  }

  /// A queue longer than one page: j, k, g and G move through all of it,
  /// a page at a time being read around the selection.
  @Test func theJobListScrollsPastTheLoadedPage() throws {
    let fixture = try ConsoleFixture()
    let count = ConsoleRequest.pageSize * 5 + 17
    _ = try fixture.jobs.addBulk(queue: "big", jobs: (0..<count).map { NewJob(name: "n\($0)") })
    let ids = try fixture.jobs.list(queue: "big", state: .waiting, limit: count).map(\.id)
    let (app, terminal) = fixture.app()
    terminal.type("2l")
    app.settle()
    #expect(app.state.selectedJob == ids[0])
    terminal.type(String(repeating: "j", count: 450))
    app.settle()
    #expect(app.state.selectedJob == ids[450])
    #expect(try #require(terminal.lastFrame).text.contains("of 1,017"))
    terminal.type(String(repeating: "k", count: 449))
    app.settle()
    #expect(app.state.selectedJob == ids[1])
    terminal.type("G")
    app.settle()
    #expect(app.state.selectedJob == ids[count - 1])
    #expect(try #require(terminal.lastFrame).text.contains("–1,017 of 1,017"))
    for _ in 0..<30 { terminal.send(.key(.pageUp)) }
    app.settle()
    #expect(app.state.selectedJob == ids[count - 1 - 30 * (24 - 10)])
    terminal.type("g")
    app.settle()
    #expect(app.state.selectedJob == ids[0])
    #expect(app.state.pageStart == 0)
  }

  /// Enter on a schedule opens its queue in Jobs on its pending job; p runs
  /// that job now after asking; read-only has neither p nor D.
  @Test func schedulesOpenTheirPendingJobAndRunNowAfterAsking() throws {
    let fixture = try ConsoleFixture()
    try fixture.populate()
    try fixture.populateSchedules()
    let (app, terminal) = fixture.app()
    terminal.type("3")
    app.settle()
    let schedule = try #require(app.state.currentSchedule)
    #expect(schedule.id == "daily-report")
    let job = try #require(schedule.pendingJobID)
    terminal.type("p")
    app.settle()
    #expect(app.state.overlay == .confirm(.runSchedule(id: "daily-report", jobID: job)))
    terminal.type("n")
    terminal.send(.key(.enter))
    app.settle()
    #expect(app.state.pane == .jobs)
    #expect(app.state.selectedQueue == "reports")
    #expect(app.state.stateTab == .delayed)
    #expect(app.state.selectedJob == job)
    #expect(app.state.currentJob?.id == job)
    terminal.type("3jD")
    app.settle()
    #expect(app.state.overlay == .confirm(.removeSchedule(id: "fx-refresh", source: "cli")))
    let (viewer, screen) = fixture.app(readOnly: true)
    screen.type("3jpD")
    viewer.settle()
    #expect(viewer.state.overlay == nil)
    #expect(!viewer.state.bindings.contains { $0.dangerous })
  }

  /// `a` opens the form on the selected queue; a bad field keeps the form
  /// (and what was typed) open with one line; a good one adds the job and
  /// records who added it.
  @Test func theAddJobFormChecksItsFieldsThenAdds() throws {
    let fixture = try ConsoleFixture()
    try fixture.populate()
    let (app, terminal) = fixture.app()
    terminal.type("2a")
    app.settle()
    guard case .addJob(let empty) = app.state.overlay else { Issue.record("no form"); return }
    #expect(empty[.queue] == "emails")
    terminal.type("report.build\t")
    for _ in 0..<2 { terminal.send(.key(.backspace)) }
    terminal.type(#"{"n": 7}"# + "\t5 minutes")
    terminal.send(.key(.enter))
    app.settle()
    guard case .addJob(let bad) = app.state.overlay else { Issue.record("the form closed"); return }
    #expect(bad.error?.hasPrefix("delay: invalid duration '5 minutes'") == true)
    #expect(bad[.name] == "report.build")
    for _ in 0..<"5 minutes".count { terminal.send(.key(.backspace)) }
    terminal.type("5m\t\t0")
    terminal.send(.key(.enter))
    app.settle()
    #expect(app.state.overlay == nil)
    #expect(app.state.message?.hasPrefix("added job ") == true)
    let added = try #require(try fixture.jobs.list(queue: "emails", state: .delayed).first)
    #expect(added.name == "report.build")
    #expect(added.attempts == 10)
    #expect(try fixture.jobs.job(added.id).data == #"{"n": 7}"#)
    #expect(try fixture.jobs.auditTrail(target: "job:\(added.id)").first?.actor == "oncall")
  }

  /// `o` forces a breaker open after asking; the change is shared, in its
  /// history with the user, and audited; Enter shows the history.
  @Test func aBreakerIsForcedOpenFromThePaneAndTheHistoryShowsWho() throws {
    let fixture = try ConsoleFixture()
    try fixture.populate()
    try fixture.populateBreakers()
    let (app, terminal) = fixture.app(width: 120, height: 40)
    terminal.type("4")
    app.settle()
    #expect(app.state.currentBreaker?.name == "bank")
    terminal.type("o")
    app.settle()
    #expect(app.state.overlay == .confirm(.breaker(name: "bank", command: .forceOpen)))
    #expect(
      try #require(terminal.lastFrame).text.contains("Force breaker bank open? Every process stops calling bank."))
    terminal.type("y")
    app.settle()
    #expect(app.state.message == "breaker bank: closed → forced_open")
    #expect(app.state.currentBreaker?.state == .forcedOpen)
    terminal.type("o")
    app.settle()
    #expect(app.state.overlay == nil)
    #expect(app.state.message == "breaker bank is already forced_open")
    terminal.send(.key(.enter))
    app.settle()
    let screen = try #require(terminal.lastFrame).text
    #expect(screen.contains("closed → forced_open  force-open by hand by oncall"))
    #expect(try fixture.jobs.auditTrail(target: "breaker:bank").first?.actor == "oncall")
    let (viewer, viewerScreen) = fixture.app(readOnly: true)
    viewerScreen.type("4jocxdm")
    viewer.settle()
    #expect(viewer.state.overlay == nil)
    #expect(viewer.state.currentBreaker?.state == .open)
  }

  /// Enter on a breaker line of the Overview opens it in the Breakers pane.
  @Test func theOverviewDrillsIntoABreaker() throws {
    let fixture = try ConsoleFixture()
    try fixture.populate()
    try fixture.populateBreakers()
    let (app, terminal) = fixture.app()
    terminal.type("jjjj")
    terminal.send(.key(.enter))
    app.settle()
    #expect(app.state.pane == .breakers)
    #expect(app.state.selectedBreaker == "fx-feed")
  }

  /// `a` then Enter acknowledges the current alert (two keys), the trail
  /// names the user; `u` undoes it; Space marks rows for one ack of several.
  @Test func alertsAreAcknowledgedInTwoKeysAndUndone() throws {
    let fixture = try ConsoleFixture()
    try fixture.populate()
    try fixture.populateAlerts()
    let alerts = AlertStore(store: fixture.store, clock: fixture.clock)
    let (app, terminal) = fixture.app(width: 120, height: 40)
    terminal.type("5")
    app.settle()
    let first = try #require(app.state.currentAlert)
    #expect(first.severity == .critical && first.summary == "payments API down")
    terminal.type("a\r")
    app.settle()
    #expect(try alerts.alert(first.id).status == .acknowledged)
    #expect(try alerts.history(first.id).last?.actor == "oncall")
    #expect(app.state.message == "acknowledged \(first.id) (u undoes)")
    terminal.type("u")
    app.settle()
    #expect(try alerts.alert(first.id).status == .firing)
    // Marked rows: the two criticals, acknowledged together with a note.
    terminal.type("g  ")
    terminal.type("aon it\r")
    app.settle()
    let criticals = try alerts.list(severity: .critical)
    #expect(criticals.allSatisfy { $0.status == .acknowledged })
    #expect(try alerts.history(criticals[1].id).last?.note == "on it")
    #expect(app.state.markedAlerts.isEmpty)
    terminal.type("r")
    app.settle()
    guard case .confirm(.resolve) = app.state.overlay else { Issue.record("resolve did not ask"); return }
    terminal.send(.key(.escape))
    terminal.type("g")
    terminal.send(.key(.enter))
    app.settle()
    #expect(try #require(terminal.lastFrame).text.contains("acknowledged by oncall"))
    let (viewer, screen) = fixture.app(readOnly: true)
    screen.type("5ar u")
    viewer.settle()
    #expect(viewer.state.overlay == nil)
    #expect(!viewer.state.bindings.contains { $0.action == .acknowledgeAlerts })
  }

  /// A critical alert that starts firing rings the bell once; a repeat of
  /// it does not.
  @Test func aNewCriticalAlertRingsTheBell() throws {
    let fixture = try ConsoleFixture()
    try fixture.populate()
    let alerts = AlertStore(store: fixture.store, clock: fixture.clock)
    let (app, terminal) = fixture.app()
    app.settle()
    try alerts.raise(NewAlert(severity: .warning, summary: "disk"))
    terminal.send(.key(.control("r")))
    app.settle()
    #expect(terminal.bells == 0)
    try alerts.raise(NewAlert(severity: .critical, summary: "payments down"))
    terminal.send(.key(.control("r")))
    app.settle()
    #expect(terminal.bells == 1)
    try alerts.raise(NewAlert(severity: .critical, summary: "payments down"))
    terminal.send(.key(.control("r")))
    app.settle()
    #expect(terminal.bells == 1)
    #expect(try #require(terminal.lastFrame).text.contains("Alerts (5):  1 critical  1 warning  firing"))
  }

  /// `s` opens a silence form pre-filled from the alert's labels; a missing
  /// comment keeps it open; with one, the alert is silenced.
  @Test func aSilenceFromTheAlertsPane() throws {
    let fixture = try ConsoleFixture()
    try fixture.populate()
    try fixture.populateAlerts()
    let (app, terminal) = fixture.app(width: 120, height: 40)
    terminal.type("5s")
    app.settle()
    guard case .silence(let form) = app.state.overlay else { Issue.record("no silence form"); return }
    #expect(form.values[.matchers] == "alertname=payments API down, service=payments")
    terminal.send(.key(.enter))
    app.settle()
    guard case .silence(let kept) = app.state.overlay else { Issue.record("the form closed"); return }
    #expect(kept.error?.hasPrefix("comment: say why") == true)
    terminal.type("deploy of payments\r")
    app.settle()
    #expect(app.state.overlay == nil)
    #expect(app.state.message?.hasPrefix("silence 1: alertname=payments API down, service=payments for 2h") == true)
    let silenced = try AlertStore(store: fixture.store, clock: fixture.clock).list(status: "silenced")
    #expect(silenced.map(\.summary) == ["payments API down"])
  }

  /// `f` and `t` narrow the list by severity and by status.
  @Test func alertsFilterBySeverityAndStatus() throws {
    let fixture = try ConsoleFixture()
    try fixture.populate()
    try fixture.populateAlerts()
    let (app, terminal) = fixture.app(width: 120, height: 40)
    terminal.type("5f")
    app.settle()
    #expect(app.state.visibleAlerts.map(\.severity) == [.critical, .critical])
    terminal.type("ffff")
    app.settle()
    #expect(app.state.visibleAlerts.count == 5)
    terminal.type("tt")
    app.settle()
    #expect(app.state.visibleAlerts.map(\.acknowledgedBy) == ["maria"])
    #expect(try #require(terminal.lastFrame).text.contains("Alerts (acknowledged only)"))
  }

  /// `e` extends through a form (audited with the user and the reason),
  /// `x` suppresses after asking; a viewer has neither.
  @Test func aTrialIsExtendedAndSuppressedFromThePane() throws {
    let fixture = try ConsoleFixture()
    try fixture.populate()
    try fixture.populateTrials()
    let (app, terminal) = fixture.app(width: 120, height: 40)
    terminal.type("6")
    app.settle()
    #expect(app.state.selectedAccount == "northwind", "the trial nearest its end comes first")
    let before = try fixture.lifecycle.account("northwind").trialEndsAt
    terminal.type("e")
    app.settle()
    guard case .extendTrial = app.state.overlay else { Issue.record("e did not open the form"); return }
    terminal.send(.key(.enter))
    app.settle()
    #expect(app.state.overlay != nil, "no reason: the form stays open")
    terminal.type("bank API access pending\r")
    app.settle()
    let after = try fixture.lifecycle.account("northwind").trialEndsAt
    #expect(after == before.map { $0.addingTimeInterval(7 * 86_400) })
    let extended = try #require(try fixture.lifecycle.timeline("northwind").last { $0.kind == "trial_extended" })
    #expect(extended.actor == "oncall" && extended.note?.hasSuffix("bank API access pending") == true)
    terminal.type("x")
    app.settle()
    guard case .confirm(.suppress(let account)) = app.state.overlay else { Issue.record("x did not ask"); return }
    terminal.type("y")
    app.settle()
    #expect(try fixture.lifecycle.account(account).suppressedAt != nil)
    let (viewer, screen) = fixture.app(readOnly: true)
    screen.type("6ex")
    viewer.settle()
    #expect(viewer.state.overlay == nil)
    #expect(!viewer.state.bindings.contains { $0.action == .extendTrial || $0.action == .suppress })
  }

  /// From a funnel step to the accounts that dropped off there, and on to
  /// one's timeline; `]` and `w` change what is computed.
  @Test func aStepDrillsIntoItsDropOffsAndAnAccount() throws {
    let fixture = try ConsoleFixture()
    try fixture.populate()
    try fixture.populateTrials()
    try fixture.populateEvents()
    let (app, terminal) = fixture.app(width: 120, height: 40)
    terminal.type("7")
    app.settle()
    let growth = try #require(app.state.snapshot?.growth)
    #expect(growth.name == "trial to paid" && growth.steps.map(\.count) == [6, 4, 2, 1])
    terminal.type("j\r")
    app.settle()
    #expect(app.state.overlay == .dropped(step: 2, selected: 0))
    #expect(try #require(terminal.lastFrame).text.contains("hooli"))
    terminal.type("j\r")
    app.settle()
    #expect(app.state.overlay == .account("northwind"))
    #expect(app.state.accountDetail?.account.id == "northwind")
    terminal.send(.key(.escape))
    terminal.type("]")
    app.settle()
    #expect(app.state.snapshot?.growth?.name == "onboarding")
    terminal.type("w")
    app.settle()
    #expect(app.state.snapshot?.growth?.query.window == .seconds(30 * 86_400))
  }

  @Test func theReadmeCarriesTheKeyTables() throws {
    let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().appendingPathComponent("README.md")
    let text = try String(contentsOf: readme, encoding: .utf8)
    #expect(text.contains(Keymap.markdown()), "run `make docs` to refresh the key reference in README.md")
  }
}
