import Foundation
import Scheduler
import Storage
import Testing

struct JobPageTests {
  /// Walking a state's list page by page, forwards from the first page and
  /// backwards from the last, visits every job once, in `list`'s order.
  func walk(_ fixture: Fixture, _ state: JobState, pageSize: Int = 7) throws {
    let expected = try fixture.jobs.list(queue: "q", state: state, limit: 10_000).map(\.id)
    #expect(!expected.isEmpty)
    var forwards: [String] = []
    var page = try fixture.jobs.page(queue: "q", state: state, anchor: .first, limit: pageSize)
    while !page.jobs.isEmpty {
      forwards += page.jobs.map(\.id)
      page = try fixture.jobs.page(queue: "q", state: state, anchor: .after(page.keys.last!), limit: pageSize)
    }
    #expect(forwards == expected, "forwards through \(state.name)")
    var backwards: [String] = []
    page = try fixture.jobs.page(queue: "q", state: state, anchor: .last, limit: pageSize)
    while !page.jobs.isEmpty {
      backwards = page.jobs.map(\.id) + backwards
      page = try fixture.jobs.page(queue: "q", state: state, anchor: .before(page.keys.first!), limit: pageSize)
    }
    #expect(backwards == expected, "backwards through \(state.name)")
  }

  @Test func pagesOfEveryStateCoverTheListOnceInOrder() throws {
    let fixture = try Fixture()
    // Waiting: priorities and ties in ready time; finished: several at the
    // same millisecond, so the id breaks ties.
    for index in 0..<40 {
      var options = JobOptions()
      if index % 3 == 0 { options.priority = 1 + index % 4 }
      if index % 5 == 0 { options.delayMilliseconds = Int64(60_000 + index % 2 * 1_000) }
      try fixture.jobs.add(queue: "q", name: "job-\(index)", options: options)
      if index % 4 == 0 { fixture.clock.advance(by: .milliseconds(1)) }
    }
    for round in 0..<3 {
      let claimed = try fixture.claim(limit: 6)
      fixture.clock.advance(by: .milliseconds(round % 2))
      try fixture.jobs.finish(
        claimed.enumerated().map {
          $0.offset % 2 == 0 ? .completed($0.element, returnValue: nil) : .failed($0.element, error: "x")
        })
    }
    _ = try fixture.claim(limit: 9)
    for state in JobState.allCases { try walk(fixture, state, pageSize: state == .delayed ? 3 : 7) }
  }

  @Test func anEmptyStateHasNoPage() throws {
    let fixture = try Fixture()
    #expect(try fixture.jobs.page(queue: "q", state: .failed, anchor: .last, limit: 10).jobs.isEmpty)
  }
}
