import Foundation
import Storage
import Testing

struct ClockTests {
  @Test func manualClockMovesOnlyWhenAdvanced() throws {
    let start = try Timestamp.parse("2026-01-01T00:00:00Z")
    let clock = ManualClock(start)
    #expect(clock.now() == start)
    clock.advance(by: .seconds(90))
    #expect(Timestamp.format(clock.now()) == "2026-01-01T00:01:30Z")
    clock.advance(by: try Duration(parsing: "30d"))
    #expect(Timestamp.format(clock.now()) == "2026-01-31T00:01:30Z")
    clock.set(to: start)
    #expect(clock.now() == start)
  }
}
