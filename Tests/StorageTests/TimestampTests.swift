import Foundation
import Storage
import Testing

struct TimestampTests {
  @Test func formatsUTCWithZAndMillisecondsOnlyWhenPresent() {
    #expect(Timestamp.format(milliseconds: 0) == "1970-01-01T00:00:00Z")
    #expect(Timestamp.format(milliseconds: 1_764_063_000_123) == "2025-11-25T09:30:00.123Z")
    #expect(Timestamp.format(milliseconds: -1) == "1969-12-31T23:59:59.999Z")
    #expect(Timestamp.format(Date(timeIntervalSince1970: 951_782_400)) == "2000-02-29T00:00:00Z")
  }

  @Test func parsesZuluOffsetsAndDates() throws {
    #expect(try Timestamp.parse("2025-11-25T09:30:00Z").timeIntervalSince1970 == 1_764_063_000)
    #expect(try Timestamp.parse("2025-11-25T10:30:00+01:00").timeIntervalSince1970 == 1_764_063_000)
    #expect(try Timestamp.parse("2025-11-25T04:30:00-0500").timeIntervalSince1970 == 1_764_063_000)
    #expect(try Timestamp.parse("2025-11-25T09:30Z").timeIntervalSince1970 == 1_764_063_000)
    #expect(try Timestamp.parse("2025-11-25").timeIntervalSince1970 == 1_764_028_800)
    #expect(abs(try Timestamp.parse("2025-11-25T09:30:00.250Z").timeIntervalSince1970 - 1_764_063_000.25) < 1e-6)
  }

  @Test(arguments: [
    "2025-11-25T09:30:00", "2025-02-29T00:00:00Z", "2025-13-01", "2025-11-25T24:00:00Z", "yesterday", "",
    "2025-11-25T09:30:00Zjunk",
  ])
  func refusesAmbiguousOrImpossibleTimes(text: String) {
    #expect(throws: TimestampSyntaxError.self) { try Timestamp.parse(text) }
  }

  @Test func roundTripsAcrossCenturies() throws {
    for milliseconds: Int64 in [-62_135_596_800_000, 0, 951_782_400_000, 4_102_444_800_000, 1_764_063_000_007] {
      let text = Timestamp.format(milliseconds: milliseconds)
      let parsed = try Timestamp.parse(text)
      #expect(Int64((parsed.timeIntervalSince1970 * 1000).rounded()) == milliseconds, "\(text)")
    }
  }
}
