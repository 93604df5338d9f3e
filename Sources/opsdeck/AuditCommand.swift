import ArgumentParser
import Foundation
import Storage

struct AuditCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "audit",
    abstract: "Who changed what: every operator action, newest first.",
    discussion: """
      Retries, removals, promotions, pauses, rate limits, drains, cleans and schedule
      changes made from the CLI or the console, each with the Unix user who made it.
      Targets are `kind:id`: job:42, queue:emails, schedule:heartbeat.

      Examples:
        opsdeck audit
        opsdeck audit --target queue:emails --json
      """)
  @OptionGroup var global: GlobalOptions
  @Option(help: "Only entries about this target (job:ID, queue:NAME, schedule:ID).") var target: String?
  @Option(help: "At most this many entries (1 to 10000).") var limit = 50
  @Flag(help: "Print JSON.") var json = false

  func validate() throws {
    guard (1...10_000).contains(limit) else {
      throw ValidationError("invalid --limit \(limit): expected 1 to 10000")
    }
  }

  func run() throws {
    let entries = try global.runtime().jobStore(.view).auditTrail(target: target, limit: limit)
    if json { return try Output.json(entries) }
    Output.columns(
      ["AT", "ACTOR", "ACTION", "TARGET", "DETAIL"],
      entries.map { [Timestamp.format($0.at), $0.actor, $0.action, $0.target, $0.detail ?? ""] })
  }
}
