import Foundation
import OpsDeck
import Storage
import Testing

struct ConfigRenderingTests {
  static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

  @Test func secretsAreMaskedInTextAndJSON() throws {
    let loader = ConfigLoader(environment: ["SMTP_PASS": "hunter2-secret"])
    let config = try loader.load(
      text: """
        [smtp]
        url = "smtp://relay:innerpw@mail.example.com:587"
        password = "${SMTP_PASS}"
        """,
      file: "ops.toml")
    let text = ConfigRendering.effective(config)
    let json = try ConfigRendering.json(config)
    for output in [text, json] {
      #expect(!output.contains("hunter2-secret"))
      #expect(!output.contains("innerpw"))
    }
    #expect(text.contains("password = \"***\""))
    #expect(text.contains("url = \"smtp://relay:***@mail.example.com:587\""))
    #expect(json.contains("\"password\":\"***\""))
  }

  @Test func theEffectiveConfigurationReadsBackAsTheSameConfiguration() throws {
    let loader = ConfigLoader(environment: [:])
    let config = try loader.load(
      text: "[database]\nbusy_timeout = \"90s\"\n[log]\nlevel = \"debug\"\nfile = \"a \\\"quoted\\\" name.log\"\n",
      file: "ops.toml")
    let again = try loader.load(text: ConfigRendering.effective(config), file: "effective.toml")
    #expect(again.table == config.table)
  }

  @Test func theExampleIsValidAndEqualsTheDefaults() throws {
    let loader = ConfigLoader(environment: [:])
    let example = try loader.load(text: ConfigRendering.example(), file: "example.toml")
    #expect(example.table == loader.defaults().table)
  }

  @Test func theShippedExampleFileIsTheGeneratedOne() throws {
    let shipped = try String(
      contentsOf: Self.repository.appendingPathComponent("data/opsdeck.example.toml"), encoding: .utf8)
    #expect(shipped == ConfigRendering.example(), "run `make docs` to regenerate data/opsdeck.example.toml")
  }

  @Test func theReadmeCarriesTheExampleFile() throws {
    let readme = try String(contentsOf: Self.repository.appendingPathComponent("README.md"), encoding: .utf8)
    #expect(
      readme.contains("```toml\n" + ConfigRendering.example() + "```"),
      "run `make docs` to refresh the configuration reference in README.md")
  }
}
