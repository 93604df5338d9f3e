import ArgumentParser
import Foundation
import OpsDeck
import Storage

/// The options every command takes, before or after the command's name.
struct GlobalOptions: ParsableArguments {
  @Option(
    name: .customLong("db"),
    help: ArgumentHelp("The database file (default: $OPSDECK_DB, then ./opsdeck.db).", valueName: "path"))
  var databasePath: String?

  @Option(
    name: .customLong("config"),
    help: ArgumentHelp(
      "The configuration file (default: $OPSDECK_CONFIG, then ./opsdeck.toml if present).", valueName: "path"))
  var configPath: String?

  @Option(
    help: ArgumentHelp(
      "Run at this fixed instant, ISO-8601 (default: $OPSDECK_NOW, then the system clock).", valueName: "iso8601"))
  var now: String?

  var runtimeOptions: RuntimeOptions {
    RuntimeOptions(databasePath: databasePath, configPath: configPath, now: now)
  }

  /// `checkTemplates`: also render-check the lifecycle templates (`config
  /// check` and `run`; other commands skip reading every template file).
  func runtime(configMayBeMissing: Bool = false, checkTemplates: Bool = false) throws -> Runtime {
    try Runtime(runtimeOptions, configMayBeMissing: configMayBeMissing, checkTemplates: checkTemplates)
  }
}

struct OpsDeckCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "opsdeck",
    abstract: "The operations console of a trial-led SaaS: jobs, alerts, breakers, trials and funnels.",
    discussion: """
      One binary runs the business's operational engines against one SQLite file and
      shows them in a terminal console. Listings take --json (snake_case keys, UTC
      times with Z). Errors are one line on stderr; the exit code is 0 on success, 1
      when the work failed and 2 when the input was bad.

      Example:
        opsdeck --db /var/lib/opsdeck/opsdeck.db init
      """,
    version: Runtime.version,
    subcommands: [
      ConsoleCommand.self, Init.self, Migrate.self, Status.self, JobsCommand.self, QueuesCommand.self,
      SchedulesCommand.self, AuditCommand.self, BreakersCommand.self, ProbeCommand.self, MailCommand.self,
      WebhooksCommand.self, FXCommand.self, AlertsCommand.self, AccountsCommand.self, TrialsCommand.self,
      LifecycleCommand.self, OutboxCommand.self, UsageCommand.self, EventsCommand.self, FunnelCommand.self,
      RetentionCommand.self, MetricsCommand.self,
      CronCommand.self, Work.self, Run.self, Demo.self, ConfigCommand.self, Version.self,
    ],
    defaultSubcommand: ConsoleCommand.self
  )

  @OptionGroup var global: GlobalOptions
}
