import Foundation
import GRDB
import OpsDeck
import Storage

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
if sink == 42 { print("") }  // keeps the work from being optimised away
