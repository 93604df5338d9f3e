import Storage

/// The tables Resilience owns. Its migrations are named `resilience.NNN_what`; the
/// runtime applies them after those of the modules below it.
public enum ResilienceSchema {
  public static let migrations = Migrations([
    Migration("resilience.001_breakers") { db in
      // One row per dependency: the shared state every process follows
      // (`version` moves on each transition) and the rates last published.
      try db.execute(
        sql: """
          CREATE TABLE breakers (
            name TEXT PRIMARY KEY NOT NULL,
            state TEXT NOT NULL DEFAULT 'closed'
              CHECK (state IN ('closed', 'open', 'half_open', 'forced_open', 'disabled', 'metrics_only')),
            version INTEGER NOT NULL DEFAULT 0,
            failure_rate REAL,
            slow_call_rate REAL,
            buffered_calls INTEGER NOT NULL DEFAULT 0,
            failed_calls INTEGER NOT NULL DEFAULT 0,
            slow_calls INTEGER NOT NULL DEFAULT 0,
            not_permitted INTEGER NOT NULL DEFAULT 0,
            opened_at INTEGER,
            half_open_at INTEGER,
            half_opened_at INTEGER,
            opens_in_row INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            updated_at INTEGER NOT NULL
          );
          CREATE TABLE breaker_transitions (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            at INTEGER NOT NULL,
            from_state TEXT NOT NULL,
            to_state TEXT NOT NULL,
            reason TEXT NOT NULL,
            actor TEXT
          );
          CREATE INDEX breaker_transitions_name ON breaker_transitions(name, id);
          CREATE TABLE breaker_calls (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            at INTEGER NOT NULL,
            outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'failed', 'slow', 'rejected')),
            latency_ms INTEGER NOT NULL,
            error TEXT
          );
          CREATE INDEX breaker_calls_name ON breaker_calls(name, id);
          """)
    }
  ])
}
