import Foundation
import GRDB

/// Storage's own tables: facts about the file itself.
public enum StorageSchema {
  public static let migrations = Migrations([
    Migration("storage.001_meta") { db in
      try db.execute(
        sql: """
          CREATE TABLE opsdeck_meta (
            key TEXT PRIMARY KEY NOT NULL,
            value TEXT NOT NULL
          ) WITHOUT ROWID
          """)
    },
    AuditLog.migration,
  ])
}

extension Store {
  /// Records a fact about the file (`created_at`, `created_by`) once; later
  /// calls with the same key keep the first value.
  public func recordMetaOnce(_ key: String, _ value: String) throws(StoreError) {
    do {
      try pool.write { db in
        try db.execute(
          sql: "INSERT INTO opsdeck_meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO NOTHING",
          arguments: [key, value])
      }
    } catch {
      throw Self.translate(error, path: path)
    }
  }

  public func meta() throws(StoreError) -> [String: String] {
    do {
      return try pool.read { db in
        guard try db.tableExists("opsdeck_meta") else { return [:] }
        let rows = try Row.fetchAll(db, sql: "SELECT key, value FROM opsdeck_meta")
        return Dictionary(uniqueKeysWithValues: rows.map { ($0["key"] as String, $0["value"] as String) })
      }
    } catch {
      throw Self.translate(error, path: path)
    }
  }
}
