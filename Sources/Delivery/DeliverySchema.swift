import Storage

/// The tables Delivery owns: webhook endpoints and their delivery log.
public enum DeliverySchema {
  public static let migrations = Migrations([
    Migration("delivery.001_webhooks") { db in
      try db.execute(
        sql: """
          CREATE TABLE webhook_endpoints (
            id INTEGER PRIMARY KEY,
            url TEXT NOT NULL,
            secret_env TEXT NOT NULL,
            events TEXT NOT NULL DEFAULT '',
            enabled INTEGER NOT NULL DEFAULT 1,
            disabled_reason TEXT,
            consecutive_failures INTEGER NOT NULL DEFAULT 0,
            delivered INTEGER NOT NULL DEFAULT 0,
            failed INTEGER NOT NULL DEFAULT 0,
            last_delivery_at INTEGER,
            created_at INTEGER NOT NULL
          );
          CREATE TABLE webhook_deliveries (
            id INTEGER PRIMARY KEY,
            endpoint_id INTEGER NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
            job_id TEXT NOT NULL,
            event TEXT NOT NULL,
            attempt INTEGER NOT NULL,
            at INTEGER NOT NULL,
            status INTEGER,
            latency_ms INTEGER NOT NULL,
            outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'failed', 'rejected', 'skipped')),
            error TEXT
          );
          CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries(endpoint_id, id);
          """)
    },
    Migration("delivery.002_fx_rates") { db in
      // Daily rates by date; a sync writes a whole day's set or nothing.
      try db.execute(
        sql: """
          CREATE TABLE fx_rates (
            date TEXT NOT NULL,
            base TEXT NOT NULL,
            currency TEXT NOT NULL,
            rate REAL NOT NULL CHECK (rate > 0),
            fetched_at INTEGER NOT NULL,
            source TEXT NOT NULL,
            PRIMARY KEY (date, base, currency)
          ) WITHOUT ROWID;
          CREATE TABLE health_checks (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            at INTEGER NOT NULL,
            outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'failed', 'slow', 'rejected')),
            status INTEGER,
            latency_ms INTEGER NOT NULL,
            error TEXT
          );
          CREATE INDEX health_checks_name ON health_checks(name, id);
          """)
    },
  ])
}
