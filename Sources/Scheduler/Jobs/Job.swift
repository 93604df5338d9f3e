import Foundation
import Storage

/// A job as `jobs list` shows it.
public struct JobSummary: Sendable, Encodable, Equatable {
  public var id: String
  public var queue: String
  public var name: String
  public var state: JobState
  public var priority: Int
  public var attemptsMade: Int
  public var attempts: Int
  public var createdAt: Date
  public var runAt: Date?
  public var processedAt: Date?
  public var finishedAt: Date?
  public var failedReason: String?
}

/// One failed attempt of a job.
public struct JobAttemptError: Sendable, Codable, Equatable {
  public var attempt: Int
  public var at: Date
  public var error: String
}

/// One line a handler logged.
public struct JobLogLine: Sendable, Codable, Equatable {
  public var at: Date
  public var line: String
}

/// Everything stored about one job, as `jobs show` prints it.
public struct JobDetail: Sendable, Equatable {
  public var summary: JobSummary
  /// The payload, as JSON text.
  public var data: String
  public var backoff: String?
  public var timeoutMilliseconds: Int64?
  public var stalledCount: Int
  public var progress: String?
  public var returnValue: String?
  public var scheduleID: String?
  public var errors: [JobAttemptError]
  public var logs: [JobLogLine]
  /// What people did to the job (retried, promoted), newest first.
  public var audit: [AuditEntry] = []
}

/// A job handed to a worker under a lease.
public struct ClaimedJob: Sendable {
  public let rowID: Int64
  public let id: String
  public let queue: String
  public let name: String
  public let data: String
  public let attempts: Int
  /// Attempts finished before this one.
  public let attemptsMade: Int
  public let timeoutMilliseconds: Int64?
  public let scheduleID: String?
  public let lockToken: Int64
}

/// How an attempt ended.
public enum JobOutcome: Sendable {
  case completed(ClaimedJob, returnValue: String?)
  case failed(ClaimedJob, error: String)

  var job: ClaimedJob {
    switch self {
    case .completed(let job, _), .failed(let job, _): return job
    }
  }
}

/// A queue as `opsdeck queues` shows it.
public struct QueueStatus: Sendable, Encodable, Equatable {
  public struct Counts: Sendable, Encodable, Equatable {
    public var waiting: Int
    public var delayed: Int
    public var active: Int
    public var completed: Int
    public var failed: Int

    public init(waiting: Int, delayed: Int, active: Int, completed: Int, failed: Int) {
      self.waiting = waiting
      self.delayed = delayed
      self.active = active
      self.completed = completed
      self.failed = failed
    }

    /// The number of jobs in `state`.
    public func count(of state: JobState) -> Int {
      switch state {
      case .waiting: return waiting
      case .delayed: return delayed
      case .active: return active
      case .completed: return completed
      case .failed: return failed
      }
    }
  }

  public var name: String
  public var paused: Bool
  public var counts: Counts
  public var completedLastMinute: Int
  public var failedLastMinute: Int
  public var rateLimit: String?
}
