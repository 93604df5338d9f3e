import ArgumentParser
import Foundation
import Logging
import Storage
import Synchronization

/// How this process logs: one line per event on stderr, as text
/// (`2026-11-25T09:30:00.123Z info worker started queues=all`) or as JSON
/// (`{"at":…,"level":"info","message":…}`). Only the executable configures
/// it; engines just take a `Logger`.
enum LogOutput {
  enum Format: String, ExpressibleByArgument, CaseIterable { case text, json }

  private static let settings = Mutex<(level: Logger.Level, format: Format)>((.info, .text))
  private static let destination = Mutex<FileHandle>(FileHandle.standardError)

  /// Sends log lines to `path` (appended, mode 0600) instead of stderr.
  static func redirect(toFile path: String, level: Logger.Level) throws {
    let descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
    guard descriptor >= 0 else {
      throw UsageError("log.file \(path): cannot open it for writing: \(String(cString: strerror(errno)))")
    }
    destination.withLock { $0 = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true) }
    configure(level: level, format: format)
  }

  static func write(_ line: String) {
    destination.withLock { $0.write(Data((line + "\n").utf8)) }
  }

  static func bootstrap() {
    LoggingSystem.bootstrap { label in LineLogHandler(label: label) }
  }

  static func configure(level: Logger.Level, format: Format) {
    settings.withLock { $0 = (level, format) }
  }

  static var level: Logger.Level { settings.withLock { $0.level } }
  static var format: Format { settings.withLock { $0.format } }

  static func logger(_ label: String) -> Logger {
    var logger = Logger(label: label)
    logger.logLevel = level
    return logger
  }
}

struct LineLogHandler: LogHandler {
  let label: String
  var metadata: Logger.Metadata = [:]
  var logLevel: Logger.Level = LogOutput.level

  subscript(metadataKey key: String) -> Logger.Metadata.Value? {
    get { metadata[key] }
    set { metadata[key] = newValue }
  }

  func log(event: LogEvent) {
    let merged = metadata.merging(event.metadata ?? [:]) { $1 }
    let at = Timestamp.format(Date())
    let line: String
    switch LogOutput.format {
    case .text:
      let fields = merged.sorted { $0.key < $1.key }.map { key, value in
        let text = TerminalText.sanitize("\(value)")
        return "\(key)=" + (text.contains(" ") || text.isEmpty ? "\"\(text)\"" : text)
      }
      line = ([at, event.level.rawValue, TerminalText.sanitize(event.message.description)] + fields).joined(
        separator: " ")
    case .json:
      var object: [String: String] = ["at": at, "level": event.level.rawValue, "message": event.message.description]
      for (key, value) in merged where object[key] == nil { object[key] = "\(value)" }
      let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
      line = String(decoding: data, as: UTF8.self)
    }
    LogOutput.write(line)
  }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

/// Turns SIGTERM, SIGINT and SIGHUP into calls on a queue instead of
/// killing the process.
final class SignalTrap: @unchecked Sendable {
  private let sources: [any DispatchSourceSignal]

  init(_ handlers: [Int32: @Sendable () -> Void]) {
    let queue = DispatchQueue(label: "opsdeck.signals")
    sources = handlers.map { signalNumber, handler in
      signal(signalNumber, SIG_IGN)
      let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: queue)
      source.setEventHandler(handler: handler)
      source.resume()
      return source
    }
  }

  deinit {
    for source in sources { source.cancel() }
  }
}
