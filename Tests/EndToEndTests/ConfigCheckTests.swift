import Foundation
import Testing

@Suite struct ConfigCheckTests {
  @Test func aBadFileIsOneLineWithFileLineAndKeyAndExitTwo() throws {
    let workspace = try Workspace()
    try workspace.write(
      "opsdeck.toml",
      """
      [database]
      busy_timeout = "5s"

      [smtp]
      url = "smtp://mail:25"
      pasword = "x"
      """)
    let outcome = try workspace.opsdeck(["config", "check"])
    #expect(outcome.status == 2)
    #expect(outcome.stdout.isEmpty)
    #expect(outcome.stderr == "opsdeck: opsdeck.toml:6: smtp.pasword: unknown key (did you mean 'password'?)\n")
  }

  @Test func everyCommandRefusesABadConfig() throws {
    let workspace = try Workspace()
    #expect(try workspace.opsdeck(["--db", "x.db", "init", "--no-config"]).status == 0)
    try workspace.write("opsdeck.toml", "[log]\nlevel = 3\n")
    let outcome = try workspace.opsdeck(["--db", "x.db", "migrate"])
    #expect(outcome.status == 2)
    #expect(outcome.stderr.hasPrefix("opsdeck: opsdeck.toml:2: log.level: expected one of"))
  }

  @Test func secretsFromTheEnvironmentAreUsedButNeverPrinted() throws {
    let workspace = try Workspace()
    try workspace.write(
      "ops.toml",
      """
      [smtp]
      url = "smtps://relay:${RELAY_PW}@mail.example.com:465"
      username = "relay"
      password = "${OPSDECK_SMTP_PASSWORD}"
      """)
    let environment = ["OPSDECK_SMTP_PASSWORD": "correct-horse-battery", "RELAY_PW": "staple-9"]
    for format in [[], ["--json"]] {
      let outcome = try workspace.opsdeck(
        ["--config", "ops.toml", "config", "check"] + format, environment: environment)
      #expect(outcome.status == 0, "\(outcome.stderr)")
      #expect(!outcome.stdout.contains("correct-horse-battery"))
      #expect(!outcome.stdout.contains("staple-9"))
      #expect(outcome.stdout.contains("***"))
    }
    let missing = try workspace.opsdeck(["--config", "ops.toml", "config", "check"], environment: ["RELAY_PW": "x"])
    #expect(missing.status == 2)
    #expect(
      missing.stderr == "opsdeck: ops.toml:4: smtp.password: environment variable OPSDECK_SMTP_PASSWORD is not set\n")
  }
}
