import Foundation
import OpsDeck
import Storage
import Testing

struct SchedulerConfigTests {
  let loader = ConfigLoader(environment: [:])

  func error(_ text: String) -> String? {
    do {
      _ = try loader.load(text: text, file: "ops.toml")
      return nil
    } catch {
      return error.description
    }
  }

  @Test func queuesAndSchedulesAreRead() throws {
    let config = try loader.load(
      text: """
        [scheduler]
        concurrency = 4

        [queues.webhooks]
        concurrency = 16
        rate_max = 100
        rate_per = "1s"

        [[schedules]]
        id = "fx"
        queue = "fx"
        name = "exec"
        cron = "0 6 * * 1-5"
        tz = "Europe/Berlin"
        data = '{"command": "true"}'

        [[schedules]]
        id = "beat"
        queue = "health"
        name = "noop"
        every = "30s"
        limit = 10
        """, file: "ops.toml")
    #expect(config.scheduler.concurrency == 4)
    #expect(config.queues.map(\.name) == ["webhooks"])
    #expect(config.queues.first?.concurrency == 16)
    #expect(config.queues.first?.rateMax == 100)
    #expect(config.queues.first?.ratePer == .seconds(1))
    #expect(config.schedules.map(\.id) == ["fx", "beat"])
    #expect(config.schedules[1].every == .seconds(30))
    let runtime = try Runtime(RuntimeOptions(environment: [:]))
    #expect(runtime.workerOptions().concurrency == 8)
    let again = try loader.load(text: ConfigRendering.effective(config), file: "effective.toml")
    #expect(again.table == config.table)
  }

  @Test func scheduleMistakesNameTheEntryAndLine() {
    #expect(
      error("[[schedules]]\nid = \"a\"\nqueue = \"q\"\nname = \"n\"\n")
        == "ops.toml:1: schedules[0]: expected exactly one of cron and every")
    #expect(
      error(
        "[[schedules]]\nid = \"a\"\nqueue = \"q\"\nname = \"n\"\nevery = \"1s\"\n\n[[schedules]]\nid = \"b\"\nqueue = \"q\"\n"
      )
        == "ops.toml:7: schedules[1]: name is missing")
    #expect(
      error("[[schedules]]\nid = \"b\"\nqueue = \"q\"\nname = \"n\"\ncron = \"0 0 31 2 *\"\n")
        == "ops.toml:5: schedules[0].cron: cron expression '0 0 31 2 *' never fires")
    #expect(
      error("[[schedules]]\nid = \"b\"\nqueue = \"q\"\nname = \"n\"\ncron = \"@daily\"\ntz = \"Europe/Nowhere\"\n")
        == "ops.toml:6: schedules[0].tz: unknown time zone 'Europe/Nowhere' (expected an IANA name such as Europe/Berlin or UTC)"
    )
    #expect(
      error("[[schedules]]\nid = \"b\"\nqueue = \"q\"\nname = \"n\"\nevery = \"1m\"\ndata = \"{\"\n")
        == "ops.toml:6: schedules[0].data: not valid JSON")
    #expect(
      error("[[schedules]]\nid = \"b\"\nqueue = \"q\"\nname = \"n\"\nevery = \"1m\"\nevry = \"2m\"\n")
        == "ops.toml:6: schedules[0].evry: unknown key (did you mean 'every'?)")
    #expect(
      error("[queues.mail]\nrate_max = 5\n") == "ops.toml:1: queues.mail: rate_max and rate_per go together")
    #expect(
      error("[queues.mail]\nconcurency = 5\n")
        == "ops.toml:2: queues.mail.concurency: unknown key (did you mean 'concurrency'?)")
    #expect(error("schedules = 3\n") == "ops.toml:1: schedules: expected [[schedules]] entries, got an integer")
  }

  @Test func accessRolesComeFromTheConfig() throws {
    let config = try loader.load(
      text: "[access]\ndefault_role = \"viewer\"\noperators = [\"oncall\"]\nviewers = [\"growth\"]\n", file: "ops.toml")
    #expect(!config.access.isViewer("oncall"))
    #expect(config.access.isViewer("growth"))
    #expect(config.access.isViewer("someone-else"))
    #expect(!loader.defaults().access.isViewer("anyone"))
    #expect(
      error("[access]\nviewers = [\"ana\"]\noperators = [\"ana\"]\n")
        == "ops.toml:3: access.operators: user 'ana' is both a viewer and an operator")
    #expect(
      error("[access]\ndefault_role = \"admin\"\n")
        == "ops.toml:2: access.default_role: expected one of \"operator\", \"viewer\", got \"admin\"")
  }
}
