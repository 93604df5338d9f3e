import Foundation
import OpsDeck
import Storage
import Testing

struct ConfigLoaderTests {
  let loader = ConfigLoader(environment: ["SMTP_PASS": "hunter2-secret", "MAIL_HOST": "mail.internal"])

  func load(_ text: String) throws(ConfigError) -> OpsDeckConfig {
    try loader.load(text: text, file: "ops.toml")
  }

  func error(_ text: String) -> ConfigError? {
    do {
      _ = try load(text)
      return nil
    } catch {
      return error
    }
  }

  @Test func everyKeyHasADefault() {
    let config = loader.defaults()
    #expect(config.database.path == nil)
    #expect(config.database.busyTimeout == .seconds(5))
    #expect(config.log.level == "info")
    #expect(config.smtp.url == "smtp://localhost:25")
    #expect(config.smtp.password == "")
    #expect(config.source == nil)
  }

  @Test func anEmptyFileMeansTheDefaults() throws {
    let config = try load("")
    #expect(config.table == loader.defaults().table)
    #expect(config.source == "ops.toml")
  }

  @Test func readsValuesAndSubstitutesTheEnvironment() throws {
    let config = try load(
      """
      [database]
      path = "/var/lib/opsdeck/ops.db"
      busy_timeout = "1m30s"

      [smtp]
      url = "smtps://${MAIL_HOST}:465"
      username = "ops"
      password = "${SMTP_PASS}"
      from = "Ops Team <ops@example.com>"
      """)
    #expect(config.database.path == "/var/lib/opsdeck/ops.db")
    #expect(config.database.busyTimeout == .seconds(90))
    #expect(config.smtp.url == "smtps://mail.internal:465")
    #expect(config.smtp.password == "hunter2-secret")
    #expect(config.log.level == "info")
  }

  @Test func fallbacksAndEscapedDollars() throws {
    let config = try load(
      """
      [smtp]
      username = "${UNSET_USER:-ops}"
      password = "pa$$word${UNSET:-}"
      """)
    #expect(config.smtp.username == "ops")
    #expect(config.smtp.password == "pa$word")
  }

  @Test func anUnsetVariableNamesTheFileLineKeyAndVariable() {
    let found = error(
      """
      [smtp]
      username = "ops"
      password = "${OPSDECK_SMTP_PASSWORD}"
      """)
    #expect(found?.description == "ops.toml:3: smtp.password: environment variable OPSDECK_SMTP_PASSWORD is not set")
  }

  @Test func unknownKeysAreErrorsWithASuggestion() {
    #expect(
      error("[smtp]\nhots = \"x\"\n")?.description == "ops.toml:2: smtp.hots: unknown key (did you mean 'url'?)"
        || error("[smtp]\nhots = \"x\"\n")?.description.hasPrefix("ops.toml:2: smtp.hots: unknown key") == true)
    #expect(
      error("[smtp]\nusername = \"a\"\npasword = \"x\"\n")?.description
        == "ops.toml:3: smtp.pasword: unknown key (did you mean 'password'?)")
    #expect(
      error("\n\n[databse]\npath = \"x\"\n")?.description
        == "ops.toml:3: databse: unknown key (did you mean 'database'?)")
    #expect(
      error("[widgets]\n")?.description
        == "ops.toml:1: widgets: unknown key (known sections: \(ConfigSchema.root.map(\.name).joined(separator: ", ")))"
    )
  }

  /// `[smtp]` is `[email]`'s older name: read the same, and errors name it
  /// as written (a file with both: see wrongTypesSayWhatWasExpected).
  @Test func anOlderSectionNameIsReadAndNamedAsWritten() {
    #expect(error("[smtp]\nurl = \"ftp://x\"\n")?.description.hasPrefix("ops.toml:2: smtp.url: ") == true)
    #expect(error("[email]\nurl = \"ftp://x\"\n")?.description.hasPrefix("ops.toml:2: email.url: ") == true)
    #expect((try? load("[smtp]\nfrom = \"Ops <ops@example.test>\"\n"))?.smtp.from == "Ops <ops@example.test>")
  }

  @Test func wrongTypesSayWhatWasExpected() {
    #expect(
      error("[database]\nbusy_timeout = 5\n")?.description
        == "ops.toml:2: database.busy_timeout: expected a duration such as \"30s\", \"5m\" or \"2h\", got an integer")
    #expect(
      error("[database]\nbusy_timeout = \"5 seconds\"\n")?.description
        == "ops.toml:2: database.busy_timeout: expected a duration such as \"30s\", \"5m\" or \"2h\", got \"5 seconds\""
    )
    #expect(
      error("[log]\nlevel = \"verbos\"\n")?.description
        == "ops.toml:2: log.level: expected one of \"trace\", \"debug\", \"info\", \"notice\", \"warning\", \"error\", \"critical\", got \"verbos\""
    )
    #expect(
      error("[log]\nlevel = \"warnin\"\n")?.description.hasSuffix("got \"warnin\" (did you mean \"warning\"?)") == true)
    #expect(
      error("[smtp]\nurl = \"http://user:topsecret@mail\"\n")?.description
        == "ops.toml:2: smtp.url: expected a URL starting with smtp:// or smtps:// or file://, got \"http://user:***@mail\""
    )
    #expect(
      error("[smtp]\nfrom = \"not an address\"\n")?.description
        == "ops.toml:2: smtp.from: expected an e-mail address such as \"Ops <ops@example.com>\", got \"not an address\""
    )
    #expect(error("email = 3\n")?.description == "ops.toml:1: email: expected a table ([email]), got integer")
    // [smtp] is [email]'s older name; both at once is one table too many.
    #expect(error("[email]\n[smtp]\n")?.description.hasPrefix("ops.toml:2: smtp: unknown key") == true)
  }

  @Test func aSecretOfTheWrongShapeIsNotEchoed() {
    let found = error("[smtp]\npassword = 12345\n")
    #expect(found?.description == "ops.toml:2: smtp.password: expected a string, got an integer")
  }

  @Test func theFirstProblemInTheFileIsReported() {
    let found = error(
      """
      [smtp]
      from = "bad"

      [database]
      busy_timeout = "soon"
      """)
    #expect(found?.line == 2)
  }

  @Test func syntaxErrorsCarryLineAndColumn() {
    let found = error("[database]\nbusy_timeout = \"5s\n")
    #expect(found?.line == 2)
    #expect(found?.description.hasPrefix("ops.toml:2:") == true)
    #expect(found?.description.contains("invalid TOML") == true)
  }

  @Test func linesAreFoundPastMultilineValues() {
    let found = error(
      """
      # a comment
      [smtp]
      username = \"\"\"
      [database]
      busy_timeout = 1
      \"\"\"
      from = 'x'
      """)
    #expect(found?.description.hasPrefix("ops.toml:7: smtp.from:") == true)
  }

  @Test func aMissingFileIsOneLineNamingIt() {
    do {
      _ = try loader.load(file: "/nonexistent/opsdeck.toml")
      Issue.record("expected an error")
    } catch {
      #expect(error.description.hasPrefix("/nonexistent/opsdeck.toml: cannot read the configuration file"))
      #expect(!error.description.contains("\n"))
    }
  }
}
