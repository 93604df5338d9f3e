import Console
import Foundation
import GRDB
import GRDBSQLite
import Logging
import OpsDeck
import Scheduler
import Storage
import Synchronization

// `make bench`: figures, not tests. Each line is one measurement on this
// machine; later issues add the engines' figures here.

func measure(_ label: String, unit: String, count: Int, _ body: () throws -> Void) rethrows {
  let start = DispatchTime.now().uptimeNanoseconds
  try body()
  let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
  let rate = Double(count) / seconds
  let padded = label.padding(toLength: 44, withPad: " ", startingAt: 0)
  print("\(padded) \(String(format: "%12.0f", rate)) \(unit)/s   (\(count) in \(String(format: "%.3f", seconds)) s)")
}

let directory = FileManager.default.temporaryDirectory.appendingPathComponent("opsdeck-bench-\(getpid())")
try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: directory) }

print("opsdeck \(Runtime.version) benchmarks")

let opens = 50
try measure("create + migrate a database file", unit: "files", count: opens) {
  for index in 0..<opens {
    let path = directory.appendingPathComponent("open-\(index).db").path
    let store = try Store.open(path: path, access: .readWrite, create: true)
    try store.migrate(Runtime.migrations, now: Date(), version: Runtime.version)
  }
}

// A durable write per transaction (WAL, synchronous=NORMAL): the floor
// under every engine that writes one row at a time.
let store = try Store.open(path: directory.appendingPathComponent("writes.db").path, access: .readWrite, create: true)
try store.pool.write { db in try db.execute(sql: "CREATE TABLE bench (id INTEGER PRIMARY KEY, body TEXT)") }
let writes = 20_000
try measure("one-row write transactions", unit: "tx", count: writes) {
  for index in 0..<writes {
    try store.pool.write { db in
      try db.execute(sql: "INSERT INTO bench (body) VALUES (?)", arguments: ["row \(index)"])
    }
  }
}
let batched = 500_000
try measure("rows inserted, 1,000 per transaction", unit: "rows", count: batched) {
  for chunk in 0..<(batched / 1_000) {
    try store.pool.write { db in
      let statement = try db.cachedStatement(sql: "INSERT INTO bench (body) VALUES (?)")
      for index in 0..<1_000 { try statement.execute(arguments: ["row \(chunk * 1_000 + index)"]) }
    }
  }
}

let stamps = 1_000_000
var sink = 0
measure("Timestamp.format", unit: "ops", count: stamps) {
  for index in 0..<stamps { sink &+= Timestamp.format(milliseconds: 1_764_000_000_000 + Int64(index) * 997).utf8.count }
}
let hostile = "job \u{1B}]0;owned\u{07}name \u{1B}[31mred\u{1B}[0m \u{202E}txt.exe"
measure("TerminalText.sanitize (escape-laden text)", unit: "ops", count: stamps) {
  for _ in 0..<stamps { sink &+= TerminalText.sanitize(hostile).utf8.count }
}
let example = ConfigRendering.example()
let loads = 2_000
try measure("load and validate the example config", unit: "loads", count: loads) {
  for _ in 0..<loads { _ = try ConfigLoader(environment: [:]).load(text: example, file: "example.toml") }
}

// MARK: - Scheduler

print("")
print("scheduler (no-op jobs, WAL, synchronous=NORMAL, leases on)")

func freshJobStore(_ name: String) throws -> JobStore {
  let store = try Store.open(path: directory.appendingPathComponent(name).path, access: .readWrite, create: true)
  try store.migrate(Runtime.migrations, now: Date(), version: Runtime.version)
  return JobStore(store: store, clock: SystemClock())
}

let singleCount = 100_000
let singleStore = try freshJobStore("single.db")
try measure("jobs added one at a time (Swift API)", unit: "jobs", count: singleCount) {
  for index in 0..<singleCount {
    try singleStore.add(queue: "bench", name: "noop", data: #"{"n":\#(index)}"#)
  }
}

// The same one-job transactions through SQLite's C API, without opsdeck or
// GRDB: the machine's peer figure for the line above.
let raw = try freshJobStore("raw.db")
try raw.store.pool.writeWithoutTransaction { db in
  let connection = db.sqliteConnection
  func prepare(_ sql: String) -> OpaquePointer? {
    var statement: OpaquePointer?
    sqlite3_prepare_v3(connection, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
    return statement
  }
  let begin = prepare("BEGIN IMMEDIATE")
  let commit = prepare("COMMIT")
  let insert = prepare(
    """
    INSERT INTO jobs (custom_id, queue, name, data, state, priority, ready_at, attempts, backoff, timeout_ms,
      remove_on_complete, remove_on_fail, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    """)
  let bump = prepare(
    "INSERT INTO queues (name, waiting) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET waiting = waiting + excluded.waiting"
  )
  let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
  defer { for statement in [begin, commit, insert, bump] { sqlite3_finalize(statement) } }
  try measure("peer: SQLite C API, same rows, 1 per tx", unit: "jobs", count: singleCount) {
    for index in 0..<singleCount {
      sqlite3_step(begin); sqlite3_reset(begin)
      sqlite3_bind_null(insert, 1)
      sqlite3_bind_text(insert, 2, "bench", -1, transient)
      sqlite3_bind_text(insert, 3, "noop", -1, transient)
      sqlite3_bind_text(insert, 4, #"{"n":\#(index)}"#, -1, transient)
      sqlite3_bind_int64(insert, 5, 0)
      sqlite3_bind_int64(insert, 6, 0)
      let now = Int64(Date().timeIntervalSince1970 * 1000)
      sqlite3_bind_int64(insert, 7, now)
      sqlite3_bind_int64(insert, 8, 1)
      for index in 9...12 { sqlite3_bind_null(insert, Int32(index)) }
      sqlite3_bind_int64(insert, 13, now)
      guard sqlite3_step(insert) == SQLITE_DONE else { throw BenchFailure() }
      sqlite3_reset(insert)
      sqlite3_bind_text(bump, 1, "bench", -1, transient)
      sqlite3_bind_int64(bump, 2, 1)
      sqlite3_step(bump); sqlite3_reset(bump)
      guard sqlite3_step(commit) == SQLITE_DONE else { throw BenchFailure() }
      sqlite3_reset(commit)
    }
  }
}
struct BenchFailure: Error {}

let bulkCount = 1_000_000
let bulkStore = try freshJobStore("bulk.db")
try measure("jobs added in bulk (add-bulk, 10,000 per tx)", unit: "jobs", count: bulkCount) {
  try bulkStore.addCopies(queue: "bench", name: "noop", data: "{}", count: bulkCount)
}
let importCount = 200_000
let importJobs = (0..<importCount).map { NewJob(name: "noop", data: #"{"n":\#($0)}"#) }
try measure("jobs added in bulk with data (addBulk)", unit: "jobs", count: importCount) {
  try bulkStore.addBulk(queue: "imported", jobs: importJobs)
}

var quiet = Logger(label: "bench")
quiet.logLevel = .critical
var workerOptions = WorkerOptions()
workerOptions.queues = ["bench"]
workerOptions.concurrency = 1_000
workerOptions.untilEmpty = true
workerOptions.runSchedules = false
let processCount = 500_000
let processStore = try freshJobStore("process.db")
try processStore.addCopies(queue: "bench", name: "noop", data: "{}", count: processCount)
try measure("jobs processed by one worker pool (in-process)", unit: "jobs", count: processCount) {
  try Worker(jobs: processStore, options: workerOptions, logger: quiet).run()
}

// The same through the real binary: `opsdeck work --until-empty`, process
// start-up included.
let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(
  "opsdeck")
if FileManager.default.isExecutableFile(atPath: binary.path) {
  let path = directory.appendingPathComponent("work.db").path
  let workStore = try freshJobStore("work.db")
  try workStore.addCopies(queue: "bench", name: "noop", data: "{}", count: processCount)
  try measure("jobs processed by `opsdeck work` (one process)", unit: "jobs", count: processCount) {
    let process = Process()
    process.executableURL = binary
    process.arguments = [
      "--db", path, "work", "--queue", "bench", "--until-empty", "--concurrency", "1000",
      "--log-level", "error",
    ]
    try process.run()
    process.waitUntilExit()
  }
}

/// Records how late each delayed job started after its due time.
final class LatencyHandler: JobHandler {
  let samples = Mutex<[Double]>([])
  func run(_ context: JobContext) async throws -> String? {
    let due = (context.dataObject["due"] as? NSNumber)?.doubleValue ?? 0
    let late = Date().timeIntervalSince1970 * 1000 - due
    samples.withLock { $0.append(late) }
    return nil
  }
}
let latency = LatencyHandler()
let delayedStore = try freshJobStore("delayed.db")
var delayedOptions = WorkerOptions()
delayedOptions.queues = ["timers"]
delayedOptions.concurrency = 64
let timerWorker = Worker(
  jobs: delayedStore, handlers: HandlerRegistry.builtIn.adding(["latency": latency]), options: delayedOptions,
  logger: quiet)
let timerThread = Thread { try? timerWorker.run() }
timerThread.start()
let timers = 2_000
for index in 0..<timers {
  let delay = Int64(500 + (index * 7919) % 3_000)  // due from 0.5 s to 3.5 s from now, scattered
  let due = Date().timeIntervalSince1970 * 1000 + Double(delay)
  var options = JobOptions()
  options.delayMilliseconds = delay
  try delayedStore.add(queue: "timers", name: "latency", data: #"{"due":\#(due)}"#, options: options)
}
while latency.samples.withLock({ $0.count }) < timers { usleep(20_000) }
timerWorker.stop(grace: .zero)
let lateness = latency.samples.withLock { $0 }.sorted()
func percentile(_ p: Double) -> Double { lateness[min(lateness.count - 1, Int(Double(lateness.count) * p))] }
print(
  "delayed job start after its due time".padding(toLength: 44, withPad: " ", startingAt: 0)
    + String(
      format: "  p50 %.1f ms  p99 %.1f ms  max %.1f ms  (%d jobs)", percentile(0.5), percentile(0.99),
      lateness.last ?? 0, lateness.count))

// How soon a waiting job starts: added by this process (the worker is woken
// in-process) and by another process (noticed through PRAGMA data_version).
let startLatency = LatencyHandler()
let wakeStore = try freshJobStore("wake.db")
var wakeOptions = WorkerOptions()
wakeOptions.queues = ["wake"]
let wakeWorker = Worker(
  jobs: wakeStore, handlers: HandlerRegistry.builtIn.adding(["latency": startLatency]), options: wakeOptions,
  logger: quiet)
let wakeThread = Thread { try? wakeWorker.run() }
wakeThread.start()
usleep(200_000)
let wakes = 200
for _ in 0..<wakes {
  let due = Date().timeIntervalSince1970 * 1000
  try wakeStore.add(queue: "wake", name: "latency", data: #"{"due":\#(due)}"#)
  usleep(5_000)
}
while startLatency.samples.withLock({ $0.count }) < wakes { usleep(10_000) }
func report(_ label: String, _ samples: [Double]) {
  let sorted = samples.sorted()
  func at(_ p: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }
  print(
    label.padding(toLength: 44, withPad: " ", startingAt: 0)
      + String(
        format: "  p50 %.1f ms  p99 %.1f ms  max %.1f ms  (%d jobs)", at(0.5), at(0.99), sorted.last ?? 0,
        sorted.count))
}
report("start of a job added by this process", startLatency.samples.withLock { $0 })
if FileManager.default.isExecutableFile(atPath: binary.path) {
  // Another process adds each job; the latency is from its insert
  // (created_at) to its claim (processed_at), both stored with the job.
  let wakePath = directory.appendingPathComponent("wake.db").path
  let others = 40
  for _ in 0..<others {
    let adder = Process()
    adder.executableURL = binary
    adder.arguments = ["--db", wakePath, "jobs", "add", "wake", "noop"]
    adder.standardOutput = FileHandle.nullDevice
    try adder.run()
    adder.waitUntilExit()
    usleep(30_000)
  }
  var remote: [Double] = []
  while remote.count < others {
    usleep(20_000)
    remote = try wakeStore.store.pool.read { db in
      try Double.fetchAll(
        db, sql: "SELECT processed_at - created_at FROM jobs WHERE name = 'noop' AND processed_at IS NOT NULL")
    }
  }
  report("start of a job added by another process", remote)
}
wakeWorker.stop(grace: .zero)

// An idle `opsdeck work`: CPU time used over five quiet seconds.
if FileManager.default.isExecutableFile(atPath: binary.path) {
  let idlePath = directory.appendingPathComponent("wake.db").path
  let idle = Process()
  idle.executableURL = binary
  idle.arguments = ["--db", idlePath, "work", "--log-level", "error"]
  try idle.run()
  usleep(1_000_000)
  func cpuTicks(_ pid: Int32) -> Double {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return 0 }
    let fields = stat.split(separator: ")").last?.split(separator: " ") ?? []
    return fields.count > 13 ? (Double(fields[11]) ?? 0) + (Double(fields[12]) ?? 0) : 0
  }
  let before = cpuTicks(idle.processIdentifier)
  usleep(5_000_000)
  let after = cpuTicks(idle.processIdentifier)
  idle.terminate()
  idle.waitUntilExit()
  let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
  print(
    "idle `opsdeck work` CPU over 5 s".padding(toLength: 44, withPad: " ", startingAt: 0)
      + String(format: "  %.2f %%", (after - before) / ticksPerSecond / 5 * 100))
}

// MARK: - Console

print("")
print("console (1,000,000 jobs in the database)")
let consoleStore = try freshJobStore("console.db")
try consoleStore.addCopies(queue: "emails", name: "email.send", data: #"{"to":"ana@example.com"}"#, count: 900_000)
try consoleStore.addCopies(queue: "webhooks", name: "webhook.deliver", data: "{}", count: 100_000)
let failing = try consoleStore.claim(queue: "webhooks", limit: 1_000, lockDuration: 60_000).jobs
try consoleStore.finish(failing.map { .failed($0, error: "POST https://hooks.example/x: 503 Service Unavailable") })
let dataSource = ConsoleDataSource(jobs: consoleStore)
let consoleUser = ConsoleUser(name: "bench", readOnly: false)
var frameTimes: [Double] = []
var consoleState = ConsoleState(width: 120, height: 40, user: consoleUser, databaseName: "console.db")
consoleState.pane = .jobs
consoleState.selectedQueue = "webhooks"
consoleState.stateTab = .failed
for _ in 0..<200 {
  let start = DispatchTime.now().uptimeNanoseconds
  let snapshot = try dataSource.load(consoleState.request)
  consoleState.apply(snapshot)
  let frame = Frame.render(consoleState, now: Date(), theme: Theme())
  sink &+= frame.width
  frameTimes.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
}
frameTimes.sort()
print(
  "view model + 120x40 frame, Jobs pane (failed)".padding(toLength: 44, withPad: " ", startingAt: 0)
    + String(format: "  median %.2f ms  p99 %.2f ms", frameTimes[100], frameTimes[197]))
var renderTimes: [Double] = []
for _ in 0..<1_000 {
  let start = DispatchTime.now().uptimeNanoseconds
  sink &+= Frame.render(consoleState, now: Date(), theme: Theme()).height
  renderTimes.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
}
renderTimes.sort()
print(
  "render alone, 120x40".padding(toLength: 44, withPad: " ", startingAt: 0)
    + String(format: "  median %.2f ms", renderTimes[500]))

if sink == 42 { print("") }  // keeps the work from being optimised away
