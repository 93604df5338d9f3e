import Storage
import Testing

struct DurationTextTests {
  @Test(arguments: [
    ("250ms", Int64(250)), ("30s", 30_000), ("5m", 300_000), ("2h", 7_200_000), ("14d", 1_209_600_000),
    ("1h30m", 5_400_000), ("1.5s", 1_500), ("0", 0), ("2w", 1_209_600_000), (" 10s ", 10_000),
  ])
  func parsesEveryUnitAndSums(text: String, milliseconds: Int64) throws {
    #expect(try Duration(parsing: text).milliseconds == milliseconds)
  }

  @Test(arguments: ["", "10", "s", "10x", "-5s", "5 s", "1.2.3s", "abc"])
  func rejectsMalformedTextWithAReason(text: String) {
    #expect(throws: DurationSyntaxError.self) { try Duration(parsing: text) }
  }

  @Test func errorNamesTheInputAndTheExpectedForm() {
    do {
      _ = try Duration(parsing: "10x")
      Issue.record("expected an error")
    } catch {
      #expect(error.description.contains("'10x'"))
      #expect(error.description.contains("unknown unit 'x'"))
      #expect(error.description.contains("30s"))
    }
  }

  @Test func compactTextReadsBack() throws {
    for text in ["90s", "250ms", "1d2h3m4s5ms", "14d", "0s"] {
      let duration = try Duration(parsing: text)
      #expect(try Duration(parsing: duration.compactText) == duration)
    }
    #expect(try Duration(parsing: "90s").compactText == "1m30s")
  }
}
