import Analytics
import ArgumentParser
import Foundation
import OpsDeck
import Storage

struct EventsCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "events", abstract: "Product events: track one (onboarding steps complete by them).",
    subcommands: [Track.self])

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
