import Foundation
import GRDB
import Resilience
import Storage

/// One day's rates against a base currency.
public struct FXRateSet: Sendable, Equatable {
  public var date: String
  public var base: String
  public var rates: [String: Double]

  public init(date: String, base: String, rates: [String: Double]) {
    self.date = date
    self.base = base
    self.rates = rates
  }
}

/// One stored rate, as `fx rates` prints it.
public struct FXRate: Sendable, Equatable {
  public var date: String
  public var base: String
  public var currency: String
  public var rate: Double
  public var fetchedAt: Date
  public var stale: Bool
}

/// Where daily rates come from (`[fx]`).
public struct FXSettings: Sendable, Equatable {
  public enum Format: String, Sendable { case ecb, json }
  /// http(s):// or file://; nil: no sync.
  public var url: String?
  public var format: Format = .ecb
  /// Rates whose date is older than this are stale.
  public var staleAfterMilliseconds: Int64 = 96 * 3_600_000

  public init() {}
}

public struct FXFeedError: ReportableError, Equatable {
  public let message: String
  public init(_ message: String) { self.message = message }
  public var description: String { message }
  public var isBadInput: Bool { false }
}

/// `fx.sync`: fetches the day's rates through the `fx` dependency's breaker
/// and stores the whole set in one transaction. A failed fetch or a feed
/// that does not parse changes nothing: the last good set stays.
public struct FXRates: Sendable {
  public static let jobName = "fx.sync"
  public static let dependency = "fx"
  public let store: Store
  public let clock: any Clock
  public let settings: FXSettings
  public let dependencies: Dependencies

  public init(store: Store, clock: any Clock, settings: FXSettings, dependencies: Dependencies) {
    self.store = store
    self.clock = clock
    self.settings = settings
    self.dependencies = dependencies
  }

  /// Fetches, parses and stores; returns what was stored.
  @discardableResult
  public func sync() throws -> FXRateSet {
    guard let url = settings.url else { throw FXFeedError("fx: no feed configured (set [fx] url)") }
    let response = try dependencies.call(Self.dependency, HTTPRequest(url: url))
    if !(200..<300).contains(response.status) {
      throw FXFeedError("fx: \(url) answered HTTP \(response.status); the last good rates are kept")
    }
    let set: FXRateSet
    switch settings.format {
    case .ecb: set = try Self.parseECB(response.text)
    case .json: set = try Self.parseJSON(response.body)
    }
    let fetched = clock.now().epochMilliseconds
    try store.writeTransaction { db in
      let insert = try db.cachedStatement(
        sql: """
          INSERT INTO fx_rates (date, base, currency, rate, fetched_at, source) VALUES (?, ?, ?, ?, ?, ?)
          ON CONFLICT (date, base, currency) DO UPDATE SET rate = excluded.rate, fetched_at = excluded.fetched_at,
            source = excluded.source
          """)
      for (currency, rate) in set.rates.sorted(by: { $0.key < $1.key }) {
        try insert.execute(arguments: [set.date, set.base, currency, rate, fetched, url])
      }
    }
    return set
  }

  /// The newest day's rates, each flagged stale when that day is older than `stale_after`.
  public func latest() throws -> [FXRate] {
    try Self.latestStored(store: store, clock: clock, settings: settings)
  }

  /// ``latest()`` without a dependency to fetch through (watchers only read).
  public static func latestStored(store: Store, clock: any Clock, settings: FXSettings) throws -> [FXRate] {
    let now = clock.now()
    return try store.pool.read { db in
      guard let date = try String.fetchOne(db, sql: "SELECT max(date) FROM fx_rates") else { return [] }
      let day = (try? Timestamp.parse(date)) ?? now
      let stale = now.timeIntervalSince(day) * 1000 > Double(settings.staleAfterMilliseconds)
      return try Row.fetchAll(
        db, sql: "SELECT base, currency, rate, fetched_at FROM fx_rates WHERE date = ? ORDER BY base, currency",
        arguments: [date]
      ).map { row in
        FXRate(
          date: date, base: row[0], currency: row[1], rate: row[2],
          fetchedAt: Date(epochMilliseconds: row[3]), stale: stale)
      }
    }
  }

  // MARK: - Feeds

  /// The ECB's daily feed: `<Cube time="2026-11-24">` holding
  /// `<Cube currency="USD" rate="1.0523"/>` entries, against EUR.
  public static func parseECB(_ xml: String) throws -> FXRateSet {
    guard let time = xml.firstMatch(of: /time=['"](\d{4}-\d{2}-\d{2})['"]/) else {
      throw FXFeedError("fx: not an ECB feed (no <Cube time=\"YYYY-MM-DD\">); the last good rates are kept")
    }
    var rates: [String: Double] = [:]
    for match in xml.matches(of: /currency=['"]([A-Z]{3})['"]\s+rate=['"]([0-9.]+)['"]/) {
      guard let rate = Double(match.2), rate > 0 else {
        throw FXFeedError("fx: bad rate '\(match.2)' for \(match.1); the last good rates are kept")
      }
      rates[String(match.1)] = rate
    }
    guard !rates.isEmpty else { throw FXFeedError("fx: the ECB feed has no rates; the last good rates are kept") }
    return FXRateSet(date: String(time.1), base: "EUR", rates: rates)
  }

  /// `{"base": "EUR", "date": "2026-11-24", "rates": {"USD": 1.0523, …}}`.
  public static func parseJSON(_ data: Data) throws -> FXRateSet {
    guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
      let base = object["base"] as? String, base.count == 3,
      let date = object["date"] as? String, date.wholeMatch(of: /\d{4}-\d{2}-\d{2}/) != nil,
      let rates = object["rates"] as? [String: Any], !rates.isEmpty
    else {
      throw FXFeedError(
        "fx: expected {\"base\": \"EUR\", \"date\": \"YYYY-MM-DD\", \"rates\": {\"USD\": 1.05}}; the last good rates are kept"
      )
    }
    var parsed: [String: Double] = [:]
    for (currency, value) in rates {
      guard currency.count == 3, let rate = (value as? NSNumber)?.doubleValue, rate > 0 else {
        throw FXFeedError("fx: bad rate for '\(currency)'; the last good rates are kept")
      }
      parsed[currency] = rate
    }
    return FXRateSet(date: date, base: base, rates: parsed)
  }
}
