import Foundation
import GRDB

/// What a finished process left behind.
struct Outcome {
  let status: Int32
  let stdout: String
  let stderr: String

  var stderrLines: [Substring] { stderr.split(separator: "\n") }
}

/// Runs the real binaries: opsdeck from this build, and helper programs.
enum Programs {
  /// The opsdeck executable built next to this test bundle
  /// (`OPSDECK_BIN` overrides).
  static let opsdeck: String = {
    if let path = ProcessInfo.processInfo.environment["OPSDECK_BIN"], !path.isEmpty { return path }
    var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    // The test bundle may sit a level deeper (…/debug/opsdeckPackageTests.xctest/…).
    for _ in 0..<4 {
      let candidate = directory.appendingPathComponent("opsdeck").path
      if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
      directory.deleteLastPathComponent()
    }
    return ".build/debug/opsdeck"
  }()

  /// Runs `opsdeck` with `arguments` in `directory`, with an environment that
  /// holds none of the caller's OPSDECK_* variables unless given.
  static func opsdeck(
    _ arguments: [String], in directory: URL, environment: [String: String] = [:], stdin: String? = nil
  ) throws -> Outcome {
    try run(opsdeck, arguments, in: directory, environment: environment, stdin: stdin)
  }

  static func start(
    _ executable: String, _ arguments: [String], in directory: URL, environment: [String: String] = [:]
  ) throws -> RunningProcess {
    try RunningProcess(executable, arguments, in: directory, environment: environment)
  }

  static func run(
    _ executable: String, _ arguments: [String], in directory: URL, environment: [String: String] = [:],
    stdin: String? = nil
  ) throws -> Outcome {
    let process = try RunningProcess(executable, arguments, in: directory, environment: environment, stdin: stdin)
    return try process.wait()
  }
}

/// A child process whose output goes to files (no pipe can fill up and
/// block it). Spawned and reaped with posix_spawn and waitpid rather than
/// Foundation's `Process`, whose exit monitoring runs on the global
/// dispatch queues: with tests blocking those threads while they wait,
/// it could starve and a finished child would look alive forever.
final class RunningProcess {
  let pid: pid_t
  private let outURL: URL
  private let errURL: URL
  private var status: Int32?

  init(
    _ executable: String, _ arguments: [String], in directory: URL, environment: [String: String],
    stdin: String? = nil
  ) throws {
    let id = UUID().uuidString
    outURL = FileManager.default.temporaryDirectory.appendingPathComponent("opsdeck-out-\(id)")
    errURL = FileManager.default.temporaryDirectory.appendingPathComponent("opsdeck-err-\(id)")
    let inURL = FileManager.default.temporaryDirectory.appendingPathComponent("opsdeck-in-\(id)")
    try Data((stdin ?? "").utf8).write(to: inURL)
    defer { try? FileManager.default.removeItem(at: inURL) }
    var base = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("OPSDECK_") }
    base.merge(environment) { $1 }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, stdin == nil ? "/dev/null" : inURL.path, O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, outURL.path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_addopen(&actions, 2, errURL.path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    // The shell only changes directory, then becomes the program (same pid).
    let shell = ["/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", directory.path, executable] + arguments
    let argv = shell.map { strdup($0) } + [nil]
    let envp = base.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer {
      for pointer in argv { free(pointer) }
      for pointer in envp { free(pointer) }
    }
    // Children start with every signal at its default and none blocked,
    // whatever the test runner ignores.
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var all = sigset_t()
    var none = sigset_t()
    sigfillset(&all)
    sigemptyset(&none)
    posix_spawnattr_setsigdefault(&attributes, &all)
    posix_spawnattr_setsigmask(&attributes, &none)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
    var child: pid_t = 0
    let code = posix_spawn(&child, "/bin/sh", &actions, &attributes, argv, envp)
    guard code == 0 else { throw POSIXError(POSIXErrorCode(rawValue: code) ?? .EINVAL) }
    pid = child
  }

  var isRunning: Bool {
    if status != nil { return false }
    var raw: Int32 = 0
    if waitpid(pid, &raw, WNOHANG) == pid {
      status = Self.exitCode(raw)
      return false
    }
    return true
  }

  private static func exitCode(_ raw: Int32) -> Int32 {
    (raw & 0x7F) == 0 ? (raw >> 8) & 0xFF : 128 + (raw & 0x7F)
  }

  /// Waits for the process; one still running after `timeout` is killed,
  /// so that a hung command fails its test instead of hanging the suite.
  func wait(timeout: TimeInterval = 120) throws -> Outcome {
    let deadline = Date().addingTimeInterval(timeout)
    while isRunning && Date() < deadline { usleep(2_000) }
    if isRunning {
      kill(pid, SIGKILL)
      while isRunning { usleep(2_000) }
    }
    defer {
      try? FileManager.default.removeItem(at: outURL)
      try? FileManager.default.removeItem(at: errURL)
    }
    return Outcome(
      status: status ?? -1,
      stdout: try String(contentsOf: outURL, encoding: .utf8),
      stderr: try String(contentsOf: errURL, encoding: .utf8))
  }

  /// Waits until the process has written `text` to stdout.
  func waitForOutput(containing text: String, timeout: TimeInterval = 10) throws -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
      if let output = try? String(contentsOf: outURL, encoding: .utf8), output.contains(text) { return true }
      if !isRunning { return false }
      usleep(5_000)
    }
    return false
  }
}

/// A fresh directory per test, removed when the test ends.
final class Workspace {
  let url: URL

  init() throws {
    url = FileManager.default.temporaryDirectory.appendingPathComponent("opsdeck-e2e-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  }

  func path(_ name: String) -> String { url.appendingPathComponent(name).path }

  func write(_ name: String, _ contents: String) throws {
    try contents.write(toFile: path(name), atomically: true, encoding: .utf8)
  }

  func read(_ name: String) throws -> String { try String(contentsOfFile: path(name), encoding: .utf8) }

  /// `ops.toml` that delivers e-mail into a maildir here (`mail/`), with
  /// the repository's templates.
  func writeMaildirConfig() throws {
    try write(
      "ops.toml",
      """
      [email]
      transport = "file"
      url = "file://\(path("mail"))"
      [lifecycle]
      templates = "\(LifecycleEmailTests.templates)"
      """)
  }

  func mode(_ name: String) throws -> Int {
    (try FileManager.default.attributesOfItem(atPath: path(name))[.posixPermissions] as? Int) ?? -1
  }

  func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: path(name)) }

  func opsdeck(_ arguments: [String], environment: [String: String] = [:], stdin: String? = nil) throws -> Outcome {
    try Programs.opsdeck(arguments, in: url, environment: environment, stdin: stdin)
  }

  deinit { try? FileManager.default.removeItem(at: url) }
}

/// One number from the database file, read as another process would.
func scalar(_ path: String, _ sql: String) throws -> Int {
  try DatabaseQueue(path: path).read { db in try Int.fetchOne(db, sql: sql) ?? -1 }
}

/// A Python process that takes the write lock of `path`, prints "locked",
/// holds it for `seconds` and commits: another program on the same file.
func lockHolder(_ path: String, seconds: Double, in workspace: Workspace) throws -> RunningProcess {
  let script = """
    import sqlite3, sys, time
    connection = sqlite3.connect(sys.argv[1], isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("BEGIN IMMEDIATE")
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
    connection.execute("COMMIT")
    """
  return try Programs.start("/usr/bin/env", ["python3", "-c", script, path, String(seconds)], in: workspace.url)
}
