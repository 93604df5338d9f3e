import Foundation
import Testing

@Suite struct CommandLineTests {
  @Test(arguments: [
    (["frobnicate"], "opsdeck: Unexpected argument 'frobnicate' (see 'opsdeck --help')"),
    (["migrate", "--frobnicate-all"], "opsdeck: Unknown option '--frobnicate-all' (see 'opsdeck --help')"),
    (
      ["--now", "tomorrow", "status"],
      "opsdeck: --now: invalid time 'tomorrow': expected ISO-8601 such as 2026-11-25T09:30:00Z or 2026-11-25"
    ),
    (
      ["--db", "missing.db", "status"],
      "opsdeck: no database at missing.db (run 'opsdeck --db missing.db init' to create one)"
    ),
    (
      ["--db", "no/such/dir/x.db", "init"],
      "opsdeck: cannot create database no/such/dir/x.db: directory no/such/dir does not exist"
    ),
    (
      ["--config", "absent.toml", "config", "check"],
      "opsdeck: absent.toml: cannot read the configuration file: The file “absent.toml” couldn’t be opened because there is no such file."
    ),
  ])
  func badInputIsOneLineOnStderrAndExitTwo(arguments: [String], message: String) throws {
    let workspace = try Workspace()
    let outcome = try workspace.opsdeck(arguments)
    #expect(outcome.status == 2)
    #expect(outcome.stdout.isEmpty)
    #expect(outcome.stderrLines.count == 1)
    #expect(outcome.stderr.hasPrefix("opsdeck: "))
    if !message.contains("absent.toml") { #expect(outcome.stderr == message + "\n") }
    #expect(!workspace.exists("missing.db"))
  }

  @Test func helpGoesToStdoutAndExitsZero() throws {
    let workspace = try Workspace()
    for arguments in [["--help"], ["migrate", "--help"], ["help", "config", "check"]] {
      let outcome = try workspace.opsdeck(arguments)
      #expect(outcome.status == 0, "\(arguments)")
      #expect(outcome.stdout.contains("USAGE: opsdeck"))
      #expect(outcome.stderr.isEmpty)
    }
  }

  @Test func versionNamesTheLinkedLibraries() throws {
    let workspace = try Workspace()
    let outcome = try workspace.opsdeck(["version", "--json"])
    #expect(outcome.status == 0)
    let object = try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: String]
    #expect(object?["libcurl"]?.hasPrefix("libcurl/") == true)
    #expect(object?["ncurses"]?.hasPrefix("ncurses") == true)
    #expect(object?["sqlite"]?.hasPrefix("3.") == true)
    #expect(object?["opsdeck"] == (try workspace.opsdeck(["--version"]).stdout.trimmingCharacters(in: .newlines)))
  }

  @Test func globalOptionsWorkBeforeAndAfterTheCommand() throws {
    let workspace = try Workspace()
    #expect(try workspace.opsdeck(["init", "--db", "a.db", "--no-config"]).status == 0)
    let before = try workspace.opsdeck(["--db", "a.db", "--now", "2026-02-03T04:05:06Z", "status", "--json"])
    let after = try workspace.opsdeck(["status", "--json", "--now", "2026-02-03T04:05:06Z", "--db", "a.db"])
    #expect(before.status == 0 && after.status == 0)
    #expect(try jsonField(before.stdout, "now") == "2026-02-03T04:05:06Z")
    #expect(try jsonField(after.stdout, "now") == "2026-02-03T04:05:06Z")
  }

  @Test func theEnvironmentSuppliesDatabaseConfigAndNow() throws {
    let workspace = try Workspace()
    try workspace.write("custom.toml", "[database]\nbusy_timeout = \"2s\"\n")
    let environment = [
      "OPSDECK_DB": workspace.path("env.db"), "OPSDECK_CONFIG": "custom.toml", "OPSDECK_NOW": "2026-05-06",
    ]
    #expect(try workspace.opsdeck(["init"], environment: environment).status == 0)
    #expect(workspace.exists("env.db"))
    let status = try workspace.opsdeck(["status", "--json"], environment: environment)
    #expect(try jsonField(status.stdout, "config") == "custom.toml")
    #expect(try jsonField(status.stdout, "now") == "2026-05-06T00:00:00Z")
    #expect(try jsonField(status.stdout, "created_at") == "2026-05-06T00:00:00Z")
  }

  @Test func controlCharactersInAPathNeverReachTheTerminal() throws {
    let workspace = try Workspace()
    let outcome = try workspace.opsdeck(["--db", "evil\u{1B}]0;pwned\u{07}\u{1B}[2J.db", "status"])
    #expect(outcome.status == 2)
    #expect(!outcome.stderr.contains("\u{1B}"))
    #expect(!outcome.stderr.contains("\u{07}"))
    #expect(outcome.stderr.contains("evil.db"))
  }
}
