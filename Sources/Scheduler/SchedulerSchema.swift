import GRDB
import Storage

/// The tables the Scheduler owns: jobs, their attempts' errors and log
/// lines, per-queue state and counters, per-minute metrics, schedules.
public enum SchedulerSchema {
  public static let migrations = Migrations([
    Migration("scheduler.001_jobs") { db in
      // Times are milliseconds since 1970 (UTC). `state` is JobState's raw
      // value. `ready_at` orders waiting jobs (FIFO within a priority) and is
      // the due time of a delayed one.
      try db.execute(
        sql: """
          CREATE TABLE jobs (
            id INTEGER PRIMARY KEY,
            custom_id TEXT,
            queue TEXT NOT NULL,
            name TEXT NOT NULL,
            data TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(data)),
            state INTEGER NOT NULL,
            priority INTEGER NOT NULL DEFAULT 0,
            ready_at INTEGER NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 1,
            attempts_made INTEGER NOT NULL DEFAULT 0,
            backoff TEXT,
            timeout_ms INTEGER,
            remove_on_complete TEXT,
            remove_on_fail TEXT,
            stalled_count INTEGER NOT NULL DEFAULT 0,
            lock_token INTEGER,
            lock_until INTEGER,
            retry_pending INTEGER NOT NULL DEFAULT 0,
            progress TEXT,
            return_value TEXT,
            failed_reason TEXT,
            schedule_id TEXT,
            created_at INTEGER NOT NULL,
            processed_at INTEGER,
            finished_at INTEGER
          );
          CREATE UNIQUE INDEX jobs_custom_id ON jobs(custom_id) WHERE custom_id IS NOT NULL;
          CREATE INDEX jobs_waiting ON jobs(queue, priority, ready_at, id) WHERE state = 0;
          CREATE INDEX jobs_delayed ON jobs(ready_at) WHERE state = 1;
          CREATE INDEX jobs_active ON jobs(lock_until) WHERE state = 2;
          CREATE INDEX jobs_finished ON jobs(state, queue, finished_at) WHERE state >= 3;
          CREATE INDEX jobs_pending_schedule ON jobs(schedule_id) WHERE schedule_id IS NOT NULL AND state <= 1;

          CREATE TABLE job_errors (
            job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
            attempt INTEGER NOT NULL,
            at INTEGER NOT NULL,
            error TEXT NOT NULL,
            PRIMARY KEY (job_id, attempt)
          ) WITHOUT ROWID;

          CREATE TABLE job_logs (
            job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            at INTEGER NOT NULL,
            line TEXT NOT NULL,
            PRIMARY KEY (job_id, seq)
          ) WITHOUT ROWID;

          CREATE TABLE queues (
            name TEXT PRIMARY KEY NOT NULL,
            paused INTEGER NOT NULL DEFAULT 0,
            rate_max INTEGER,
            rate_duration_ms INTEGER,
            rate_window_start INTEGER NOT NULL DEFAULT 0,
            rate_window_count INTEGER NOT NULL DEFAULT 0,
            waiting INTEGER NOT NULL DEFAULT 0,
            delayed INTEGER NOT NULL DEFAULT 0,
            active INTEGER NOT NULL DEFAULT 0,
            completed INTEGER NOT NULL DEFAULT 0,
            failed INTEGER NOT NULL DEFAULT 0
          ) WITHOUT ROWID;

          CREATE TABLE queue_metrics (
            queue TEXT NOT NULL,
            minute INTEGER NOT NULL,
            completed INTEGER NOT NULL DEFAULT 0,
            failed INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (queue, minute)
          ) WITHOUT ROWID;

          CREATE TABLE schedules (
            id TEXT PRIMARY KEY NOT NULL,
            queue TEXT NOT NULL,
            name TEXT NOT NULL,
            cron TEXT,
            every_ms INTEGER,
            tz TEXT NOT NULL DEFAULT 'UTC',
            data TEXT NOT NULL DEFAULT '{}',
            job_options TEXT,
            repeat_limit INTEGER,
            start_at INTEGER,
            end_at INTEGER,
            fired INTEGER NOT NULL DEFAULT 0,
            next_run_at INTEGER,
            last_run_at INTEGER,
            source TEXT NOT NULL DEFAULT 'cli',
            created_at INTEGER NOT NULL
          ) WITHOUT ROWID;
          """)
    }
  ])
}
