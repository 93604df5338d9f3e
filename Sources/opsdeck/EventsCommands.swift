import Analytics
import ArgumentParser
import Foundation
import OpsDeck
import Storage

struct EventsCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "events", abstract: "Product events: track one (onboarding steps complete by them).",
    subcommands: [Track.self, Import.self])

  struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Import events from JSON lines (a file, or - for stdin); prints imported and skipped counts.",
      discussion: """
        One object per line: {"event","account_id","user_id","ts","properties","event_id"}; ts is
        ISO 8601 or epoch milliseconds. The input is streamed. By default a bad line rejects the
        whole import (nothing is written) and is named with its line number and reason;
        --skip-invalid imports the rest and lists what it skipped. A repeated event_id is
        ignored. On a terminal a progress line shows how far it is.

        Example:
          opsdeck events import events.jsonl
        """)
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The file, or - for stdin.") var file: String
    @Flag(help: "Import the good lines and report the bad ones.") var skipInvalid = false

    func run() throws {
      let handle: FileHandle
      var size: Int? = nil
      if file == "-" {
        handle = FileHandle.standardInput
      } else {
        guard let opened = FileHandle(forReadingAtPath: file) else {
          throw UsageError("\(file): cannot read the file")
        }
        handle = opened
        size = (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? nil
      }
      let runtime = try global.runtime()
      var importer = EventImport(log: try runtime.eventLog(.write), skipInvalid: skipInvalid)
      let terminal = isatty(STDERR_FILENO) == 1
      if terminal {
        importer.progress = { bytes, lines in
          var text = "\rimporting: \(lines) lines"
          if let size, size > 0 {
            let share = min(1, Double(bytes) / Double(size))
            let filled = Int(share * 30)
            text +=
              " [" + String(repeating: "#", count: filled) + String(repeating: ".", count: 30 - filled) + "]"
              + String(format: " %3.0f%%", share * 100)
          }
          FileHandle.standardError.write(Data(text.utf8))
        }
      }
      let report = try importer.run(handle, source: file == "-" ? "stdin" : file)
      if terminal { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
      var summary = "imported \(report.imported), skipped \(report.skipped.count)"
      if report.duplicates > 0 { summary += ", \(report.duplicates) duplicate event ids ignored" }
      Output.line(summary)
      for (line, reason) in report.skipped.prefix(20) { Output.line("  line \(line): \(reason)") }
      if report.skipped.count > 20 { Output.line("  … and \(report.skipped.count - 20) more") }
    }
  }

  struct Track: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Record an event for an account; a repeated --event-id is ignored.",
      discussion: """
        An event named by an onboarding step ([[lifecycle.onboarding]] event) completes that
        step for the account, and any event counts as activity.

        Example:
          opsdeck events track bank.connected --account acme --user ana --prop bank=ing
        """)
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The event's name.") var name: String
    @Option(help: "The account it belongs to.") var account: String
    @Option(help: "The user, when it is someone's.") var user: String?
    @Option(name: .customLong("prop"), help: "A property, name=value (repeatable).") var properties: [String] = []
    @Option(help: "When it happened (ISO 8601; default now).") var at: String?
    @Option(help: "The event's own id, for dedup.") var eventId: String?

    func run() throws {
      var parsed: [String: String] = [:]
      for property in properties {
        let parts = property.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2, !parts[0].isEmpty else {
          throw ValidationError("invalid --prop '\(property)': expected name=value")
        }
        parsed[parts[0]] = parts[1]
      }
      let runtime = try global.runtime()
      let when: Date
      if let at {
        do { when = try Timestamp.parse(at) } catch { throw ValidationError("invalid --at: \(error)") }
      } else {
        when = runtime.clock.now()
      }
      let result = try runtime.track(
        TrackedEvent(name: name, accountID: account, userID: user, at: when, properties: parsed, eventID: eventId))
      guard result.recorded else { return Output.line("event id \(eventId ?? "") seen before: ignored") }
      let done = result.completed.isEmpty ? "" : " (onboarding: \(result.completed.joined(separator: ", ")) done)"
      Output.line("recorded \(name) for \(account)\(done)")
    }
  }
}
