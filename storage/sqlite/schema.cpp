// Schema and migrations. Version 1 is the first layout; later versions append steps below.
//
// Version 2: a key's current version is found through key_state.latest_seq (the seq of the
// versions row with is_latest = 1, 0 when the key has none) instead of the partial index
// versions_latest, and versions_order is gone: per-key ordering sorts the key's rows found
// through versions_by_id. Every write then touches two B-tree leaves chosen by the key's name
// (versions_by_id and key_state) instead of four.
//
// Version 3: versions_by_id becomes versions_by_key, the same columns but only the rows with
// is_latest = 0. A key's current row is found through key_state.latest_seq, every other row
// through versions_by_key; a query for all of a key's rows reads both. A PUT of a new key, or an
// overwrite in a bucket that never had versioning, then touches one leaf chosen by the key's
// name (key_state) instead of two. Before the index is built, is_latest is made to agree with
// key_state.latest_seq (the row reads have used since version 2), so no row is lost or doubled.
#include "storage/sqlite/schema.hpp"

#include <iterator>
#include <stdexcept>
#include <string>

namespace ifmatch::storage::sqlite {

namespace {

constexpr const char *schema_v1 = R"sql(
CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS buckets(
  name TEXT PRIMARY KEY,
  created_ms INTEGER NOT NULL,
  region TEXT NOT NULL,
  versioning TEXT NOT NULL DEFAULT '',
  require_conditions INTEGER NOT NULL DEFAULT 0,
  policy TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS bodies(
  id INTEGER PRIMARY KEY,
  size INTEGER NOT NULL,
  data BLOB,
  file TEXT,
  refs INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS body_parts(
  body_id INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  part_body_id INTEGER NOT NULL,
  PRIMARY KEY(body_id, seq)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS versions(
  seq INTEGER PRIMARY KEY,
  bucket TEXT NOT NULL,
  key TEXT NOT NULL,
  version_id TEXT NOT NULL,
  is_latest INTEGER NOT NULL,
  delete_marker INTEGER NOT NULL,
  etag TEXT NOT NULL DEFAULT '',
  size INTEGER NOT NULL DEFAULT 0,
  last_modified_ms INTEGER NOT NULL,
  body_id INTEGER,
  meta TEXT NOT NULL DEFAULT '',
  parts_count INTEGER NOT NULL DEFAULT 0,
  writer_request_id TEXT NOT NULL DEFAULT '',
  writer_access_key TEXT NOT NULL DEFAULT '',
  writer_remote TEXT NOT NULL DEFAULT '',
  writer_agent TEXT NOT NULL DEFAULT '',
  rank_ms INTEGER NOT NULL DEFAULT 0);
CREATE UNIQUE INDEX IF NOT EXISTS versions_by_id ON versions(bucket, key, version_id);
CREATE INDEX IF NOT EXISTS versions_latest ON versions(bucket, key) WHERE is_latest = 1;
CREATE INDEX IF NOT EXISTS versions_order ON versions(bucket, key, rank_ms DESC, seq DESC);
CREATE TABLE IF NOT EXISTS key_state(
  bucket TEXT NOT NULL,
  key TEXT NOT NULL,
  last_mutation_seq INTEGER NOT NULL,
  last_delete_seq INTEGER NOT NULL DEFAULT 0,
  history TEXT NOT NULL DEFAULT '',
  PRIMARY KEY(bucket, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS uploads(
  upload_id TEXT PRIMARY KEY,
  bucket TEXT NOT NULL,
  key TEXT NOT NULL,
  initiated_ms INTEGER NOT NULL,
  start_seq INTEGER NOT NULL,
  existed_at_start INTEGER NOT NULL,
  meta TEXT NOT NULL DEFAULT '',
  checksum_algo TEXT NOT NULL DEFAULT '',
  checksum_type TEXT NOT NULL DEFAULT '',
  writer_request_id TEXT NOT NULL DEFAULT '',
  writer_access_key TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS uploads_by_key ON uploads(bucket, key, initiated_ms);
CREATE TABLE IF NOT EXISTS parts(
  upload_id TEXT NOT NULL,
  part_number INTEGER NOT NULL,
  etag TEXT NOT NULL,
  size INTEGER NOT NULL,
  body_id INTEGER NOT NULL,
  checksums TEXT NOT NULL DEFAULT '',
  last_modified_ms INTEGER NOT NULL,
  PRIMARY KEY(upload_id, part_number)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events(
  id INTEGER PRIMARY KEY,
  time_ms INTEGER NOT NULL,
  bucket TEXT NOT NULL,
  key TEXT NOT NULL,
  body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS events_by_key ON events(bucket, key);
CREATE TABLE IF NOT EXISTS bucket_settings(
  bucket TEXT NOT NULL,
  name TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY(bucket, name)) WITHOUT ROWID;
INSERT OR IGNORE INTO meta(k, v) VALUES('seq', '0');
)sql";

constexpr const char *schema_v2 = R"sql(
ALTER TABLE key_state ADD COLUMN latest_seq INTEGER NOT NULL DEFAULT 0;
INSERT OR IGNORE INTO key_state(bucket, key, last_mutation_seq)
  SELECT bucket, key, MAX(seq) FROM versions GROUP BY bucket, key;
UPDATE key_state SET latest_seq = COALESCE((SELECT seq FROM versions v
  WHERE v.bucket = key_state.bucket AND v.key = key_state.key AND v.is_latest = 1), 0);
DROP INDEX IF EXISTS versions_latest;
DROP INDEX IF EXISTS versions_order;
)sql";

constexpr const char *schema_v3 = R"sql(
UPDATE versions SET is_latest = 1 - is_latest
  WHERE is_latest != (seq = COALESCE((SELECT k.latest_seq FROM key_state k
    WHERE k.bucket = versions.bucket AND k.key = versions.key), 0));
DROP INDEX IF EXISTS versions_by_id;
CREATE UNIQUE INDEX IF NOT EXISTS versions_by_key ON versions(bucket, key, version_id)
  WHERE is_latest = 0;
)sql";

} // namespace

int schema_version(connection &db) {
    query q(db, "PRAGMA user_version");
    return q->step() ? static_cast<int>(q->column_int(0)) : 0;
}

void require_known_schema(connection &db, const std::string &where) {
    int v = schema_version(db);
    if (v > current_schema_version) {
        throw std::runtime_error(where + " has schema version " + std::to_string(v) +
                                 ", newer than this ifmatch understands (" +
                                 std::to_string(current_schema_version) +
                                 "); it was written by a newer release. Run that release (or "
                                 "newer) on it; this one refuses to open it to avoid damage.");
    }
}

void migrate(connection &db) { migrate_to(db, current_schema_version); }

void migrate_to(connection &db, int target) {
    require_known_schema(db, "the database");
    // Step i takes a database from version i to version i + 1, in one transaction.
    static constexpr const char *steps[] = {schema_v1, schema_v2, schema_v3};
    static_assert(std::size(steps) == current_schema_version);
    for (int v = schema_version(db); v < target && v < current_schema_version; ++v) {
        db.exec("BEGIN IMMEDIATE");
        db.exec(steps[v]);
        db.exec("PRAGMA user_version = " + std::to_string(v + 1));
        db.exec("COMMIT");
    }
}

void configure(connection &db, durability d, bool writer) {
    if (writer) {
        db.exec("PRAGMA journal_mode = WAL");
    }
    switch (d) {
    case durability::full:
        db.exec("PRAGMA synchronous = FULL");
        break;
    case durability::normal:
        db.exec("PRAGMA synchronous = NORMAL");
        break;
    case durability::none:
        db.exec("PRAGMA synchronous = OFF");
        break;
    }
    db.exec("PRAGMA cache_size = -16000");
    db.exec("PRAGMA temp_store = MEMORY");
    if (writer) {
        db.exec("PRAGMA wal_autocheckpoint = 0"); // the store checkpoints (store.cpp, INVARIANT 5)
    }
}

} // namespace ifmatch::storage::sqlite
