import Foundation
import GRDB
import Storage

/// A job that does not exist, or is not in a state the action needs.
public struct JobError: ReportableError, Equatable {
  public let message: String
  public let isBadInput: Bool
  public init(_ message: String, badInput: Bool = true) {
    self.message = message
    self.isBadInput = badInput
  }
  public var description: String { TerminalText.sanitize(message) }
}

/// A job to add: what `add`, `addBulk` and `jobs import` take.
public struct NewJob: Sendable {
  public var name: String
  public var data: String
  public var options: JobOptions

  public init(name: String, data: String = "{}", options: JobOptions = JobOptions()) {
    self.name = name
    self.data = data
    self.options = options
  }
}

/// The durable queues: every read and write of the Scheduler's tables goes
/// through here. All times are read from the clock.
public final class JobStore: Sendable {
  public let store: Store
  public let clock: any Clock
  /// Who is making changes through this store, for the audit log: the Unix
  /// user for the CLI and the console.
  public let actor: String
  /// Fires when jobs become ready in this process.
  public let activity = ActivitySignal()
  private let insertJob = PreparedStatement(
    """
    INSERT INTO jobs (custom_id, queue, name, data, state, priority, ready_at, attempts, backoff, timeout_ms,
      remove_on_complete, remove_on_fail, created_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    """)
  private let bumpOne = JobState.allCases.map { state in
    let column = state.countColumn
    return PreparedStatement(
      "INSERT INTO queues (name, \(column)) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET \(column) = \(column) + excluded.\(column)"
    )
  }

  /// The insert and counter of ``add``'s fast path (no job id of the caller's).
  private let rawInsert: RawStatement
  private let rawBump: [RawStatement]

  public init(store: Store, clock: any Clock, actor: String = "opsdeck") {
    self.store = store
    self.clock = clock
    self.actor = actor
    rawInsert = store.rawStatement(
      """
      INSERT INTO jobs (queue, name, data, state, priority, ready_at, attempts, backoff, timeout_ms,
        remove_on_complete, remove_on_fail, created_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      """)
    rawBump = JobState.allCases.map { state in
      let column = state.countColumn
      return store.rawStatement(
        "INSERT INTO queues (name, \(column)) VALUES (?, 1) ON CONFLICT(name) DO UPDATE SET \(column) = \(column) + 1")
    }
  }

  var now: Int64 { Self.milliseconds(clock.now()) }

  static func milliseconds(_ date: Date) -> Int64 { date.epochMilliseconds }
  static func date(_ milliseconds: Int64) -> Date { Date(epochMilliseconds: milliseconds) }

  /// Runs `body` in one write transaction and maps SQLite errors to the
  /// one-line errors the CLI prints.
  func write<T>(_ body: (GRDB.Database) throws -> T) throws -> T {
    do {
      return try store.writeTransaction(body)
    } catch let error as any ReportableError {
      throw error
    } catch let error as DatabaseError
      where error.extendedResultCode == .SQLITE_CONSTRAINT_CHECK && (error.message ?? "").contains("json_valid")
    {
      throw JobInputError("invalid job data: not JSON")
    } catch {
      throw Store.translate(error, path: store.path)
    }
  }

  /// Records a change made by ``actor`` in the caller's transaction.
  func audit(_ db: GRDB.Database, _ action: String, _ target: String, _ detail: String? = nil) throws {
    try AuditLog.record(db, AuditEntry(at: clock.now(), actor: actor, action: action, target: target, detail: detail))
  }

  /// Records a change made outside the store's own operations (a job added
  /// from the console) in a transaction of its own.
  public func recordAudit(_ action: String, _ target: String, _ detail: String? = nil) throws {
    try write { db in try audit(db, action, target, detail) }
  }

  /// The audit log, newest first; only entries about `target` when given.
  public func auditTrail(target: String? = nil, limit: Int = 100) throws -> [AuditEntry] {
    try read { db in try AuditLog.entries(db, target: target, limit: limit) }
  }

  func read<T>(_ body: (GRDB.Database) throws -> T) throws -> T {
    do {
      return try store.pool.read(body)
    } catch let error as any ReportableError {
      throw error
    } catch {
      throw Store.translate(error, path: store.path)
    }
  }

  // MARK: - Adding

  public struct Added: Sendable, Equatable {
    /// The job id to print: the caller's job id, or opsdeck's number.
    public var id: String
    /// False when a job with the same job id already existed.
    public var created: Bool

    public init(id: String, created: Bool) {
      self.id = id
      self.created = created
    }
  }

  public static func validate(queue: String) throws(JobInputError) {
    try validateName(queue, what: "queue name")
  }

  public static func validateName(_ text: String, what: String) throws(JobInputError) {
    let bytes = text.utf8
    if bytes.isEmpty { throw JobInputError("invalid \(what): it is empty") }
    if bytes.count > 200 && text.count > 200 { throw JobInputError("invalid \(what): longer than 200 characters") }
    // Control characters are ASCII (C0 and DEL) or C1 (U+0080–U+009F, UTF-8 C2 80–C2 9F).
    var previous: UInt8 = 0
    for byte in bytes {
      if byte < 0x20 || byte == 0x7F || (previous == 0xC2 && byte < 0xA0) {
        throw JobInputError("invalid \(what) '\(text)': it contains control characters")
      }
      previous = byte
    }
  }

  /// Checks that `data` is one JSON value.
  public static func validate(data: String) throws(JobInputError) {
    if data == "{}" { return }
    do {
      _ = try JSONSerialization.jsonObject(with: Data(data.utf8), options: [.fragmentsAllowed])
    } catch {
      throw JobInputError("invalid job data: not JSON (\(data.prefix(60)))")
    }
  }

  @discardableResult
  public func add(queue: String, name: String, data: String = "{}", options: JobOptions = JobOptions()) throws -> Added
  {
    try Self.validate(queue: queue)
    try Self.validateName(name, what: "job name")
    try options.validate()
    // The data is checked by the table (CHECK json_valid), in C, on insert.
    let added: Added
    if options.jobID == nil {
      added = try fastInsert(queue: queue, name: name, data: data, options: options)
    } else {
      added = try write { db in try insert(db, queue: queue, job: NewJob(name: name, data: data, options: options)) }
    }
    if added.created && options.delayMilliseconds == 0 { activity.notify() }
    return added
  }

  /// Adds a job inside the caller's write transaction, so an engine's
  /// outbox row and the job that delivers it commit together (or not at
  /// all). Call ``jobsAdded()`` after the commit to wake workers.
  @discardableResult
  public func add(in db: GRDB.Database, queue: String, job: NewJob) throws -> Added {
    try Self.validate(queue: queue)
    try Self.validateName(job.name, what: "job name")
    try job.options.validate()
    return try insert(db, queue: queue, job: job)
  }

  /// Wakes this process's workers after jobs added with ``add(in:queue:job:)``.
  public func jobsAdded() { activity.notify() }

  /// One job, one transaction, through ``RawStatement``: the path that
  /// `jobs added one at a time` in `make bench` measures.
  private func fastInsert(queue: String, name: String, data: String, options: JobOptions) throws -> Added {
    let now = self.now
    let delayed = options.delayMilliseconds > 0
    let state: JobState = delayed ? .delayed : .waiting
    do {
      let rowID = try store.writeTransaction { db in
        let insert = rawInsert
        try insert.bind(db, 1, queue)
        try insert.bind(db, 2, name)
        try insert.bind(db, 3, data)
        try insert.bind(db, 4, Int64(state.rawValue))
        try insert.bind(db, 5, Int64(options.priority ?? 0))
        try insert.bind(db, 6, now + options.delayMilliseconds)
        try insert.bind(db, 7, Int64(options.attempts))
        try insert.bind(db, 8, options.backoff?.description)
        try insert.bind(db, 9, options.timeoutMilliseconds)
        try insert.bind(db, 10, options.removeOnComplete?.description)
        try insert.bind(db, 11, options.removeOnFail?.description)
        try insert.bind(db, 12, now)
        try insert.run(db)
        let rowID = db.lastInsertedRowID
        try rawBump[state.rawValue].bind(db, 1, queue)
        try rawBump[state.rawValue].run(db)
        return rowID
      }
      return Added(id: String(rowID), created: true)
    } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_CHECK {
      throw JobInputError("invalid job data: not JSON")
    } catch let error as DatabaseError {
      throw Store.translate(error, path: store.path)
    }
  }

  /// Adds many jobs to one queue, one transaction per `chunk`: BullMQ's
  /// `addBulk`. Returns how many were created (jobs whose job id existed
  /// are not).
  @discardableResult
  public func addBulk(queue: String, jobs: [NewJob], chunk: Int = 10_000) throws -> Int {
    try Self.validate(queue: queue)
    for job in jobs {
      try Self.validateName(job.name, what: "job name")
      try job.options.validate()
    }
    var created = 0
    var start = 0
    while start < jobs.count {
      let slice = jobs[start..<min(start + chunk, jobs.count)]
      created += try write { db in
        var waiting = 0
        var delayed = 0
        for job in slice where try insert(db, queue: queue, job: job, countsDeferred: true).created {
          if job.options.delayMilliseconds > 0 { delayed += 1 } else { waiting += 1 }
        }
        try bump(db, queue: queue, [.waiting: waiting, .delayed: delayed])
        return waiting + delayed
      }
      start += chunk
    }
    activity.notify()
    return created
  }

  /// Adds `count` copies of one job, one transaction per chunk: the fast
  /// path of `jobs add-bulk`.
  @discardableResult
  public func addCopies(queue: String, name: String, data: String, count: Int, chunk: Int = 10_000) throws -> Int {
    try Self.validate(queue: queue)
    try Self.validateName(name, what: "job name")
    try Self.validate(data: data)
    var done = 0
    while done < count {
      let size = min(chunk, count - done)
      try write { db in
        let statement = try db.cachedStatement(
          sql: "INSERT INTO jobs (queue, name, data, state, ready_at, created_at) VALUES (?, ?, ?, 0, ?, ?)")
        let now = self.now
        try statement.setArguments([queue, name, data, now, now])
        for _ in 0..<size { try statement.execute() }
        try bump(db, queue: queue, [.waiting: size])
      }
      done += size
    }
    activity.notify()
    return done
  }

  /// Inserts one job inside the caller's transaction.
  func insert(_ db: GRDB.Database, queue: String, job: NewJob, countsDeferred: Bool = false) throws -> Added {
    let options = job.options
    if let jobID = options.jobID,
      try Int64.fetchOne(db, sql: "SELECT id FROM jobs WHERE custom_id = ?", arguments: [jobID]) != nil
    {
      return Added(id: jobID, created: false)
    }
    let now = self.now
    let delayed = options.delayMilliseconds > 0
    let statement = try insertJob.statement(db)
    statement.setUncheckedArguments([
      options.jobID, queue, job.name, job.data, delayed ? JobState.delayed.rawValue : JobState.waiting.rawValue,
      options.priority ?? 0, now + options.delayMilliseconds, options.attempts, options.backoff?.description,
      options.timeoutMilliseconds, options.removeOnComplete?.description, options.removeOnFail?.description, now,
    ])
    try statement.execute()
    if !countsDeferred { try bump(db, queue: queue, [delayed ? .delayed : .waiting: 1]) }
    return Added(id: options.jobID ?? String(db.lastInsertedRowID), created: true)
  }

  /// Adds `deltas` to the queue's counters, creating the queue row.
  func bump(_ db: GRDB.Database, queue: String, _ deltas: [JobState: Int]) throws {
    if deltas.count == 1, let (state, delta) = deltas.first {
      let statement = try bumpOne[state.rawValue].statement(db)
      statement.setUncheckedArguments([queue, delta])
      try statement.execute()
      return
    }
    let changes = deltas.filter { $0.value != 0 }.sorted { $0.key.rawValue < $1.key.rawValue }
    if changes.isEmpty { return }
    let columns = changes.map(\.key.countColumn)
    let sql =
      "INSERT INTO queues (name, \(columns.joined(separator: ", "))) VALUES (?, \(columns.map { _ in "?" }.joined(separator: ", "))) "
      + "ON CONFLICT(name) DO UPDATE SET "
      + columns.map { "\($0) = \($0) + excluded.\($0)" }.joined(separator: ", ")
    var arguments: [any DatabaseValueConvertible] = [queue]
    arguments += changes.map { $0.value }
    try db.cachedStatement(sql: sql).execute(arguments: StatementArguments(arguments))
  }
}
