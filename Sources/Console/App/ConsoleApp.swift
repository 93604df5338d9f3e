import Foundation
import GRDB
import Scheduler
import Storage
import Synchronization

/// The console's loop: keys, resizes and data never wait on each other.
/// Snapshots are read on a loader thread, which reloads when the database
/// changes (a cheap `PRAGMA data_version` poll on its own connection), when
/// the screen asks for other data, or on ctrl-r. Operator actions run on
/// another thread and report back in the message line.
public final class ConsoleApp {
  let terminal: any Terminal
  let theme: Theme
  let clock: any Clock
  let loader: SnapshotLoader
  let perform: @Sendable (OperatorAction) -> String
  public private(set) var state: ConsoleState
  private let results = Inbox()
  private let details = DetailInbox()
  private let breakerDetails = Slot<BreakerDetail>()
  private let alertDetails = Slot<AlertDetail>()
  private let accountDetails = Slot<AccountDetail>()
  /// Operator actions still running on their threads.
  private let pendingActions = Counter()
  let data: ConsoleDataSource
  /// Stops the loop at its next turn; safe from signal handlers' queues.
  public let stop = StopRequest()
  /// Ring the bell when a critical alert starts firing.
  public var bellOnCritical = true
  /// The critical alerts firing at the last snapshot (nil before the first).
  private var firingCritical: Set<Int64>? = nil

  /// Applies a snapshot; a critical alert that was not firing before rings.
  private func take(_ snapshot: ConsoleSnapshot) {
    state.apply(snapshot)
    let critical = Set(
      snapshot.alerts.filter { $0.severity == .critical && $0.status == .firing && !$0.silenced }.map(\.id))
    if bellOnCritical, let before = firingCritical, !critical.subtracting(before).isEmpty { terminal.bell() }
    firingCritical = critical
  }

  public init(
    terminal: any Terminal, state: ConsoleState, theme: Theme, clock: any Clock, data: ConsoleDataSource,
    changeWatch: (@Sendable () -> Int?)?, perform: @escaping @Sendable (OperatorAction) -> String
  ) {
    self.terminal = terminal
    self.state = state
    self.theme = theme
    self.clock = clock
    self.loader = SnapshotLoader(data: data, changeWatch: changeWatch)
    self.data = data
    self.perform = perform
  }

  /// Runs until `q` (or a stop request); the terminal is restored on return.
  public func run() {
    defer {
      loader.stop()
      terminal.restore()
    }
    loader.start(state.request)
    var lastDrawn: ScreenBuffer? = nil
    while !stop.isRequested {
      if let snapshot = loader.take() { take(snapshot) }
      if let detail = details.take(), state.overlay == .job(detail.summary.id) { state.jobDetail = detail }
      if let detail = alertDetails.take(), state.overlay == .alert(detail.alert.id) { state.alertDetail = detail }
      if let detail = accountDetails.take(), state.overlay == .account(detail.account.id) {
        state.accountDetail = detail
      }
      if let detail = breakerDetails.take(), state.overlay == .breaker(detail.name) {
        state.breakerDetail = detail
      }
      for message in results.takeAll() {
        state.message = message
        loader.request(state.request, force: true)
      }
      loader.live = state.liveUpdates
      let frame = Frame.render(state, now: clock.now(), theme: theme)
      if frame != lastDrawn {
        terminal.draw(frame)
        lastDrawn = frame
      }
      // Short waits while data is on its way, so it shows as soon as it
      // lands; long ones when nothing is expected.
      let expecting = loader.isBusy || !details.isEmpty || pendingActions.value > 0
      guard let event = terminal.nextEvent(waitingAtMost: expecting ? 5 : 100) else { continue }
      state.now = clock.now()
      if case .key = event, state.overlay == nil { state.message = nil }
      for effect in state.handle(event) {
        switch effect {
        case .quit: return
        case .load(let request): loader.request(request, force: true)
        case .perform(let action):
          let perform = self.perform
          pendingActions.add(1)
          Thread.detachNewThread { [results, pendingActions] in
            let message = perform(action)
            results.append(message)
            pendingActions.add(-1)
          }
        case .loadAlert(let id):
          let data = self.data
          details.expect()
          Thread.detachNewThread { [alertDetails, details] in
            if let detail = try? data.alertDetail(id) { alertDetails.put(detail) }
            details.put(nil)
          }
        case .loadAccount(let id):
          let data = self.data
          details.expect()
          Thread.detachNewThread { [accountDetails, details] in
            if let detail = try? data.account(id) { accountDetails.put(detail) }
            details.put(nil)
          }
        case .loadBreaker(let name):
          let data = self.data
          details.expect()
          Thread.detachNewThread { [breakerDetails, details] in
            if let detail = try? data.breaker(name) { breakerDetails.put(detail) }
            details.put(nil)
          }
        case .loadJob(let id):
          let data = self.data
          details.expect()
          Thread.detachNewThread { [details] in
            details.put(try? data.job(id))
          }
        }
      }
    }
  }

  /// Runs events already queued in a memory terminal, then stops: tests
  /// drive the app as events in, screen out, without sleeping.
  public func settle(maxTurns: Int = 1_000) {
    loader.loadNow(state.request)
    if let snapshot = loader.take() { take(snapshot) }
    for _ in 0..<maxTurns {
      guard let event = terminal.nextEvent(waitingAtMost: 0) else { break }
      state.now = clock.now()
      for effect in state.handle(event) {
        switch effect {
        case .quit: return
        case .load(let request):
          loader.loadNow(request)
          if let snapshot = loader.take() { take(snapshot) }
        case .perform(let action):
          state.message = perform(action)
          loader.loadNow(state.request)
          if let snapshot = loader.take() { take(snapshot) }
        case .loadJob(let id):
          state.jobDetail = try? data.job(id)
        case .loadBreaker(let name):
          state.breakerDetail = try? data.breaker(name)
        case .loadAlert(let id):
          state.alertDetail = try? data.alertDetail(id)
        case .loadAccount(let id):
          state.accountDetail = try? data.account(id)
        }
      }
    }
    terminal.draw(Frame.render(state, now: clock.now(), theme: theme))
  }
}

/// A flag another thread sets to end the loop (SIGTERM, SIGHUP).
public final class StopRequest: Sendable {
  private let flag = Atomic<Bool>(false)
  public func request() { flag.store(true, ordering: .relaxed) }
  public var isRequested: Bool { flag.load(ordering: .relaxed) }
}

/// The latest value another thread handed over, taken once.
final class Slot<Value: Sendable>: Sendable {
  private let value = Mutex<Value?>(nil)
  func put(_ new: Value) { value.withLock { $0 = new } }
  func take() -> Value? {
    value.withLock { taken in
      defer { taken = nil }
      return taken
    }
  }
}

/// A count shared with other threads.
final class Counter: Sendable {
  private let count = Atomic<Int>(0)
  func add(_ delta: Int) { count.add(delta, ordering: .relaxed) }
  var value: Int { count.load(ordering: .relaxed) }
}

/// Messages from the action thread to the UI loop.
final class Inbox: Sendable {
  private let items = Mutex<[String]>([])
  func append(_ item: String) { items.withLock { $0.append(item) } }
  func takeAll() -> [String] {
    items.withLock { taken in
      defer { taken.removeAll() }
      return taken
    }
  }
}

/// The latest job read for its view, and how many reads are under way.
final class DetailInbox: Sendable {
  private let item = Mutex<(detail: JobDetail?, expected: Int)>((nil, 0))
  func expect() { item.withLock { $0.expected += 1 } }
  func put(_ detail: JobDetail?) {
    item.withLock {
      $0.expected -= 1
      if let detail { $0.detail = detail }
    }
  }
  var isEmpty: Bool { item.withLock { $0.detail == nil && $0.expected == 0 } }
  func take() -> JobDetail? {
    item.withLock { taken in
      defer { taken.detail = nil }
      return taken.detail
    }
  }
}

/// Reads snapshots off the UI loop.
final class SnapshotLoader: @unchecked Sendable {
  private let data: ConsoleDataSource
  private let changeWatch: (@Sendable () -> Int?)?
  private let condition = NSCondition()
  private var wanted: ConsoleRequest = ConsoleRequest()
  private var forced = true
  private var latest: ConsoleSnapshot? = nil
  private var loading = false
  private var running = false
  private var thread: Thread? = nil
  private let liveFlag = Atomic<Bool>(true)

  init(data: ConsoleDataSource, changeWatch: (@Sendable () -> Int?)?) {
    self.data = data
    self.changeWatch = changeWatch
  }

  var live: Bool {
    get { liveFlag.load(ordering: .relaxed) }
    set { liveFlag.store(newValue, ordering: .relaxed) }
  }

  func start(_ request: ConsoleRequest) {
    condition.withLock {
      wanted = request
      forced = true
      running = true
    }
    let thread = Thread { [weak self] in self?.loop() }
    thread.name = "opsdeck.console.loader"
    self.thread = thread
    thread.start()
  }

  func stop() {
    condition.withLock {
      running = false
      condition.signal()
    }
  }

  func request(_ request: ConsoleRequest, force: Bool) {
    condition.withLock {
      if request != wanted || force {
        wanted = request
        forced = true
        condition.signal()
      }
    }
  }

  /// A load was asked for, is running, or has landed and not been taken.
  var isBusy: Bool { condition.withLock { forced || loading || latest != nil } }

  func take() -> ConsoleSnapshot? {
    condition.withLock {
      defer { latest = nil }
      return latest
    }
  }

  /// Loads on the calling thread (tests).
  func loadNow(_ request: ConsoleRequest) {
    let snapshot = try? data.load(request)
    condition.withLock { latest = snapshot }
  }

  private func loop() {
    var version = changeWatch?()
    while true {
      let (request, go) = condition.withLock { () -> (ConsoleRequest, Bool?) in
        if !running { return (wanted, nil) }
        if !forced { _ = condition.wait(until: Date().addingTimeInterval(0.25)) }
        if !running { return (wanted, nil) }
        let go = forced
        forced = false
        loading = go
        return (wanted, go)
      }
      guard let go else { return }
      var load = go
      if !load, live, let watch = changeWatch {
        let now = watch()
        if now != version {
          version = now
          load = true
        }
      }
      guard load else { continue }
      condition.withLock { loading = true }
      let snapshot = try? data.load(request)
      condition.withLock {
        loading = false
        if let snapshot { latest = snapshot }
      }
    }
  }
}
