import Storage

/// The tables Alerting owns. Its migrations are named `alerting.NNN_what`; the
/// runtime applies them after those of the modules below it.
public enum AlertingSchema {
  public static let migrations = Migrations([
    Migration("alerting.001_alerts") { db in
      // One row per alert ever raised; at most one open (not resolved) alert
      // per fingerprint. `alert_events` is the audit trail: nothing is
      // deleted by acknowledging or resolving.
      try db.execute(
        sql: """
          CREATE TABLE alerts (
            id INTEGER PRIMARY KEY,
            fingerprint TEXT NOT NULL,
            severity TEXT NOT NULL CHECK (severity IN ('critical', 'error', 'warning', 'info')),
            status TEXT NOT NULL CHECK (status IN ('firing', 'acknowledged', 'resolved')),
            summary TEXT NOT NULL,
            description TEXT,
            runbook_url TEXT,
            labels TEXT NOT NULL CHECK (json_valid(labels)),
            source TEXT NOT NULL,
            count INTEGER NOT NULL DEFAULT 1,
            first_seen INTEGER NOT NULL,
            last_seen INTEGER NOT NULL,
            acknowledged_by TEXT,
            acknowledged_at INTEGER,
            resolved_at INTEGER,
            snoozed_until INTEGER
          );
          CREATE UNIQUE INDEX alerts_open_fingerprint ON alerts(fingerprint) WHERE status != 'resolved';
          CREATE INDEX alerts_status ON alerts(status, severity, first_seen);
          CREATE TABLE alert_events (
            id INTEGER PRIMARY KEY,
            alert_id INTEGER NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
            at INTEGER NOT NULL,
            kind TEXT NOT NULL,
            actor TEXT NOT NULL,
            note TEXT
          );
          CREATE INDEX alert_events_alert ON alert_events(alert_id, id);
          CREATE TABLE silences (
            id INTEGER PRIMARY KEY,
            matchers TEXT NOT NULL CHECK (json_valid(matchers)),
            starts_at INTEGER NOT NULL,
            ends_at INTEGER NOT NULL,
            author TEXT NOT NULL,
            comment TEXT NOT NULL,
            created_at INTEGER NOT NULL
          );
          """)
    },
    Migration("alerting.002_notifications") { db in
      // The outbox: one row per (alert, receiver, event, round), created
      // once (UNIQUE) and delivered by an `alert.notify` job; `sent` is
      // set in the same transaction as the audit row, so nothing is sent
      // twice for the same event.
      try db.execute(
        sql: """
          CREATE TABLE alert_notifications (
            id INTEGER PRIMARY KEY,
            alert_id INTEGER NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
            receiver TEXT NOT NULL,
            event TEXT NOT NULL CHECK (event IN ('trigger', 'acknowledge', 'resolve')),
            round INTEGER NOT NULL DEFAULT 0,
            state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed')),
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            created_at INTEGER NOT NULL,
            sent_at INTEGER,
            UNIQUE (alert_id, receiver, event, round)
          );
          CREATE INDEX alert_notifications_state ON alert_notifications(state, id);
          """)
    },
    Migration("alerting.003_groups") { db in
      // Alertmanager's aggregation groups: one row per (receiver, routing
      // node, group labels); `started_at` is the current episode's start
      // (NULL between episodes), `sent` the members of its last message
      // (alert id → status as notified), `round` how many messages it has
      // planned — a plan advances it with a compare-and-set, so two
      // processes never plan the same message. The outbox's rows are now
      // keyed by a text `key` ("g:GROUP:ROUND", or "e:ALERT:RECEIVER:ROUND"
      // for escalations) and carry their alerts in
      // `alert_notification_alerts`.
      try db.execute(
        sql: """
          CREATE TABLE alert_groups (
            id INTEGER PRIMARY KEY,
            receiver TEXT NOT NULL,
            group_key TEXT NOT NULL UNIQUE,
            labels TEXT NOT NULL CHECK (json_valid(labels)),
            started_at INTEGER,
            sent_at INTEGER,
            sent TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(sent)),
            round INTEGER NOT NULL DEFAULT 0
          );
          CREATE TABLE alert_notifications_grouped (
            id INTEGER PRIMARY KEY,
            key TEXT NOT NULL UNIQUE,
            group_id INTEGER REFERENCES alert_groups(id) ON DELETE CASCADE,
            receiver TEXT NOT NULL,
            event TEXT NOT NULL CHECK (event IN ('trigger', 'acknowledge', 'resolve')),
            state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed')),
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            created_at INTEGER NOT NULL,
            sent_at INTEGER
          );
          CREATE TABLE alert_notification_alerts (
            alert_id INTEGER NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
            notification_id INTEGER NOT NULL REFERENCES alert_notifications_grouped(id) ON DELETE CASCADE,
            status TEXT NOT NULL,
            PRIMARY KEY (alert_id, notification_id)
          ) WITHOUT ROWID;
          CREATE INDEX alert_notification_alerts_notification ON alert_notification_alerts(notification_id);
          INSERT INTO alert_notifications_grouped
            (id, key, receiver, event, state, attempts, last_error, created_at, sent_at)
            SELECT id, 'a:' || alert_id || ':' || receiver || ':' || event || ':' || round, receiver, event, state,
              attempts, last_error, created_at, sent_at FROM alert_notifications;
          INSERT INTO alert_notification_alerts (alert_id, notification_id, status)
            SELECT alert_id, id, CASE event WHEN 'resolve' THEN 'resolved' WHEN 'acknowledge' THEN 'acknowledged'
              ELSE 'firing' END FROM alert_notifications;
          DROP TABLE alert_notifications;
          ALTER TABLE alert_notifications_grouped RENAME TO alert_notifications;
          CREATE INDEX alert_notifications_state ON alert_notifications(state, id);
          """)
    },
  ])
}
