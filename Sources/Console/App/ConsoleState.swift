import Alerting
import Foundation
import Lifecycle
import Resilience
import Scheduler
import Storage

/// The panes, in tab order.
public enum PaneID: Int, CaseIterable, Sendable {
  case overview = 1
  case jobs = 2
  case schedules = 3
  case breakers = 4
  case alerts = 5
  case trials = 6
  case funnels = 7

  public var title: String {
    switch self {
    case .overview: return "Overview"
    case .jobs: return "Jobs"
    case .schedules: return "Schedules"
    case .breakers: return "Breakers"
    case .alerts: return "Alerts"
    case .trials: return "Trials"
    case .funnels: return "Funnels"
    }
  }
}

/// Who is at the keyboard.
public struct ConsoleUser: Sendable, Equatable {
  public var name: String
  public var readOnly: Bool

  public init(name: String, readOnly: Bool) {
    self.name = name
    self.readOnly = readOnly
  }
}

/// A change an operator asked for, confirmed, to run off the UI loop.
public enum OperatorAction: Sendable, Equatable {
  case retry(jobID: String)
  case remove(jobID: String)
  case promote(jobID: String)
  case setPaused(queue: String, paused: Bool)
  case retryAllFailed(queue: String, count: Int)
  /// Runs a schedule's pending (delayed) job now.
  case runSchedule(id: String, jobID: String)
  case removeSchedule(id: String, source: String)
  /// From the add-job form (the form is its confirmation).
  case addJob(queue: String, name: String, data: String, options: JobOptions)
  case breaker(name: String, command: BreakerCommand)
  case acknowledge(ids: [Int64], note: String?)
  case unacknowledge(ids: [Int64])
  case resolve(ids: [Int64])
  case silence(matchers: [String], seconds: Int64, comment: String)
  /// From the extend form (the form is its confirmation).
  case extendTrial(account: String, days: Int, reason: String)
  case suppress(account: String)
  /// Renders the account's next e-mail and sends it to the operator.
  case sendPreview(account: String)

  static func list(_ ids: [Int64]) -> String { ids.map(String.init).joined(separator: ", ") }

  /// The question the confirmation asks, naming the target.
  public var question: String {
    switch self {
    case .retry(let id): return "Retry job \(id)?"
    case .remove(let id): return "Remove job \(id)? This cannot be undone."
    case .promote(let id): return "Run delayed job \(id) now?"
    case .setPaused(let queue, let paused): return "\(paused ? "Pause" : "Resume") queue \(queue)?"
    case .retryAllFailed(let queue, let count): return "Retry all \(count) failed jobs of \(queue)?"
    case .runSchedule(let id, let job): return "Run schedule \(id) now (job \(job))?"
    case .removeSchedule(let id, let source):
      let back = source == "cli" ? "" : " It comes back when its \(source) is loaded again."
      return "Remove schedule \(id) and its pending job?\(back)"
    case .addJob(let queue, let name, _, _): return "Add job \(name) to \(queue)?"
    case .acknowledge(let ids, _): return "Acknowledge alert\(ids.count == 1 ? "" : "s") \(Self.list(ids))?"
    case .unacknowledge(let ids): return "Undo the ack of alert\(ids.count == 1 ? "" : "s") \(Self.list(ids))?"
    case .resolve(let ids): return "Resolve alert\(ids.count == 1 ? "" : "s") \(Self.list(ids))?"
    case .silence(let matchers, _, _): return "Silence \(matchers.joined(separator: ", "))?"
    case .extendTrial(let account, let days, _): return "Extend the trial of \(account) by \(days) days?"
    case .suppress(let account): return "Stop all lifecycle e-mail to \(account)? Pending e-mails are skipped."
    case .sendPreview(let account): return "Send \(account)'s next e-mail to yourself?"
    case .breaker(let name, let command):
      switch command {
      case .forceOpen: return "Force breaker \(name) open? Every process stops calling \(name)."
      case .close: return "Close breaker \(name)?"
      case .reset: return "Reset breaker \(name) (closed, metrics cleared)?"
      case .disable: return "Disable breaker \(name)? Calls to \(name) go out unguarded."
      case .metricsOnly: return "Make breaker \(name) metrics-only (never opens)?"
      }
    }
  }
}

/// What the app loop must do after an event.
public enum Effect: Sendable, Equatable {
  case quit
  case load(ConsoleRequest)
  case perform(OperatorAction)
  /// Read one job in full (data, every attempt's error, logs) for its view.
  case loadJob(String)
  /// Read a breaker's history and recent calls for its view.
  case loadBreaker(String)
  /// Read an alert and its audit trail for its view.
  case loadAlert(Int64)
  /// Read an account's onboarding, usage and timeline for its view.
  case loadAccount(String)
}

/// Everything on screen, as a value: events in, effects out. Rendering is
/// a pure function of it (see ``Frame``).
public struct ConsoleState: Sendable {
  /// Which list keys move (and `/` filters).
  public enum Focus: Sendable { case queues, jobs, schedules, alerts, trials }
  public enum Overlay: Sendable, Equatable {
    case help
    case confirm(OperatorAction)
    case job(String)
    case addJob(JobForm)
    /// `s` in Alerts: a silence, pre-filled from the alert's labels.
    case silence(SilenceForm)
    case breaker(String)
    case alert(Int64)
    /// `a`: the optional note of an acknowledgement, Enter sends it.
    case ackNote(ids: [Int64], note: String)
    /// Enter in Trials: the account's timeline.
    case account(String)
    /// `e` in Trials: days and a reason.
    case extendTrial(ExtendTrialForm)
    /// Enter on a funnel step: the actors who dropped off there, one selected.
    case dropped(step: Int, selected: Int)
  }

  public var width: Int
  public var height: Int
  public var pane: PaneID = .overview
  public var user: ConsoleUser
  public var databaseName: String
  public var snapshot: ConsoleSnapshot?
  public var liveUpdates = true
  public var overlay: Overlay? = nil
  public var message: String? = nil
  public var focus: Focus = .queues
  public var selectedQueue: String? = nil
  public var stateTab: JobState = .waiting
  /// The selection follows the job (by id), not the row number.
  public var selectedJob: String? = nil
  public var overviewRow = 0
  /// The Schedules pane's selection, by schedule id.
  public var selectedSchedule: String? = nil
  /// The Breakers pane's selection, by dependency name, and the open detail.
  public var selectedBreaker: String? = nil
  public var breakerDetail: BreakerDetail? = nil
  /// The Alerts pane: selection by id, marked rows, severity filter, the
  /// open detail, and the last ack (for `u`, a few seconds long).
  public var selectedAlert: Int64? = nil
  public var markedAlerts: Set<Int64> = []
  public var alertSeverity: Severity? = nil
  /// `t`: every open alert, or only firing, acknowledged or silenced ones.
  public var alertStatus: String? = nil
  public var alertDetail: AlertDetail? = nil
  public var lastAck: (ids: [Int64], at: Date)? = nil
  /// The Funnels pane: which saved funnel and retention report, the window
  /// and range the keys chose, breakdown on or off, the selected step.
  public var growth = GrowthRequest()
  public var selectedStep = 0
  /// The Trials pane's selection, by account id, and the open account.
  public var selectedAccount: String? = nil
  public var accountDetail: AccountDetail? = nil
  /// How long `u` can undo an acknowledgement.
  public static let undoWindow: TimeInterval = 10
  /// The time, as the app loop last read it.
  public var now = Date()
  /// The job whose view is open, read in full.
  public var jobDetail: JobDetail? = nil
  /// `/`: the text the focused list is filtered by, and which list.
  public var filter: String? = nil
  public var filterTarget: Focus = .queues
  public var editingFilter = false
  /// `:`: the open command line, and what was run before.
  public var commandLine: ConsoleCommandLine? = nil
  public var commandHistory: [String] = []
  /// Where the loaded page of jobs sits in its whole list.
  public var listPosition: ListPosition? = nil
  /// Which job to select once the page asked for arrives.
  var pendingPick: PendingPick? = nil

  /// A page of a queue's jobs in one state, and its place in the list.
  public struct ListPosition: Sendable, Equatable {
    var queue: String?
    var state: JobState
    var anchor: JobPageAnchor
    /// The list index of the page's first job (an estimate while jobs move).
    var start: Int
  }

  struct PendingPick: Sendable, Equatable {
    /// Counted from the page's end rather than its start.
    var fromEnd: Bool
    var index: Int
    /// The list index just past the new page, to place a page read backwards.
    var endPosition: Int?
  }

  /// The page position of the list on screen (none: its first page).
  var currentPosition: ListPosition? {
    guard let listPosition, listPosition.queue == selectedQueue, listPosition.state == stateTab else { return nil }
    return listPosition
  }

  /// The list index of the first loaded job.
  public var pageStart: Int { currentPosition?.start ?? 0 }

  /// The queues shown: all, or those matching the filter.
  public var visibleQueues: [QueueStatus] {
    let queues = snapshot?.queues ?? []
    guard let filter, !filter.isEmpty, filterTarget == .queues else { return queues }
    return queues.filter { $0.name.localizedCaseInsensitiveContains(filter) }
  }

  /// The schedules shown: all, or those matching the filter by id, queue or name.
  public var visibleSchedules: [ScheduleInfo] {
    let schedules = snapshot?.schedules ?? []
    guard let filter, !filter.isEmpty, filterTarget == .schedules else { return schedules }
    return schedules.filter {
      $0.id.localizedCaseInsensitiveContains(filter) || $0.queue.localizedCaseInsensitiveContains(filter)
        || $0.name.localizedCaseInsensitiveContains(filter)
    }
  }

  /// The alerts shown: open ones, of the severity filter, matching `/`.
  public var visibleAlerts: [Alert] {
    var alerts = snapshot?.alerts ?? []
    if let severity = alertSeverity { alerts = alerts.filter { $0.severity == severity } }
    switch alertStatus {
    case "firing": alerts = alerts.filter { $0.status == .firing && !$0.silenced }
    case "acknowledged": alerts = alerts.filter { $0.status == .acknowledged }
    case "silenced": alerts = alerts.filter { $0.silenced || ($0.snoozedUntil.map { $0 > now } ?? false) }
    default: break
    }
    guard let filter, !filter.isEmpty, filterTarget == .alerts else { return alerts }
    return alerts.filter {
      $0.summary.localizedCaseInsensitiveContains(filter) || $0.source.localizedCaseInsensitiveContains(filter)
        || $0.labels.values.contains { $0.localizedCaseInsensitiveContains(filter) }
    }
  }

  public var currentAlert: Alert? { visibleAlerts.first { $0.id == selectedAlert } }

  /// The Trials pane's sections, in order, filtered by `/` (id or name).
  public var trialSections: [(title: String, rows: [TrialRow])] {
    let snapshot = self.snapshot
    let now = snapshot?.loadedAt ?? self.now
    func keep(_ account: Account) -> Bool {
      guard let filter, !filter.isEmpty, filterTarget == .trials else { return true }
      return account.id.localizedCaseInsensitiveContains(filter)
        || account.name.localizedCaseInsensitiveContains(filter)
    }
    let trials = (snapshot?.trials ?? []).filter { keep($0.account) }
    let weekAgo = now.addingTimeInterval(-7 * 86_400)
    let converted = (snapshot?.converted ?? []).filter(keep).map { account in
      TrialRow(
        account: account, clock: TrialClock(endsAt: account.trialEndsAt ?? now, now: now), onboardingDone: 0,
        onboardingTotal: 0)
    }
    return [
      ("expiring soon", trials.filter { $0.clock.expiringSoon }),
      ("in trial", trials.filter { !$0.clock.expired && !$0.clock.expiringSoon }),
      ("expired this week", trials.filter { $0.clock.expired && ($0.account.trialEndsAt ?? .distantPast) >= weekAgo }),
      ("converted this week", converted),
    ]
  }

  /// Every account id the Trials pane lists, top to bottom.
  public var visibleTrialIDs: [String] { trialSections.flatMap { $0.rows.map(\.account.id) } }

  /// Marked alerts, or the current one.
  var alertTargets: [Int64] {
    let marked = visibleAlerts.map(\.id).filter { markedAlerts.contains($0) }
    if !marked.isEmpty { return marked }
    return currentAlert.map { [$0.id] } ?? []
  }

  public var currentBreaker: BreakerStatus? {
    snapshot?.breakers.first { $0.name == selectedBreaker }
  }

  public var currentSchedule: ScheduleInfo? {
    visibleSchedules.first { $0.id == selectedSchedule }
  }

  /// The jobs shown: the loaded page, or its jobs matching the filter by id,
  /// name or reason.
  public var visibleJobs: [JobSummary] {
    let jobs = snapshot?.jobs ?? []
    guard let filter, !filter.isEmpty, filterTarget == .jobs else { return jobs }
    return jobs.filter {
      $0.id.localizedCaseInsensitiveContains(filter) || $0.name.localizedCaseInsensitiveContains(filter)
        || ($0.failedReason ?? "").localizedCaseInsensitiveContains(filter)
    }
  }

  public init(width: Int, height: Int, user: ConsoleUser, databaseName: String) {
    self.width = width
    self.height = height
    self.user = user
    self.databaseName = databaseName
  }

  public static let minimumWidth = 80
  public static let minimumHeight = 24

  public var isTooSmall: Bool { width < Self.minimumWidth || height < Self.minimumHeight }

  /// What the database should be asked for now.
  public var request: ConsoleRequest {
    ConsoleRequest(
      queue: selectedQueue, state: stateTab, anchor: currentPosition?.anchor ?? .first,
      growth: pane == .funnels ? growth : nil)
  }

  public var bindings: [KeyBinding] {
    switch pane {
    case .overview: return Keymap.global + Keymap.overview
    case .jobs: return Keymap.global + Keymap.jobs(readOnly: user.readOnly)
    case .schedules: return Keymap.global + Keymap.schedules(readOnly: user.readOnly)
    case .breakers: return Keymap.global + Keymap.breakers(readOnly: user.readOnly)
    case .alerts: return Keymap.global + Keymap.alerts(readOnly: user.readOnly)
    case .trials: return Keymap.global + Keymap.trials(readOnly: user.readOnly)
    case .funnels: return Keymap.global + Keymap.funnels
    }
  }

  // MARK: - Events

  public mutating func apply(_ snapshot: ConsoleSnapshot) {
    self.snapshot = snapshot
    if selectedQueue == nil || !snapshot.queues.contains(where: { $0.name == selectedQueue }) {
      selectedQueue = snapshot.request.queue ?? snapshot.queues.first?.name
    }
    if let pick = pendingPick, snapshot.request == request {
      pendingPick = nil
      let count = snapshot.jobs.count
      if count > 0 {
        let index = pick.fromEnd ? count - pick.index : pick.index
        selectedJob = snapshot.jobs[max(0, min(count - 1, index))].id
      }
      if let end = pick.endPosition, var position = listPosition {
        position.start = snapshot.hasBefore ? max(0, end - count) : 0
        listPosition = position
      }
    }
    if let selected = selectedJob, !snapshot.jobs.contains(where: { $0.id == selected }) {
      selectedJob = snapshot.jobs.first?.id
    } else if selectedJob == nil {
      selectedJob = snapshot.jobs.first?.id
    }
    let alerts = visibleAlerts
    if selectedAlert == nil || !alerts.contains(where: { $0.id == selectedAlert }) { selectedAlert = alerts.first?.id }
    markedAlerts.formIntersection(snapshot.alerts.map(\.id))
    if selectedBreaker == nil || !snapshot.breakers.contains(where: { $0.name == selectedBreaker }) {
      selectedBreaker = snapshot.breakers.first?.name
    }
    if selectedSchedule == nil || !snapshot.schedules.contains(where: { $0.id == selectedSchedule }) {
      selectedSchedule = snapshot.schedules.first?.id
    }
    let accounts = visibleTrialIDs
    if selectedAccount == nil || !accounts.contains(selectedAccount ?? "") { selectedAccount = accounts.first }
  }

  public mutating func handle(_ event: TerminalEvent) -> [Effect] {
    switch event {
    case .resize(let width, let height):
      self.width = width
      self.height = height
      return []
    case .scroll(let up):
      if isTooSmall || overlay != nil { return [] }
      move(by: up ? -3 : 3)
      return []
    case .click(let x, let y):
      if isTooSmall || overlay != nil { return [] }
      return click(x: x, y: y)
    case .key(let key):
      if isTooSmall { return key == .character("q") ? [.quit] : [] }
      return handle(key)
    }
  }

  private mutating func handle(_ key: Key) -> [Effect] {
    if var line = commandLine {
      switch key {
      case .character(let character):
        line.text.append(character)
        commandLine = line
      case .backspace:
        if line.text.isEmpty { commandLine = nil } else { line.text.removeLast(); commandLine = line }
      case .tab: complete()
      case .up: recall(older: true)
      case .down: recall(older: false)
      case .escape: commandLine = nil
      case .enter:
        commandLine = nil
        return execute(line.text)
      default: break
      }
      return []
    }
    if editingFilter {
      switch key {
      case .character(let character): filter = (filter ?? "") + String(character)
      case .backspace: if filter?.isEmpty == false { filter?.removeLast() }
      case .enter: editingFilter = false
      case .escape:
        filter = nil
        editingFilter = false
      default: break
      }
      keepSelectionVisible()
      return []
    }
    if overlay == nil, filter != nil, key == .escape {
      filter = nil
      return []
    }
    if let overlay {
      switch overlay {
      case .ackNote(let ids, var note):
        switch key {
        case .character(let character):
          note.append(character)
          self.overlay = .ackNote(ids: ids, note: note)
        case .backspace:
          if !note.isEmpty { note.removeLast() }
          self.overlay = .ackNote(ids: ids, note: note)
        case .enter:
          self.overlay = nil
          markedAlerts.subtract(ids)
          lastAck = (ids, now)
          message = "acknowledging…"
          return [.perform(.acknowledge(ids: ids, note: note.isEmpty ? nil : note))]
        case .escape:
          self.overlay = nil
          message = "cancelled"
        default: break
        }
        return []
      case .dropped(let step, let selected):
        let actors = snapshot?.growth?.dropped[safe: step - 1] ?? []
        switch key {
        case .character("j"), .down:
          self.overlay = .dropped(step: step, selected: min(selected + 1, max(0, actors.count - 1)))
        case .character("k"), .up: self.overlay = .dropped(step: step, selected: max(0, selected - 1))
        case .enter:
          guard selected < actors.count else { return [] }
          self.overlay = .account(actors[selected])
          accountDetail = nil
          return [.loadAccount(actors[selected])]
        case .escape, .character("q"): self.overlay = nil
        default: break
        }
        return []
      case .help, .job, .breaker, .alert, .account:
        if key == .escape || key == .character("q") || key == .character("?") || key == .enter { self.overlay = nil }
        return []
      case .addJob(var form):
        let step = form.handle(key)
        self.overlay = .addJob(form)
        return finish(step, working: "adding…")
      case .silence(var form):
        let step = form.handle(key)
        self.overlay = .silence(form)
        return finish(step, working: "silencing…")
      case .extendTrial(var form):
        let step = form.handle(key)
        self.overlay = .extendTrial(form)
        return finish(step, working: "extending…")
      case .confirm(let action):
        self.overlay = nil
        if key == .character("y") || key == .enter {
          message = "working: \(action.question.dropLast())…"
          return [.perform(action)]
        }
        message = "cancelled"
        return []
      }
    }
    guard let binding = bindings.first(where: { $0.key == key }) else { return [] }
    return perform(binding.action)
  }

  /// After a form's key: closes it when cancelled or submitted.
  private mutating func finish(_ step: FormStep, working: String) -> [Effect] {
    switch step {
    case .editing: return []
    case .cancelled:
      overlay = nil
      message = "cancelled"
      return []
    case .submitted(let action):
      overlay = nil
      message = working
      return [.perform(action)]
    }
  }

  private mutating func perform(_ action: Action) -> [Effect] {
    let before = request
    switch action {
    case .quit: return [.quit]
    case .help: overlay = .help
    case .nextPane: pane = PaneID(rawValue: pane.rawValue % PaneID.allCases.count + 1) ?? .overview
    case .previousPane:
      pane = PaneID(rawValue: (pane.rawValue + PaneID.allCases.count - 2) % PaneID.allCases.count + 1) ?? .overview
    case .pane(let number): pane = PaneID(rawValue: number) ?? pane
    case .refresh: return [.load(request)]
    case .togglePause:
      liveUpdates.toggle()
      message = liveUpdates ? "live updates on" : "live updates paused (Z to resume)"
    case .up: move(by: -1)
    case .down: move(by: 1)
    case .top: if pagesJobs { jumpJobs(toEnd: false) } else { move(by: Int.min / 2) }
    case .bottom: if pagesJobs { jumpJobs(toEnd: true) } else { move(by: Int.max / 2) }
    case .pageUp: move(by: -max(1, height - 10))
    case .pageDown: move(by: max(1, height - 10))
    case .focusQueues: focus = .queues
    case .focusJobs: focus = .jobs
    case .nextState: stepState(1)
    case .previousState: stepState(-1)
    case .open:
      if pane == .funnels {
        guard let growth = snapshot?.growth, selectedStep >= 1, selectedStep < growth.steps.count else {
          message = "Enter on step 2 or later lists who dropped off there"
          return []
        }
        overlay = .dropped(step: selectedStep + 1, selected: 0)
      } else if pane == .trials {
        guard let account = selectedAccount else { return [] }
        overlay = .account(account)
        accountDetail = nil
        return [.loadAccount(account)]
      } else if pane == .alerts {
        guard let alert = selectedAlert else { return [] }
        overlay = .alert(alert)
        alertDetail = nil
        return [.loadAlert(alert)]
      } else if pane == .breakers {
        guard let breaker = selectedBreaker else { return [] }
        overlay = .breaker(breaker)
        breakerDetail = nil
        return [.loadBreaker(breaker)]
      } else if pane == .schedules {
        // The schedule's queue in Jobs, on the tab of its pending job.
        guard let schedule = currentSchedule else { return [] }
        pane = .jobs
        selectedQueue = schedule.queue
        stateTab = schedule.nextRunAt.map { $0 > (snapshot?.loadedAt ?? .distantPast) } ?? false ? .delayed : .waiting
        selectedJob = schedule.pendingJobID
        focus = .jobs
      } else if pane == .overview {
        let queues = visibleQueues
        if overviewRow < queues.count {
          pane = .jobs
          selectedQueue = queues[overviewRow].name
        } else if let breakers = snapshot?.breakers, overviewRow - queues.count < breakers.count {
          pane = .breakers
          selectedBreaker = breakers[overviewRow - queues.count].name
        }
      } else if let job = selectedJob {
        overlay = .job(job)
        jobDetail = nil
        return [.loadJob(job)]
      }
    case .back: overlay = nil
    case .command:
      commandLine = ConsoleCommandLine()
      message = nil
    case .filter:
      filterTarget =
        pane == .trials
        ? .trials
        : pane == .alerts
          ? .alerts : pane == .schedules ? .schedules : pane == .jobs && focus == .jobs ? .jobs : .queues
      filter = ""
      editingFilter = true
    case .retry:
      if let job = currentJob {
        if job.state == .failed || job.state == .completed {
          overlay = .confirm(.retry(jobID: job.id))
        } else {
          message = "job \(job.id) is \(job.state.name); only failed or completed jobs can be retried"
        }
      }
    case .remove:
      if pane == .schedules {
        if let schedule = currentSchedule {
          overlay = .confirm(.removeSchedule(id: schedule.id, source: schedule.source))
        }
      } else if let job = currentJob {
        overlay = .confirm(.remove(jobID: job.id))
      }
    case .promote:
      if pane == .schedules {
        if let schedule = currentSchedule {
          if let job = schedule.pendingJobID {
            overlay = .confirm(.runSchedule(id: schedule.id, jobID: job))
          } else {
            message = "schedule \(schedule.id) has no pending run"
          }
        }
      } else if let job = currentJob, job.state == .delayed {
        overlay = .confirm(.promote(jobID: job.id))
      }
    case .addJob:
      overlay = .addJob(JobForm(queue: selectedQueue ?? ""))
    case .markAlert:
      if let id = selectedAlert {
        if markedAlerts.contains(id) { markedAlerts.remove(id) } else { markedAlerts.insert(id) }
        move(by: 1)
      }
    case .acknowledgeAlerts:
      let ids = alertTargets.filter { id in visibleAlerts.first { $0.id == id }?.status == .firing }
      if ids.isEmpty {
        message = "nothing firing to acknowledge here"
      } else {
        overlay = .ackNote(ids: ids, note: "")
      }
    case .undoAck:
      if let last = lastAck, now.timeIntervalSince(last.at) <= Self.undoWindow {
        lastAck = nil
        message = "undoing…"
        return [.perform(.unacknowledge(ids: last.ids))]
      }
      message = "nothing to undo (an ack can be undone for \(Int(Self.undoWindow)) s)"
    case .resolveAlerts:
      let ids = alertTargets
      if !ids.isEmpty { overlay = .confirm(.resolve(ids: ids)) }
    case .silenceAlert:
      if let alert = currentAlert { overlay = .silence(SilenceForm(alert: alert)) }
    case .cycleStatus:
      let all: [String?] = [nil, "firing", "acknowledged", "silenced"]
      let index = all.firstIndex(of: alertStatus) ?? 0
      alertStatus = all[(index + 1) % all.count]
      message = "showing \(alertStatus ?? "every open") alert\(alertStatus == nil ? "" : "s")"
    case .cycleSeverity:
      let all: [Severity?] = [nil] + Severity.allCases
      let index = all.firstIndex(of: alertSeverity) ?? 0
      alertSeverity = all[(index + 1) % all.count]
      message = "showing \(alertSeverity?.rawValue ?? "every severity")"
    case .breaker(let command):
      if let breaker = currentBreaker {
        if command != .reset, breaker.state == command.resultingState {
          message = "breaker \(breaker.name) is already \(breaker.state.rawValue)"
        } else {
          overlay = .confirm(.breaker(name: breaker.name, command: command))
        }
      }
    case .nextFunnel, .previousFunnel:
      let count = max(1, snapshot?.growth?.funnelNames.count ?? 1)
      growth.funnel = (growth.funnel + (action == .nextFunnel ? 1 : count - 1)) % count
      growth.window = nil
      selectedStep = 0
    case .cycleWindow:
      let windows: [Duration] = [
        .seconds(86_400), .seconds(7 * 86_400), .seconds(14 * 86_400), .seconds(30 * 86_400), .seconds(90 * 86_400),
      ]
      let current = growth.window ?? snapshot?.growth?.query.window ?? .seconds(14 * 86_400)
      growth.window = windows.first { $0 > current } ?? windows[0]
      message = "window \(growth.window?.compactText ?? "")"
    case .cycleRange:
      let ranges: [Int?] = [nil, 7, 30, 90]
      let index = ranges.firstIndex(of: growth.days) ?? 0
      growth.days = ranges[(index + 1) % ranges.count]
      message = growth.days.map { "events of the last \($0) days" } ?? "every event"
    case .toggleBreakdown:
      guard snapshot?.growth?.savedBreakdown != nil else {
        message = "this funnel has no breakdown property (breakdown = \"…\" in [[analytics.funnels]])"
        return []
      }
      growth.breakdown.toggle()
      message = growth.breakdown ? "breakdown by \(snapshot?.growth?.savedBreakdown ?? "")" : "breakdown off"
    case .nextRetention:
      growth.retention = (growth.retention + 1) % max(1, snapshot?.growth?.retentionNames.count ?? 1)
    case .extendTrial:
      if let id = selectedAccount {
        if snapshot?.trials.contains(where: { $0.account.id == id }) == true {
          overlay = .extendTrial(ExtendTrialForm(account: id))
        } else {
          message = "\(id) is not in a trial"
        }
      }
    case .suppress:
      if let id = selectedAccount { overlay = .confirm(.suppress(account: id)) }
    case .sendPreview:
      if let id = selectedAccount { overlay = .confirm(.sendPreview(account: id)) }
    case .toggleQueuePause:
      if let queue = currentQueue { overlay = .confirm(.setPaused(queue: queue.name, paused: !queue.paused)) }
    case .retryAllFailed:
      if let queue = currentQueue {
        if queue.counts.failed > 0 {
          overlay = .confirm(.retryAllFailed(queue: queue.name, count: queue.counts.failed))
        } else {
          message = "\(queue.name) has no failed jobs"
        }
      }
    }
    return request == before ? [] : [.load(request)]
  }

  /// Click to select: a tab, a queue, a job, an Overview row.
  private mutating func click(x: Int, y: Int) -> [Effect] {
    let before = request
    if y == 1 {
      for tab in Frame.tabLayout(width: width) where x >= tab.x && x <= tab.x + DisplayWidth.of(tab.label) {
        pane = tab.pane
      }
    } else if let snapshot, y >= 2 && y < height - 2 {
      switch pane {
      case .overview:
        let row = y - 5
        if row >= 0 && row < visibleQueues.count { overviewRow = row }
      case .alerts:
        if let id = AlertsPane.alert(atRow: y, self) { selectedAlert = id }
      case .trials:
        if let id = TrialsPane.account(atRow: y, self) { selectedAccount = id }
      case .funnels:
        let row = y - FunnelsPane.firstStepRow
        if row >= 0 && row < (snapshot.growth?.steps.count ?? 0) { selectedStep = row }
      case .breakers:
        let row = y - BreakersPane.firstRow
        if row >= 0 && row < snapshot.breakers.count { selectedBreaker = snapshot.breakers[row].name }
      case .schedules:
        let schedules = visibleSchedules
        let window = SchedulesPane.window(count: schedules.count, selected: selectedScheduleIndex, height: height)
        let index = window.first + (y - SchedulesPane.firstRow)
        if y >= SchedulesPane.firstRow && index < window.end { selectedSchedule = schedules[index].id }
      case .jobs:
        if x < JobsPaneLayout.queueColumn {
          let index = (y - 3) / 2
          if y >= 3 && index < visibleQueues.count {
            focus = .queues
            selectedQueue = visibleQueues[index].name
            selectedJob = nil
          }
        } else {
          let jobs = visibleJobs
          let window = JobsPaneLayout.window(jobs: jobs, selected: selectedJob, height: height)
          let index = window.first + (y - JobsPaneLayout.firstJobRow)
          if y >= JobsPaneLayout.firstJobRow && index < window.end {
            focus = .jobs
            selectedJob = jobs[index].id
          }
        }
      }
    }
    return request == before ? [] : [.load(request)]
  }

  public var currentQueue: QueueStatus? {
    snapshot?.queues.first { $0.name == selectedQueue }
  }

  public var currentJob: JobSummary? {
    visibleJobs.first { $0.id == selectedJob }
  }

  /// The selected schedule's row among those shown.
  var selectedScheduleIndex: Int {
    visibleSchedules.firstIndex { $0.id == selectedSchedule } ?? 0
  }

  /// After the filter changes, the selection moves onto a visible item.
  private mutating func keepSelectionVisible() {
    let queues = visibleQueues
    if filterTarget == .queues, !queues.isEmpty, !queues.contains(where: { $0.name == selectedQueue }) {
      selectedQueue = queues[0].name
      overviewRow = 0
    }
    let jobs = visibleJobs
    if filterTarget == .jobs, !jobs.contains(where: { $0.id == selectedJob }) { selectedJob = jobs.first?.id }
    let schedules = visibleSchedules
    if filterTarget == .schedules, !schedules.contains(where: { $0.id == selectedSchedule }) {
      selectedSchedule = schedules.first?.id
    }
    let accounts = visibleTrialIDs
    if filterTarget == .trials, !accounts.contains(selectedAccount ?? "") { selectedAccount = accounts.first }
  }

  private mutating func stepState(_ step: Int) {
    let all = JobState.allCases
    let index = all.firstIndex(of: stateTab) ?? 0
    stateTab = all[(index + step + all.count) % all.count]
    selectedJob = nil
    focus = .jobs
  }

  private mutating func move(by step: Int) {
    guard snapshot != nil else { return }
    func clamp(_ value: Int, _ count: Int) -> Int { max(0, min(count - 1, value)) }
    if pane == .overview {
      let rows = visibleQueues.count + (snapshot?.breakers.count ?? 0)
      overviewRow = clamp(overviewRow.addingReportingOverflow(step).partialValue, rows)
      return
    }
    if pane == .alerts {
      let ids = visibleAlerts.map(\.id)
      guard !ids.isEmpty else { return }
      let index = ids.firstIndex(of: selectedAlert ?? -1) ?? 0
      selectedAlert = ids[clamp(index.addingReportingOverflow(step).partialValue, ids.count)]
      return
    }
    if pane == .funnels {
      let count = snapshot?.growth?.steps.count ?? 0
      guard count > 0 else { return }
      selectedStep = clamp(selectedStep.addingReportingOverflow(step).partialValue, count)
      return
    }
    if pane == .trials {
      let ids = visibleTrialIDs
      guard !ids.isEmpty else { return }
      let index = ids.firstIndex(of: selectedAccount ?? "") ?? 0
      selectedAccount = ids[clamp(index.addingReportingOverflow(step).partialValue, ids.count)]
      return
    }
    if pane == .breakers {
      let names = snapshot?.breakers.map(\.name) ?? []
      guard !names.isEmpty else { return }
      let index = names.firstIndex(of: selectedBreaker ?? "") ?? 0
      selectedBreaker = names[clamp(index.addingReportingOverflow(step).partialValue, names.count)]
      return
    }
    switch pane == .schedules ? .schedules : focus {
    case .alerts, .trials: return
    case .schedules:
      let ids = visibleSchedules.map(\.id)
      guard !ids.isEmpty else { return }
      selectedSchedule = ids[clamp(selectedScheduleIndex.addingReportingOverflow(step).partialValue, ids.count)]
    case .queues:
      let names = visibleQueues.map(\.name)
      guard !names.isEmpty else { return }
      let index = names.firstIndex(of: selectedQueue ?? "") ?? 0
      selectedQueue = names[clamp(index.addingReportingOverflow(step).partialValue, names.count)]
      selectedJob = nil
    case .jobs:
      let ids = visibleJobs.map(\.id)
      guard !ids.isEmpty else { return }
      let index = ids.firstIndex(of: selectedJob ?? "") ?? 0
      let target = index.addingReportingOverflow(step).partialValue
      if pagesJobs, let snapshot {
        let half = snapshot.jobs.count / 2
        if target >= ids.count, snapshot.hasAfter, half > 0 {
          // Slide the page forward by half, keeping the jobs around the
          // selection on screen; the selection lands once it arrives.
          listPosition = ListPosition(
            queue: selectedQueue, state: stateTab, anchor: .after(snapshot.keys[half - 1]), start: pageStart + half)
          pendingPick = PendingPick(fromEnd: false, index: target - half, endPosition: nil)
          return
        }
        if target < 0, snapshot.hasBefore, half > 0 {
          listPosition = ListPosition(
            queue: selectedQueue, state: stateTab, anchor: .before(snapshot.keys[half]), start: pageStart)
          pendingPick = PendingPick(fromEnd: true, index: half - target, endPosition: pageStart + half)
          return
        }
      }
      selectedJob = ids[clamp(target, ids.count)]
    }
  }

  /// Whether moving in the job list may load other pages: the Jobs pane's
  /// list has focus, shows the page the screen asked for and no filter
  /// (a filter searches the loaded page).
  private var pagesJobs: Bool {
    guard pane == .jobs, focus == .jobs, let snapshot, snapshot.request == request else { return false }
    return filter?.isEmpty ?? true || filterTarget != .jobs
  }

  /// g and G: the list's first or last job, loading that page when needed.
  private mutating func jumpJobs(toEnd: Bool) {
    guard let snapshot else { return }
    if toEnd ? !snapshot.hasAfter : !snapshot.hasBefore {
      selectedJob = (toEnd ? snapshot.jobs.last : snapshot.jobs.first)?.id
      return
    }
    if toEnd {
      let total = currentQueue?.counts.count(of: stateTab) ?? snapshot.jobs.count
      listPosition = ListPosition(
        queue: selectedQueue, state: stateTab, anchor: .last, start: max(0, total - snapshot.request.limit))
      pendingPick = PendingPick(fromEnd: true, index: 1, endPosition: total)
    } else {
      listPosition = nil
      pendingPick = PendingPick(fromEnd: false, index: 0, endPosition: nil)
    }
  }
}

extension Array {
  subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
