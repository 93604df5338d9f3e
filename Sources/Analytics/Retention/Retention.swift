import Foundation
import GRDB
import Storage

/// Calendar buckets for retention.
public enum RetentionPeriod: String, Sendable, CaseIterable {
  case day, week, month
}

/// A retention report to compute, PostHog's way: actors grouped into
/// cohorts by the period of their start event (the first one ever, or —
/// recurring — every period they did it), then counted in each later
/// period in which they did the return event.
public struct RetentionQuery: Sendable, Equatable {
  public var startEvent: String
  public var returnEvent: String
  public var period: RetentionPeriod = .week
  /// Recurring: an actor joins a cohort every period it does the start event.
  public var recurring = false
  public var from: Date? = nil
  public var to: Date? = nil
  /// The zone whose calendar makes the buckets.
  public var timeZone = "UTC"
  /// Weeks start on Sunday (PostHog's default) unless Monday.
  public var weekStartsMonday = false
  public var byUser = false
  /// How many periods the triangle shows.
  public var periods = 8

  public init(startEvent: String, returnEvent: String) {
    self.startEvent = startEvent
    self.returnEvent = returnEvent
  }
}

/// One cohort's row of the triangle.
public struct RetentionCohort: Sendable, Equatable {
  /// The cohort's period, as its first local day (`2026-01-04`).
  public var start: String
  public var size: Int
  /// Actors back in period 0, 1, 2… (period 0 is the cohort itself: its size).
  public var counts: [Int]

  public var percentages: [Double] { counts.map { size == 0 ? 0 : Double($0) / Double(size) * 100 } }
}

/// Bucket arithmetic in one zone: local days since 1970-01-01, then weeks or
/// months. Offsets are looked up once per hour of time.
struct Buckets {
  let zone: TimeZone
  let period: RetentionPeriod
  let weekStartsMonday: Bool
  var offsets: [Int64: Int64] = [:]

  init(tz: String, period: RetentionPeriod, weekStartsMonday: Bool) throws {
    guard let zone = TimeZone(identifier: tz) else {
      throw AnalyticsInputError("invalid time zone '\(tz)': expected an IANA zone such as Europe/Berlin")
    }
    self.zone = zone
    self.period = period
    self.weekStartsMonday = weekStartsMonday
  }

  mutating func day(_ ms: Int64) -> Int64 {
    let hour = ms >= 0 ? ms / 3_600_000 : (ms - 3_599_999) / 3_600_000
    let offset: Int64
    if let known = offsets[hour] {
      offset = known
    } else {
      offset = Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(ms) / 1000))) * 1000
      offsets[hour] = offset
    }
    let local = ms + offset
    return local >= 0 ? local / 86_400_000 : (local - 86_399_999) / 86_400_000
  }

  /// The bucket number of an instant: a day, a week (by its first day) or
  /// a month (year × 12 + month − 1).
  mutating func bucket(_ ms: Int64) -> Int64 {
    let day = day(ms)
    switch period {
    case .day: return day
    case .week:
      // 1970-01-01 was a Thursday: weekday 4 counting Sunday as 0.
      let weekday = ((day + 4) % 7 + 7) % 7
      let back = weekStartsMonday ? (weekday + 6) % 7 : weekday
      return day - back
    case .month:
      let (year, month, _) = Self.civil(day)
      return year * 12 + month - 1
    }
  }

  /// The bucket after `bucket`, `count` times.
  func advance(_ bucket: Int64, by count: Int64) -> Int64 {
    switch period {
    case .day: return bucket + count
    case .week: return bucket + 7 * count
    case .month: return bucket + count
    }
  }

  /// The bucket's first local day, as `YYYY-MM-DD`.
  func label(_ bucket: Int64) -> String {
    let day = period == .month ? Self.days(year: bucket / 12, month: bucket % 12 + 1, day: 1) : bucket
    let (year, month, dayOfMonth) = Self.civil(day)
    return String(format: "%04lld-%02lld-%02lld", year, month, dayOfMonth)
  }

  static func civil(_ days: Int64) -> (Int64, Int64, Int64) {
    let (year, month, day) = Timestamp.civil(fromDays: days)
    return (Int64(year), Int64(month), Int64(day))
  }

  static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
    Timestamp.days(fromCivil: Int(year), Int(month), Int(day))
  }
}

extension EventLog {
  /// The retention triangle: one cohort per period from `from` (or the
  /// first start event) for `periods` periods.
  public func retention(_ query: RetentionQuery) throws -> [RetentionCohort] {
    try RetentionState(query: query, log: self).cohorts()
  }
}

/// A retention report computed and kept: per actor, the periods of its
/// start events and of its returns. ``refresh(_:)`` folds in only the
/// events written since.
public struct RetentionState: KeptReport {
  public let query: RetentionQuery
  var buckets: Buckets
  let startID: Int64?
  let returnID: Int64?
  var watermark: Int64 = 0
  var starts: [Int64: Set<Int64>] = [:]
  var firstStart: [Int64: Int64] = [:]
  var returns: [Int64: Set<Int64>] = [:]
  /// The triangle: the first cohort's bucket, and per cohort its size and
  /// counts by periods later. Kept up to date by ``refresh(_:)``.
  var firstCohort: Int64?
  var rows: [(size: Int, counts: [Int])] = []

  public init(query: RetentionQuery, log: EventLog) throws {
    guard (1...120).contains(query.periods) else { throw AnalyticsInputError("invalid --periods: expected 1 to 120") }
    if let from = query.from, let to = query.to, from > to {
      throw AnalyticsInputError("invalid --from/--to: --from is after --to")
    }
    self.query = query
    buckets = try Buckets(tz: query.timeZone, period: query.period, weekStartsMonday: query.weekStartsMonday)
    // Names, how far the rows go, the folded columns and the rows since:
    // all in one read, as a funnel reads them.
    let (startID, returnID, watermark, columns) = try log.store.pool.read { db in
      let found = try EventLog.nameIDs(db, [query.startEvent, query.returnEvent])
      let startID = found[query.startEvent]
      let returnID = found[query.returnEvent]
      let watermark = try EventLog.lastRow(db)
      var ids: [Int64: Int32] = [:]
      if let returnID { ids[returnID] = 1 }
      if let startID { ids[startID] = 0 }
      return (startID, returnID, watermark, try log.columns(db, names: ids, through: watermark))
    }
    (self.startID, self.returnID, self.watermark) = (startID, returnID, watermark)
    for index in 0..<columns.count {
      add(
        name: columns.names[index] == 0 ? startID : returnID, ts: columns.ts[index],
        actor: Int64(query.byUser ? columns.users[index] : columns.accounts[index]))
    }
    countAll()
  }

  private mutating func add(name: Int64?, ts: Int64, actor who: Int64) {
    guard ts <= query.to?.epochMilliseconds ?? Int64.max, who > 0, let name else { return }
    let bucket = buckets.bucket(ts)
    if name == startID {
      // First-time cohorts look at the first start ever, even before --from.
      if ts < firstStart[who] ?? Int64.max { firstStart[who] = ts }
      if ts >= query.from?.epochMilliseconds ?? Int64.min { starts[who, default: []].insert(bucket) }
    }
    if name == returnID { returns[who, default: []].insert(bucket) }
  }

  /// Folds in the events written since the last read; whether there were any.
  @discardableResult
  public mutating func refresh(_ log: EventLog) throws -> Bool {
    let ids = [startID, returnID].compactMap { $0 }
    let (startNow, returnNow) = try log.store.pool.read { db in
      let found = try EventLog.nameIDs(db, [query.startEvent, query.returnEvent])
      return (found[query.startEvent], found[query.returnEvent])
    }
    if startNow != startID || returnNow != returnID {
      // A name seen for the first time: read everything again.
      self = try RetentionState(query: query, log: log)
      return true
    }
    guard !ids.isEmpty else { return false }
    var fresh: [(Int64, Int64, Int64)] = []
    var last = watermark
    try log.store.pool.read { db in
      try RawStatement.scanIntegers(
        db,
        sql: """
          SELECT id, name_id, ts, \(query.byUser ? "coalesce(user, 0)" : "account") FROM analytics_events
          WHERE id > ? AND name_id IN (\(ids.map(String.init).joined(separator: ",")))
          """, arguments: [watermark], columns: 4
      ) { row in
        fresh.append((row[1], row[2], row[3]))
        last = max(last, row[0])
      }
      last = max(last, try EventLog.lastRow(db))
    }
    // The actors concerned leave the triangle, change, and come back.
    let affected = Set(fresh.map { $0.2 })
    for actor in affected { count(actor, by: -1) }
    for (name, ts, actor) in fresh { add(name: name, ts: ts, actor: actor) }
    let before = firstCohort
    if query.from == nil, let earliest = affected.compactMap({ cohortBuckets($0).min() }).min(),
      earliest < before ?? Int64.max
    {
      // A cohort before the first: the triangle starts elsewhere.
      countAll()
    } else {
      for actor in affected { count(actor, by: 1) }
    }
    let changed = !fresh.isEmpty
    watermark = last
    return changed
  }

  var step: Int64 { query.period == .week ? 7 : 1 }

  /// The cohorts an actor belongs to: every period it started in
  /// (recurring), or the period of its first start ever if that is in range.
  mutating func cohortBuckets(_ actor: Int64) -> [Int64] {
    guard let periods = starts[actor] else { return [] }
    if query.recurring { return Array(periods) }
    guard let first = firstStart[actor] else { return [] }
    let bucket = buckets.bucket(first)
    if let from = query.from, bucket < buckets.bucket(from.epochMilliseconds) { return [] }
    return [bucket]
  }

  /// Adds (`by` 1) or takes away (-1) what an actor counts in the triangle.
  mutating func count(_ actor: Int64, by change: Int) {
    guard let firstCohort else { return }
    for cohort in cohortBuckets(actor) {
      let offset = cohort - firstCohort
      guard offset >= 0, offset % step == 0, offset / step < Int64(rows.count) else { continue }
      let row = Int(offset / step)
      rows[row].size += change
      rows[row].counts[0] += change
      for target in returns[actor] ?? [] {
        let later = target - cohort
        guard later > 0, later % step == 0, later / step < Int64(rows[row].counts.count) else { continue }
        rows[row].counts[Int(later / step)] += change
      }
    }
  }

  /// The triangle from scratch: its rows, then every actor counted in.
  mutating func countAll() {
    let fromBucket = query.from.map { buckets.bucket($0.epochMilliseconds) }
    var earliest: Int64?
    if fromBucket == nil {
      for actor in starts.keys {
        for cohort in cohortBuckets(actor) { earliest = min(earliest ?? cohort, cohort) }
      }
    }
    firstCohort = fromBucket ?? earliest
    rows = []
    guard let firstCohort else { return }
    let lastBucket = query.to.map { buckets.bucket($0.epochMilliseconds) }
    let periods = Int64(query.periods)
    for index in 0..<periods {
      let bucket = buckets.advance(firstCohort, by: index)
      if let lastBucket, bucket > lastBucket { break }
      var length = periods - index
      if let lastBucket { length = min(length, (lastBucket - bucket) / step + 1) }
      rows.append((0, [Int](repeating: 0, count: Int(length))))
    }
    for actor in starts.keys { count(actor, by: 1) }
  }

  /// The triangle as it stands.
  public func cohorts() -> [RetentionCohort] {
    guard let firstCohort else { return [] }
    return rows.enumerated().map { index, row in
      RetentionCohort(
        start: buckets.label(buckets.advance(firstCohort, by: Int64(index))), size: row.size, counts: row.counts)
    }
  }
}
