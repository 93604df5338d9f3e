import Foundation
import GRDB
import Storage

/// Where a page of one state's jobs starts: keyset paging, so the page at
/// the end of a million jobs costs what the first one does (no `OFFSET`).
public enum JobPageAnchor: Sendable, Equatable {
  case first
  case last
  /// The jobs after the one with this key, in list order.
  case after(JobSortKey)
  /// The jobs before the one with this key, in list order.
  case before(JobSortKey)
}

/// A job's position in its state's list: the values of the list's
/// `ORDER BY` columns.
public struct JobSortKey: Sendable, Equatable, Hashable {
  public var values: [Int64]

  public init(_ values: [Int64]) {
    self.values = values
  }
}

/// One page of a state's jobs in list order, with each job's sort key.
public struct JobPage: Sendable, Equatable {
  public var jobs: [JobSummary]
  public var keys: [JobSortKey]

  public init(jobs: [JobSummary] = [], keys: [JobSortKey] = []) {
    self.jobs = jobs
    self.keys = keys
  }
}

extension JobStore {
  /// The list order of a state: claim order for waiting jobs, due time for
  /// delayed ones, start time for active ones, newest first for finished.
  static func listOrder(_ state: JobState) -> (columns: [String], descending: Bool) {
    switch state {
    case .waiting: return (["priority", "ready_at", "id"], false)
    case .delayed: return (["ready_at", "id"], false)
    case .active: return (["coalesce(processed_at, 0)", "id"], false)
    case .completed, .failed: return (["finished_at", "id"], true)
    }
  }

  /// A page of `queue`'s jobs in `state`, in list order, starting at `anchor`.
  public func page(queue: String, state: JobState, anchor: JobPageAnchor, limit: Int) throws -> JobPage {
    let (columns, descending) = Self.listOrder(state)
    // Reading backwards (the last page, or the page before a key) walks the
    // index the other way and turns the rows around afterwards.
    let backwards: Bool
    var conditions = ["state = \(state.rawValue)", "queue = ?"]
    if state.isFinished { conditions.append(JobState.finishedCondition) }
    var arguments: [any DatabaseValueConvertible] = [queue]
    let tuple = "(" + columns.joined(separator: ", ") + ")"
    func compare(_ key: JobSortKey, greater: Bool) {
      let placeholders = "(" + key.values.map { _ in "?" }.joined(separator: ", ") + ")"
      conditions.append("\(tuple) \(greater ? ">" : "<") \(placeholders)")
      arguments.append(contentsOf: key.values)
    }
    switch anchor {
    case .first: backwards = false
    case .last: backwards = true
    case .after(let key):
      backwards = false
      compare(key, greater: !descending)
    case .before(let key):
      backwards = true
      compare(key, greater: descending)
    }
    let direction = descending != backwards ? " DESC" : ""
    let order = columns.map { $0 + direction }.joined(separator: ", ")
    let keyColumns = columns.enumerated().map { "\($1) AS k\($0)" }.joined(separator: ", ")
    arguments.append(max(0, limit))
    let rows = try read { db in
      try Row.fetchAll(
        db,
        sql: """
          SELECT \(Self.summaryColumns), \(keyColumns) FROM jobs
          WHERE \(conditions.joined(separator: " AND ")) ORDER BY \(order) LIMIT ?
          """, arguments: StatementArguments(arguments))
    }
    let ordered = backwards ? rows.reversed() : rows
    return JobPage(
      jobs: ordered.map(Self.summary),
      keys: ordered.map { row in JobSortKey(columns.indices.map { row["k\($0)"] as Int64 }) })
  }
}
