import ArgumentParser
import Delivery
import Foundation
import OpsDeck
import Storage

struct FXCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "fx", abstract: "Daily FX rates: fetch them now, or print the newest set.",
    subcommands: [Sync.self, Rates.self])

  static func rates(_ runtime: Runtime, _ purpose: Runtime.Purpose) throws -> FXRates {
    let dependencies = try runtime.dependencies(purpose)
    return FXRates(
      store: dependencies.registry.store, clock: runtime.clock, settings: runtime.config.fx,
      dependencies: dependencies)
  }

  struct Sync: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Fetch the day's rates from [fx] url and store them (what the fx.sync job does).",
      discussion: """
        The whole set is stored in one transaction; a failed fetch or a feed that does
        not parse changes nothing, and the error says so. Exit 1 on failure.

        Example:
          opsdeck fx sync
        """)
    @OptionGroup var global: GlobalOptions

    func run() throws {
      let rates = try FXCommand.rates(global.runtime(), .write)
      defer { try? rates.dependencies.registry.syncAll() }
      let set = try rates.sync()
      Output.line("stored \(set.rates.count) rates against \(set.base) for \(set.date)")
    }
  }

  struct Rates: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "The newest day's rates, flagged stale when older than [fx] stale_after.",
      discussion: "Example:\n  opsdeck fx rates --json")
    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
      let rates = try FXCommand.rates(global.runtime(), .view).latest()
      if json { return try Output.json(rates.map(RateJSON.init)) }
      Output.columns(
        ["DATE", "BASE", "CURRENCY", "RATE", "FETCHED", "STALE"],
        rates.map {
          [$0.date, $0.base, $0.currency, String($0.rate), Timestamp.format($0.fetchedAt), $0.stale ? "stale" : ""]
        })
    }
  }
}

struct RateJSON: Encodable {
  let rate: FXRate
  init(_ rate: FXRate) { self.rate = rate }
  enum CodingKeys: String, CodingKey {
    case date, base, currency, rate, stale
    case fetchedAt = "fetched_at"
  }
  func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(rate.date, forKey: .date)
    try container.encode(rate.base, forKey: .base)
    try container.encode(rate.currency, forKey: .currency)
    try container.encode(rate.rate, forKey: .rate)
    try container.encode(rate.fetchedAt, forKey: .fetchedAt)
    try container.encode(rate.stale, forKey: .stale)
  }
}
