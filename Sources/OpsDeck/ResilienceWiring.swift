import Delivery
import Foundation
import Resilience
import Storage

extension Runtime {
  /// The configured dependencies, their breakers shared through this
  /// runtime's database.
  public func dependencies(_ purpose: Purpose) throws -> Dependencies {
    Dependencies(store: try openStore(purpose), clock: clock, settings: dependencySettings, actor: Self.currentUser())
  }

  /// The configured dependencies, with `mail` (the mail transport) and `fx`
  /// (the rates feed, when set) given resilience4j's default breaker when the
  /// config has no entry for them.
  public var dependencySettings: [DependencySettings] {
    var all = config.dependencies
    if !all.contains(where: { $0.name == Mailer.dependency }) {
      all.append(DependencySettings(name: Mailer.dependency))
    }
    if config.fx.url != nil, !all.contains(where: { $0.name == FXRates.dependency }) {
      all.append(DependencySettings(name: FXRates.dependency))
    }
    return all
  }

  /// The mailer the config describes, its breaker shared through the database.
  public func mailer() throws -> Mailer {
    Mailer(settings: config.smtp.mail, registry: try dependencies(.write).registry)
  }

  /// The breakers' shared state, every configured dependency included.
  public func breakerStatuses() throws -> [BreakerStatus] {
    let store = try openStore(.view)
    let names = dependencySettings.map(\.name)
    return try store.pool.read { db in try BreakerAdmin.statuses(db, names: names, now: clock.now()) }
  }

  /// A configured dependency's name, or an error naming the ones there are.
  public func requireDependency(_ name: String) throws -> String {
    // Configured ones, and any with a breaker row (the demo's).
    let stored =
      (try? openStore(.view).pool.read { db in try String.fetchAll(db, sql: "SELECT name FROM breakers") }) ?? []
    let names = Array(Set(dependencySettings.map(\.name) + stored)).sorted()
    guard names.contains(name) else {
      let known = names.isEmpty ? "none is configured" : "configured: " + names.joined(separator: ", ")
      throw DependencyConfigError("no dependency named '\(name)' (\(known); add [dependencies.\(name)])")
    }
    return name
  }
}
