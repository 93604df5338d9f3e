import Storage

/// The tables Analytics owns. Its migrations are named `analytics.NNN_what`; the
/// runtime applies them after those of the modules below it.
public enum AnalyticsSchema {
  public static let migrations = Migrations([
    Migration("analytics.001_events") { db in
      // Events, PostHog's shape: a name, the account (and maybe user) it
      // belongs to, a time (epoch milliseconds) and properties. Names and
      // actors are interned, so a funnel reads and compares small integers;
      // `event_id` dedups a repeated import or a retried call. (An index
      // by time, dropped by 002.) Funnels and retention read the column
      // blocks below, so no index by name or account slows every insert.
      // `analytics_columns` holds the same events again as columns, per
      // name, in blocks of up to 65,536: times (Int64), accounts and users
      // (Int32 actor ids, 0 for none), little-endian. Funnels read those
      // blobs instead of a row per event; the rows after the `columns`
      // source's position (not folded in yet) are read as rows.
      // `analytics_sources` remembers how far each engine's own events
      // (Lifecycle's timeline, sent e-mails) have been copied in.
      try db.execute(
        sql: """
          CREATE TABLE analytics_event_names (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE
          );
          CREATE TABLE analytics_actors (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('account', 'user')),
            key TEXT NOT NULL,
            UNIQUE (kind, key)
          );
          CREATE TABLE analytics_events (
            id INTEGER PRIMARY KEY,
            name_id INTEGER NOT NULL REFERENCES analytics_event_names(id),
            account INTEGER NOT NULL REFERENCES analytics_actors(id),
            user INTEGER REFERENCES analytics_actors(id),
            ts INTEGER NOT NULL,
            properties TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(properties)),
            event_id TEXT
          );
          CREATE UNIQUE INDEX analytics_events_event_id ON analytics_events(event_id) WHERE event_id IS NOT NULL;
          CREATE TABLE analytics_columns (
            name_id INTEGER NOT NULL,
            block INTEGER NOT NULL,
            count INTEGER NOT NULL,
            ts BLOB NOT NULL,
            accounts BLOB NOT NULL,
            users BLOB NOT NULL,
            PRIMARY KEY (name_id, block)
          ) WITHOUT ROWID;
          CREATE TABLE analytics_sources (
            name TEXT PRIMARY KEY NOT NULL,
            position INTEGER NOT NULL
          ) WITHOUT ROWID;
          """)
    },
    Migration("analytics.002_no_time_index") { db in
      // An index by time (001 made it once) cost an import a third of its time; "active in
      // this range" now reads the column blocks, as funnels do.
      try db.execute(sql: "DROP INDEX IF EXISTS analytics_events_ts")
    },
  ])
}
