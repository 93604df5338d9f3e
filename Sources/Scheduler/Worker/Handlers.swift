import Foundation
import Storage
import Synchronization

/// What a handler may do while it runs a job: report progress, log lines.
public struct JobContext: Sendable {
  public let job: ClaimedJob
  let jobs: JobStore

  /// Progress as a number 0–100 or any JSON value.
  public func progress(_ json: String) throws { try jobs.reportProgress(job, json: json) }

  public func log(_ line: String) throws { try jobs.appendLog(job, line) }

  /// The job's data parsed as a JSON object (empty when it is not one).
  public var dataObject: [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(job.data.utf8))) as? [String: Any] ?? [:]
  }
}

/// Runs jobs of one name. Throwing fails the attempt with the error's text;
/// the returned string, if any, is stored as the job's return value.
public protocol JobHandler: Sendable {
  func run(_ context: JobContext) async throws -> String?
  /// True for handlers that do no work worth a task of their own (`noop`):
  /// the worker completes them in place.
  var runsInline: Bool { get }
}

extension JobHandler {
  public var runsInline: Bool { false }
}

/// An error a handler reports: its description is what the job records.
public struct HandlerFailure: Error, CustomStringConvertible, Sendable {
  public let description: String
  public init(_ description: String) { self.description = description }
}

/// Handlers by job name. The built-ins are `noop`, `sleep` and `exec`;
/// later engines register their own (`email.send`, `webhook.deliver`, …).
public final class HandlerRegistry: Sendable {
  private let handlers: [String: any JobHandler]

  public init(_ handlers: [String: any JobHandler] = [:]) {
    self.handlers = handlers
  }

  public static let builtIn = HandlerRegistry([
    "noop": NoopHandler(), "sleep": SleepHandler(), "exec": ExecHandler(),
  ])

  public func adding(_ more: [String: any JobHandler]) -> HandlerRegistry {
    HandlerRegistry(handlers.merging(more) { $1 })
  }

  public func handler(named name: String) -> (any JobHandler)? { handlers[name] }

  public var names: [String] { handlers.keys.sorted() }
}

/// Does nothing, successfully.
public struct NoopHandler: JobHandler {
  public init() {}
  public func run(_ context: JobContext) async throws -> String? { nil }
  public var runsInline: Bool { true }
}

/// Sleeps for `{"ms": N}` milliseconds.
public struct SleepHandler: JobHandler {
  public init() {}
  public func run(_ context: JobContext) async throws -> String? {
    guard let milliseconds = (context.dataObject["ms"] as? NSNumber)?.int64Value, milliseconds >= 0 else {
      throw HandlerFailure("sleep needs data {\"ms\": N} with N ≥ 0")
    }
    try await Task.sleep(for: .milliseconds(milliseconds))
    return nil
  }
}

/// Runs a program without a shell: `{"command": "...", "args": [...],
/// "timeout": "30s"}`. A non-zero exit fails the attempt with the tail of
/// its stderr; stdout's tail is the return value. The program finds the
/// job in `OPSDECK_JOB_ID`, `OPSDECK_JOB_QUEUE`, `OPSDECK_JOB_NAME` and
/// `OPSDECK_JOB_ATTEMPT`.
public struct ExecHandler: JobHandler {
  public static let tailBytes = 2_000

  public init() {}

  public func run(_ context: JobContext) async throws -> String? {
    let object = context.dataObject
    guard let command = object["command"] as? String, !command.isEmpty else {
      throw HandlerFailure("exec needs data {\"command\": \"...\", \"args\": [...]}")
    }
    let arguments = (object["args"] as? [Any])?.map { "\($0)" } ?? []
    var timeout: Duration? = nil
    if let text = object["timeout"] as? String {
      do {
        timeout = try Duration(parsing: text)
      } catch {
        throw HandlerFailure("exec timeout: \(error.description)")
      }
    }
    let job = context.job
    let environment = [
      "OPSDECK_JOB_ID": job.id, "OPSDECK_JOB_QUEUE": job.queue, "OPSDECK_JOB_NAME": job.name,
      "OPSDECK_JOB_ATTEMPT": String(job.attemptsMade + 1),
    ]
    return try await Subprocess.run(command: command, arguments: arguments, environment: environment, timeout: timeout)
  }
}

/// One child process, waited for without blocking a thread of the pool,
/// killed when its task is cancelled or its timeout passes.
enum Subprocess {
  static func run(command: String, arguments: [String], environment: [String: String], timeout: Duration?)
    async throws -> String?
  {
    let process = Process()
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    if command.contains("/") {
      process.executableURL = URL(fileURLWithPath: command)
      process.arguments = arguments
    } else {
      process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
      process.arguments = [command] + arguments
    }
    let output = Pipe()
    let errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    process.standardInput = FileHandle.nullDevice
    let stdout = TailBuffer()
    let stderr = TailBuffer()
    let exit = ExitWaiter()
    process.terminationHandler = { finished in exit.finished(finished.terminationStatus) }
    do {
      try process.run()
    } catch {
      throw HandlerFailure("cannot run '\(command)': \(error.localizedDescription)")
    }
    // Each pipe is read to its end on a thread of its own: a readability
    // handler could still be appending a chunk after the exit was seen.
    let readers = DispatchGroup()
    for (pipe, buffer) in [(output, stdout), (errors, stderr)] {
      readers.enter()
      Thread.detachNewThread {
        let handle = pipe.fileHandleForReading
        while case let chunk = handle.availableData, !chunk.isEmpty { buffer.append(chunk) }
        readers.leave()
      }
    }
    let pid = process.processIdentifier
    let timedOut = Atomic<Bool>(false)
    let killer = Task {
      guard let timeout else { return }
      try? await Task.sleep(for: timeout)
      guard !Task.isCancelled else { return }
      timedOut.store(true, ordering: .relaxed)
      kill(pid, SIGTERM)
      try? await Task.sleep(for: .seconds(2))
      kill(pid, SIGKILL)
    }
    // Waits for the exit itself, cancelled or not: cancelling kills the
    // program, which then exits.
    let status = await withTaskCancellationHandler {
      await exit.status()
    } onCancel: {
      kill(pid, SIGTERM)
      DispatchQueue.global().asyncAfter(deadline: .now() + 2) { kill(pid, SIGKILL) }
    }
    killer.cancel()
    // The output ends when the program exits, unless something it started
    // still holds the pipe: then what arrived within a second is kept.
    _ = readers.wait(timeout: .now() + 1)
    if Task.isCancelled { throw CancellationError() }
    if process.terminationReason == .uncaughtSignal {
      if let timeout, timedOut.load(ordering: .relaxed) {
        throw HandlerFailure("'\(command)' timed out after \(timeout.compactText)" + stderr.suffixText)
      }
      throw HandlerFailure("'\(command)' was killed by signal \(status)" + stderr.suffixText)
    }
    guard status == 0 else {
      throw HandlerFailure("'\(command)' exited with status \(status)" + stderr.suffixText)
    }
    let text = stdout.text
    return text.isEmpty ? nil : text
  }
}

/// A child's exit status, for one waiter, whichever comes first.
final class ExitWaiter: @unchecked Sendable {
  private let lock = NSLock()
  private var code: Int32?
  private var waiter: CheckedContinuation<Int32, Never>?

  func finished(_ status: Int32) {
    let waiting: CheckedContinuation<Int32, Never>? = lock.withLock {
      code = status
      defer { waiter = nil }
      return waiter
    }
    waiting?.resume(returning: status)
  }

  func status() async -> Int32 {
    await withCheckedContinuation { continuation in
      let known: Int32? = lock.withLock {
        if let code { return code }
        waiter = continuation
        return nil
      }
      if let known { continuation.resume(returning: known) }
    }
  }
}

/// The last few kilobytes of a stream.
final class TailBuffer: @unchecked Sendable {
  private let lock = NSLock()
  private var data = Data()

  func append(_ chunk: Data) {
    guard !chunk.isEmpty else { return }
    lock.withLock {
      data.append(chunk)
      if data.count > ExecHandler.tailBytes * 2 { data = data.suffix(ExecHandler.tailBytes) }
    }
  }

  var text: String {
    lock.withLock { String(decoding: data.suffix(ExecHandler.tailBytes), as: UTF8.self) }
      .trimmingCharacters(in: .whitespacesAndNewlines)
  }

  var suffixText: String {
    let tail = text
    return tail.isEmpty ? "" : ": " + tail
  }
}
