import Foundation
import Storage

// The `--json` shapes of the Scheduler's listings: snake_case keys, and
// absent values as null so that scripts see every key every time.

extension JobSummary {
  enum CodingKeys: String, CodingKey {
    case id, queue, name, state, priority, attempts
    case attemptsMade = "attempts_made"
    case createdAt = "created_at"
    case runAt = "run_at"
    case processedAt = "processed_at"
    case finishedAt = "finished_at"
    case failedReason = "failed_reason"
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(id, forKey: .id)
    try container.encode(queue, forKey: .queue)
    try container.encode(name, forKey: .name)
    try container.encode(state, forKey: .state)
    try container.encode(priority, forKey: .priority)
    try container.encode(attemptsMade, forKey: .attemptsMade)
    try container.encode(attempts, forKey: .attempts)
    try container.encode(createdAt, forKey: .createdAt)
    try container.encode(runAt, forKey: .runAt)
    try container.encode(processedAt, forKey: .processedAt)
    try container.encode(finishedAt, forKey: .finishedAt)
    try container.encode(failedReason, forKey: .failedReason)
  }
}

extension JobDetail: Encodable {
  enum CodingKeys: String, CodingKey {
    case id, queue, name, state, data, priority, attempts, errors, progress, logs, backoff, audit
    case attemptsMade = "attempts_made"
    case failedReason = "failed_reason"
    case createdAt = "created_at"
    case processedAt = "processed_at"
    case finishedAt = "finished_at"
    case runAt = "run_at"
    case returnValue = "return_value"
    case stalledCount = "stalled_count"
    case timeout
    case scheduleID = "schedule_id"
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(summary.id, forKey: .id)
    try container.encode(summary.queue, forKey: .queue)
    try container.encode(summary.name, forKey: .name)
    try container.encode(summary.state, forKey: .state)
    try container.encode(JSONValue(parsing: data) ?? .string(data), forKey: .data)
    try container.encode(summary.priority, forKey: .priority)
    try container.encode(summary.attemptsMade, forKey: .attemptsMade)
    try container.encode(summary.attempts, forKey: .attempts)
    try container.encode(summary.failedReason, forKey: .failedReason)
    try container.encode(errors, forKey: .errors)
    try container.encode(progress.flatMap { JSONValue(parsing: $0) }, forKey: .progress)
    try container.encode(logs, forKey: .logs)
    try container.encode(summary.createdAt, forKey: .createdAt)
    try container.encode(summary.processedAt, forKey: .processedAt)
    try container.encode(summary.finishedAt, forKey: .finishedAt)
    try container.encode(summary.runAt, forKey: .runAt)
    try container.encode(returnValue, forKey: .returnValue)
    try container.encode(stalledCount, forKey: .stalledCount)
    try container.encode(backoff, forKey: .backoff)
    try container.encode(timeoutMilliseconds.map { Duration.milliseconds($0).compactText }, forKey: .timeout)
    try container.encode(scheduleID, forKey: .scheduleID)
    try container.encode(audit, forKey: .audit)
  }
}

extension QueueStatus {
  enum CodingKeys: String, CodingKey {
    case name, paused, counts
    case completedLastMinute = "completed_last_minute"
    case failedLastMinute = "failed_last_minute"
    case rateLimit = "rate_limit"
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(name, forKey: .name)
    try container.encode(paused, forKey: .paused)
    try container.encode(counts, forKey: .counts)
    try container.encode(completedLastMinute, forKey: .completedLastMinute)
    try container.encode(failedLastMinute, forKey: .failedLastMinute)
    try container.encode(rateLimit, forKey: .rateLimit)
  }
}

extension ScheduleInfo {
  enum CodingKeys: String, CodingKey {
    case id, queue, name, cron, every, tz, limit, fired, source
    case nextRunAt = "next_run_at"
    case pendingJobID = "pending_job_id"
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(id, forKey: .id)
    try container.encode(queue, forKey: .queue)
    try container.encode(name, forKey: .name)
    try container.encode(cron, forKey: .cron)
    try container.encode(every, forKey: .every)
    try container.encode(tz, forKey: .tz)
    try container.encode(nextRunAt, forKey: .nextRunAt)
    try container.encode(limit, forKey: .limit)
    try container.encode(fired, forKey: .fired)
    try container.encode(source, forKey: .source)
    try container.encode(pendingJobID, forKey: .pendingJobID)
  }
}
