import Alerting
import Analytics
import Console
import Delivery
import Foundation
import GRDB
import Lifecycle
import Resilience
import Scheduler
import Storage

/// Where a command's database, configuration and clock come from: the
/// global options, then the environment, then the defaults.
public struct RuntimeOptions: Sendable {
  public var databasePath: String?
  public var configPath: String?
  public var now: String?
  public var environment: [String: String]

  public init(
    databasePath: String? = nil, configPath: String? = nil, now: String? = nil,
    environment: [String: String] = ProcessInfo.processInfo.environment
  ) {
    self.databasePath = databasePath
    self.configPath = configPath
    self.now = now
    self.environment = environment
  }
}

/// A bad global option: `--now`, `--db` or `--config`.
public struct OptionError: ReportableError {
  public let message: String
  public var description: String { message }
  public var isBadInput: Bool { true }
}

/// Wires one process: its configuration, its clock and the database file
/// that every engine shares.
public final class Runtime: Sendable {
  public static let version = "0.1.0"
  public static let defaultConfigFile = "opsdeck.toml"
  public static let defaultDatabaseFile = "opsdeck.db"

  /// Every module's migrations, lower layers first.
  public static let migrations =
    StorageSchema.migrations + SchedulerSchema.migrations + ResilienceSchema.migrations + DeliverySchema.migrations
    + AlertingSchema.migrations + LifecycleSchema.migrations + AnalyticsSchema.migrations

  public let config: OpsDeckConfig
  /// The config file in force, or where `init` writes one.
  public let configPath: String
  /// True when `configPath` was named by `--config` or `OPSDECK_CONFIG`.
  public let configPathIsExplicit: Bool
  public let databasePath: String
  public let clock: any Clock

  /// Resolves the options and loads the configuration. With
  /// `configMayBeMissing`, an explicitly named file that does not exist yet
  /// is fine (`init` is about to write it).
  public init(_ options: RuntimeOptions, configMayBeMissing: Bool = false, checkTemplates: Bool = false) throws {
    let environment = options.environment
    let nowText = options.now ?? environment["OPSDECK_NOW"].flatMap { $0.isEmpty ? nil : $0 }
    if let nowText {
      do {
        clock = ManualClock(try Timestamp.parse(nowText))
      } catch {
        throw OptionError(message: "--now: \(error.description)")
      }
    } else {
      clock = SystemClock()
    }

    let explicitConfig = options.configPath ?? environment["OPSDECK_CONFIG"].flatMap { $0.isEmpty ? nil : $0 }
    configPath = explicitConfig ?? Self.defaultConfigFile
    configPathIsExplicit = explicitConfig != nil
    var loader = ConfigLoader(environment: environment)
    loader.checkTemplates = checkTemplates
    let exists = FileManager.default.fileExists(atPath: configPath)
    if exists || (explicitConfig != nil && !configMayBeMissing) {
      config = try loader.load(file: configPath)
    } else {
      config = loader.defaults()
    }

    let explicitDatabase = options.databasePath ?? environment["OPSDECK_DB"].flatMap { $0.isEmpty ? nil : $0 }
    databasePath = explicitDatabase ?? config.database.path ?? Self.defaultDatabaseFile
    if databasePath.isEmpty { throw OptionError(message: "--db: the database path is empty") }
  }

  public enum Purpose: Sendable {
    /// Create the file if needed and bring it up to date (`init`, `migrate`).
    case create
    /// Read and write engine tables; the file must exist. Pending
    /// migrations are applied first.
    case write
    /// Look only; a read-only file is fine. The schema must be current.
    case view
  }

  public func openStore(_ purpose: Purpose) throws(StoreError) -> Store {
    let busy = config.database.busyTimeout
    switch purpose {
    case .create, .write:
      let store = try Store.open(path: databasePath, access: .readWrite, create: purpose == .create, busyTimeout: busy)
      try store.migrate(Self.migrations, now: clock.now(), version: Self.version)
      return store
    case .view:
      let store = try Store.open(path: databasePath, access: .readWriteIfPossible, busyTimeout: busy)
      try store.requireCurrentSchema(Self.migrations)
      return store
    }
  }
}
