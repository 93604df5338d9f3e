import ArgumentParser
import Foundation
import OpsDeck
import Storage

struct Init: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Create the database and an example configuration.",
    discussion: """
      Creates the database file (mode 0600) with every migration applied and, unless
      --no-config is given, writes the documented example configuration where opsdeck
      looks for it (--config, $OPSDECK_CONFIG, or ./opsdeck.toml). Existing files are
      left as they are, so running init twice is harmless.

      Example:
        opsdeck --db /tmp/ops.db init
      """)

  @OptionGroup var global: GlobalOptions
  @Flag(help: "Do not write a configuration file.") var noConfig = false
  @Flag(help: "Print the result as JSON.") var json = false

  func run() throws {
    let runtime = try global.runtime(configMayBeMissing: true)
    let report = try runtime.initialize(writeConfig: !noConfig)
    if json { return try Output.json(report) }
    let database = TerminalText.sanitize(report.database)
    if report.databaseCreated {
      Output.line("created database \(database) (\(report.migrationsApplied.count) migrations applied)")
    } else if report.migrationsApplied.isEmpty {
      Output.line("database \(database) already exists and is up to date")
    } else {
      Output.line("database \(database) already exists; applied \(report.migrationsApplied.joined(separator: ", "))")
    }
    if let config = report.config.map({ TerminalText.sanitize($0) }) {
      Output.line(report.configCreated ? "created config \(config)" : "config \(config) already exists; left unchanged")
    }
  }
}

struct Migrate: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Apply pending database migrations.",
    discussion: """
      Brings an existing database up to this opsdeck's schema in one transaction. A
      database migrated by a newer opsdeck is refused, never guessed at. Other processes
      may keep using the file meanwhile: they wait up to database.busy_timeout.

      Example:
        opsdeck --db /var/lib/opsdeck/opsdeck.db migrate
      """)

  @OptionGroup var global: GlobalOptions
  @Flag(help: "Print the result as JSON.") var json = false

  func run() throws {
    let report = try global.runtime().migrate()
    if json { return try Output.json(report) }
    let database = TerminalText.sanitize(report.database)
    if report.applied.isEmpty {
      Output.line("\(database) is up to date (\(report.total) migrations)")
    } else {
      for id in report.applied { Output.line("applied \(id)") }
      Output.line("\(database) is up to date (\(report.total) migrations)")
    }
  }
}

struct Status: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Show the database file and its schema.",
    discussion: """
      A read-only look at the database: size, mode, journal mode and migrations. It
      works on a file opsdeck may not write.

      Example:
        opsdeck --db /var/lib/opsdeck/opsdeck.db status --json
      """)

  @OptionGroup var global: GlobalOptions
  @Flag(help: "Print the result as JSON.") var json = false

  func run() throws {
    let status = try global.runtime().status()
    if json { return try Output.json(status) }
    let rows: [(String, String)] = [
      ("database", status.database + (status.readOnly ? " (read-only)" : "")),
      ("size", "\(status.sizeBytes) bytes"),
      ("mode", status.mode),
      ("journal", status.journalMode),
      (
        "schema",
        status.migrationsPending.isEmpty
          ? "up to date (\(status.migrationsApplied) migrations)"
          : "\(status.migrationsPending.count) pending: \(status.migrationsPending.joined(separator: ", "))"
      ),
      ("created", [status.createdAt, status.createdBy].compactMap { $0 }.joined(separator: " by ")),
      ("config", status.config),
      ("now", Timestamp.format(status.now)),
    ]
    Output.table(rows)
  }
}

struct Version: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Print the versions of opsdeck and the libraries it runs on.",
    discussion: """
      Example:
        opsdeck version --json
      """)

  @Flag(help: "Print the result as JSON.") var json = false

  func run() throws {
    let info = try Runtime.versionInfo()
    if json { return try Output.json(info) }
    Output.line("opsdeck \(info.opsdeck)")
    Output.table([("sqlite", info.sqlite), ("libcurl", info.libcurl), ("ncurses", info.ncurses)])
  }
}

struct ConfigCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "config",
    abstract: "Check the configuration or print the documented example.",
    subcommands: [Check.self, Example.self])

  struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Validate the configuration and print it with every default, secrets as ***.",
      discussion: """
        Reads --config, $OPSDECK_CONFIG or ./opsdeck.toml (the built-in defaults when
        there is none), substitutes ${ENV_VAR} references, and prints the effective
        configuration. A bad file gets one line naming the file, the line, the key and
        what was expected, and exit code 2.

        Example:
          OPSDECK_SMTP_PASSWORD=s3cret opsdeck --config /etc/opsdeck.toml config check
        """)

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print the effective configuration as JSON.") var json = false

    func run() throws {
      let runtime = try global.runtime(checkTemplates: true)
      if json {
        Output.line(try ConfigRendering.json(runtime.config))
      } else {
        Output.text(ConfigRendering.effective(runtime.config))
      }
    }
  }

  struct Example: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Print the documented example configuration (every key at its default).",
      discussion: """
        Example:
          opsdeck config example > opsdeck.toml
        """)

    func run() throws {
      Output.text(ConfigRendering.example())
    }
  }
}
