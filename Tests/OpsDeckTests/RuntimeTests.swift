import Foundation
import OpsDeck
import Storage
import Testing

struct RuntimeTests {
  let directory = FileManager.default.temporaryDirectory.appendingPathComponent("opsdeck-runtime-\(UUID().uuidString)")

  @Test func nowComesFromTheOptionThenTheEnvironment() throws {
    let fixed = try Runtime(RuntimeOptions(now: "2026-03-01T12:00:00Z", environment: [:]))
    #expect(Timestamp.format(fixed.clock.now()) == "2026-03-01T12:00:00Z")
    let fromEnvironment = try Runtime(RuntimeOptions(environment: ["OPSDECK_NOW": "2026-03-02"]))
    #expect(Timestamp.format(fromEnvironment.clock.now()) == "2026-03-02T00:00:00Z")
    #expect(throws: OptionError.self) { try Runtime(RuntimeOptions(now: "tomorrow", environment: [:])) }
  }

  @Test func theDatabasePathComesFromTheOptionThenTheEnvironmentThenTheConfig() throws {
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let config = directory.appendingPathComponent("ops.toml").path
    try "[database]\npath = \"from-config.db\"\n".write(toFile: config, atomically: true, encoding: .utf8)
    let environment = ["OPSDECK_DB": "from-env.db"]
    #expect(
      try Runtime(RuntimeOptions(databasePath: "flag.db", configPath: config, environment: environment)).databasePath
        == "flag.db")
    #expect(try Runtime(RuntimeOptions(configPath: config, environment: environment)).databasePath == "from-env.db")
    #expect(try Runtime(RuntimeOptions(configPath: config, environment: [:])).databasePath == "from-config.db")
    #expect(try Runtime(RuntimeOptions(environment: ["OPSDECK_CONFIG": config])).databasePath == "from-config.db")
  }

  @Test func anExplicitConfigFileMustExistExceptForInit() throws {
    let missing = directory.appendingPathComponent("absent.toml").path
    #expect(throws: ConfigError.self) { try Runtime(RuntimeOptions(configPath: missing, environment: [:])) }
    let runtime = try Runtime(RuntimeOptions(configPath: missing, environment: [:]), configMayBeMissing: true)
    #expect(runtime.configPath == missing)
    #expect(runtime.config.source == nil)
  }
}
