// Schema of the PostgreSQL backend. Version 1 is the first layout; later versions append steps.
//
// - Bucket names, keys and upload ids are `COLLATE "C"`: S3 lists in byte order, whatever the
//   database's default collation, and the indexes serve those orders.
// - versions: one row per version or delete marker; is_latest marks a key's current one
//   (a partial index finds it). seq orders a key's rows (writes to one key are serialised by the
//   key's advisory lock, so within a key seq order is commit order).
// - key_state: per key, the transaction ids (xid8 as bigint) of the last mutation and the last
//   delete and the recent (xid, exists-after) history: the 409 model (D3) compares them with the
//   snapshot a request took at its head.
// - leases: which replica runs a background task (lifecycle passes) until when.
// - fault_rules (version 2): the fault rules arranged through any replica (D10).
// - bodies.file and released_files (version 3): bodies in a shared directory (blob_dir.hpp).
// - bodies: small bodies inline (data), larger ones as 1 MiB body_chunks; a multipart body is a
//   list of part bodies (body_parts). staged: chunks of an upload not yet committed.
#include "storage/postgres/schema.hpp"

#include <stdexcept>
#include <string>

namespace ifmatch::storage::postgres {

namespace {

constexpr const char *schema_v1 = R"sql(
CREATE TABLE IF NOT EXISTS ifmatch_meta(k text PRIMARY KEY, v text NOT NULL);
CREATE TABLE IF NOT EXISTS buckets(
  name text COLLATE "C" PRIMARY KEY,
  created_ms bigint NOT NULL,
  region text NOT NULL,
  versioning text NOT NULL DEFAULT '',
  require_conditions boolean NOT NULL DEFAULT false,
  policy text NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS bucket_settings(
  bucket text COLLATE "C" NOT NULL,
  name text NOT NULL,
  value text NOT NULL,
  PRIMARY KEY(bucket, name));
CREATE TABLE IF NOT EXISTS bodies(
  id bigserial PRIMARY KEY,
  size bigint NOT NULL,
  data bytea,
  chunked boolean NOT NULL DEFAULT false,
  refs integer NOT NULL DEFAULT 0,
  staged boolean NOT NULL DEFAULT false,
  created timestamptz NOT NULL DEFAULT now());
CREATE INDEX IF NOT EXISTS bodies_staged ON bodies(created) WHERE staged;
CREATE TABLE IF NOT EXISTS body_chunks(
  body_id bigint NOT NULL,
  n integer NOT NULL,
  data bytea NOT NULL,
  PRIMARY KEY(body_id, n));
CREATE TABLE IF NOT EXISTS body_parts(
  body_id bigint NOT NULL,
  n integer NOT NULL,
  part_body_id bigint NOT NULL,
  PRIMARY KEY(body_id, n));
CREATE TABLE IF NOT EXISTS versions(
  seq bigserial PRIMARY KEY,
  bucket text COLLATE "C" NOT NULL,
  key text COLLATE "C" NOT NULL,
  version_id text NOT NULL,
  is_latest boolean NOT NULL,
  delete_marker boolean NOT NULL,
  etag text NOT NULL DEFAULT '',
  size bigint NOT NULL DEFAULT 0,
  last_modified_ms bigint NOT NULL,
  body_id bigint,
  meta text NOT NULL DEFAULT '',
  parts_count integer NOT NULL DEFAULT 0,
  writer_request_id text NOT NULL DEFAULT '',
  writer_access_key text NOT NULL DEFAULT '',
  writer_remote text NOT NULL DEFAULT '',
  writer_agent text NOT NULL DEFAULT '',
  rank_ms bigint NOT NULL DEFAULT 0,
  writer_xid bigint NOT NULL DEFAULT 0);
CREATE UNIQUE INDEX IF NOT EXISTS versions_by_key ON versions(bucket, key, version_id);
CREATE UNIQUE INDEX IF NOT EXISTS versions_latest ON versions(bucket, key) WHERE is_latest;
CREATE INDEX IF NOT EXISTS versions_order ON versions(bucket, key, rank_ms DESC, seq DESC);
CREATE TABLE IF NOT EXISTS key_state(
  bucket text COLLATE "C" NOT NULL,
  key text COLLATE "C" NOT NULL,
  last_mutation_xid bigint NOT NULL,
  last_delete_xid bigint NOT NULL DEFAULT 0,
  history text NOT NULL DEFAULT '',
  PRIMARY KEY(bucket, key));
CREATE TABLE IF NOT EXISTS uploads(
  upload_id text COLLATE "C" PRIMARY KEY,
  bucket text COLLATE "C" NOT NULL,
  key text COLLATE "C" NOT NULL,
  initiated_ms bigint NOT NULL,
  start_snapshot text NOT NULL,
  existed_at_start boolean NOT NULL,
  meta text NOT NULL DEFAULT '',
  checksum_algo text NOT NULL DEFAULT '',
  checksum_type text NOT NULL DEFAULT '',
  writer_request_id text NOT NULL DEFAULT '',
  writer_access_key text NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS uploads_by_key ON uploads(bucket, key, initiated_ms);
CREATE TABLE IF NOT EXISTS parts(
  upload_id text NOT NULL,
  part_number integer NOT NULL,
  etag text NOT NULL,
  size bigint NOT NULL,
  body_id bigint NOT NULL,
  checksums text NOT NULL DEFAULT '',
  last_modified_ms bigint NOT NULL,
  PRIMARY KEY(upload_id, part_number));
CREATE TABLE IF NOT EXISTS events(
  id bigserial PRIMARY KEY,
  time_ms bigint NOT NULL,
  bucket text COLLATE "C" NOT NULL,
  key text COLLATE "C" NOT NULL,
  body text NOT NULL);
CREATE INDEX IF NOT EXISTS events_by_key ON events(bucket, key);
CREATE TABLE IF NOT EXISTS leases(
  task text PRIMARY KEY,
  holder text NOT NULL,
  until_ms bigint NOT NULL);
INSERT INTO ifmatch_meta(k, v) VALUES('clock_offset_ms', '0') ON CONFLICT DO NOTHING;
)sql";

// Version 2: fault rules (D10) as rows, so a rule arranged through one replica is used by the
// matching request on whichever replica it lands.
constexpr const char *schema_v2 = R"sql(
CREATE TABLE IF NOT EXISTS fault_rules(
  id bigserial PRIMARY KEY,
  bucket text COLLATE "C" NOT NULL,
  rule text NOT NULL,
  count integer NOT NULL);
CREATE INDEX IF NOT EXISTS fault_rules_by_bucket ON fault_rules(bucket, id);
)sql";

// Version 3: bodies in a shared directory (--blob-dir, blob_dir.hpp): the bodies row names its
// file, and a released file waits in released_files until no snapshot can still read it.
constexpr const char *schema_v3 = R"sql(
ALTER TABLE bodies ADD COLUMN IF NOT EXISTS file text;
CREATE TABLE IF NOT EXISTS released_files(
  name text PRIMARY KEY,
  xid bigint NOT NULL);
)sql";

// Any constant: the advisory lock every replica's migration takes.
constexpr const char *migration_lock = "7238451196";

} // namespace

int schema_version(connection &c) {
    auto r = c.run("SELECT to_regclass('ifmatch_meta') IS NOT NULL");
    if (!r.boolean(0, 0)) {
        return 0;
    }
    auto v = c.run("SELECT v FROM ifmatch_meta WHERE k = 'schema_version'");
    return v.empty() ? 0 : static_cast<int>(v.i64(0, 0));
}

void migrate(connection &c) {
    static constexpr const char *steps[] = {schema_v1, schema_v2, schema_v3};
    static_assert(std::size(steps) == current_schema_version);
    c.script(std::string("SELECT pg_advisory_lock(") + migration_lock + ")");
    try {
        int v = schema_version(c);
        if (v > current_schema_version) {
            throw std::runtime_error(
                "the database has ifmatch schema version " + std::to_string(v) +
                ", newer than this ifmatch understands (" +
                std::to_string(current_schema_version) +
                "); it was written by a newer release. Run that release (or newer) on it; this "
                "one refuses to open it to avoid damage.");
        }
        for (; v < current_schema_version; ++v) {
            c.script("BEGIN");
            c.script(steps[v]);
            c.run("INSERT INTO ifmatch_meta(k, v) VALUES('schema_version', $1) "
                  "ON CONFLICT (k) DO UPDATE SET v = excluded.v",
                  std::to_string(v + 1));
            c.script("COMMIT");
        }
    } catch (...) {
        try {
            if (c.ok()) {
                c.script("ROLLBACK");
                c.script(std::string("SELECT pg_advisory_unlock(") + migration_lock + ")");
            }
        } catch (...) {
        }
        throw;
    }
    c.script(std::string("SELECT pg_advisory_unlock(") + migration_lock + ")");
}

} // namespace ifmatch::storage::postgres
