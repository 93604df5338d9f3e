import Storage

/// The tables Lifecycle owns. Its migrations are named `lifecycle.NNN_what`; the
/// runtime applies them after those of the modules below it.
public enum LifecycleSchema {
  public static let migrations = Migrations([
    Migration("lifecycle.001_accounts") { db in
      // Accounts and their trials. `trial` counts the account's trials
      // (an account that comes back for a second trial gets a second run
      // of the sequence); times are epoch milliseconds.
      // `lifecycle_events` is an account's timeline (plan changes,
      // extensions, onboarding, suppression), written with each change.
      // `email_outbox`: one row per lifecycle e-mail, keyed by (account,
      // sequence, step, trial) — the UNIQUE constraint is what makes a
      // step send once however many ticks run. `next_email_step` and
      // `next_email_at` are the account's place in its sequence: a tick
      // reads only the accounts whose next step is due. `reengaged_at` is
      // set by the re-engagement e-mail and cleared by activity, so the
      // idle accounts not yet written to are one range of an index.
      try db.execute(
        sql: """
          CREATE TABLE accounts (
            id TEXT PRIMARY KEY NOT NULL,
            name TEXT NOT NULL,
            email TEXT NOT NULL,
            tz TEXT NOT NULL,
            plan TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            trial INTEGER NOT NULL DEFAULT 1,
            trial_started_at INTEGER,
            trial_ends_at INTEGER,
            expired_at INTEGER,
            converted_at INTEGER,
            churned_at INTEGER,
            suppressed_at INTEGER,
            last_active_at INTEGER,
            reengaged_at INTEGER,
            next_email_step TEXT,
            next_email_at INTEGER
          ) WITHOUT ROWID;
          CREATE INDEX accounts_trial_ends ON accounts(trial_ends_at) WHERE expired_at IS NULL AND converted_at IS NULL;
          CREATE INDEX accounts_next_email ON accounts(next_email_at) WHERE next_email_at IS NOT NULL;
          CREATE INDEX accounts_idle ON accounts(last_active_at) WHERE reengaged_at IS NULL;
          CREATE TABLE onboarding (
            account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
            step TEXT NOT NULL,
            done_at INTEGER NOT NULL,
            PRIMARY KEY (account_id, step)
          ) WITHOUT ROWID;
          CREATE TABLE lifecycle_events (
            id INTEGER PRIMARY KEY,
            account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
            at INTEGER NOT NULL,
            kind TEXT NOT NULL,
            actor TEXT NOT NULL,
            note TEXT
          );
          CREATE INDEX lifecycle_events_account ON lifecycle_events(account_id, at);
          CREATE TABLE email_outbox (
            id INTEGER PRIMARY KEY,
            account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
            sequence TEXT NOT NULL,
            step TEXT NOT NULL,
            trial INTEGER NOT NULL,
            template TEXT NOT NULL,
            recipient TEXT NOT NULL,
            subject TEXT NOT NULL DEFAULT '',
            data TEXT NOT NULL DEFAULT '{}',
            priority INTEGER NOT NULL DEFAULT 0,
            status TEXT NOT NULL DEFAULT 'pending'
              CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'skipped')),
            scheduled_at INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            sent_at INTEGER,
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            message_id TEXT,
            UNIQUE (account_id, sequence, step, trial)
          );
          CREATE INDEX email_outbox_status ON email_outbox(status, scheduled_at);
          CREATE INDEX email_outbox_account ON email_outbox(account_id, created_at);
          CREATE TABLE usage_records (
            id INTEGER PRIMARY KEY,
            account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
            metric TEXT NOT NULL,
            quantity REAL NOT NULL,
            at INTEGER NOT NULL,
            idempotency_key TEXT,
            UNIQUE (account_id, idempotency_key)
          );
          CREATE INDEX usage_records_metric ON usage_records(account_id, metric, at);
          CREATE TABLE usage_thresholds (
            account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
            metric TEXT NOT NULL,
            period TEXT NOT NULL,
            threshold INTEGER NOT NULL,
            hard INTEGER NOT NULL,
            used REAL NOT NULL,
            quota REAL NOT NULL,
            at INTEGER NOT NULL,
            PRIMARY KEY (account_id, metric, period, threshold)
          ) WITHOUT ROWID;
          """)
    }
  ])
}
