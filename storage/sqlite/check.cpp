// The data-directory check. Every query runs in one read transaction, so the rows agree with each
// other even while a server commits; the blob directory is listed after the snapshot, and files
// the snapshot does not name are only orphans once they are old enough (see check_options).
#include "storage/sqlite/check.hpp"

#include "storage/sqlite/schema.hpp"
#include "storage/sqlite/sqlite.hpp"

#include <chrono>
#include <filesystem>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

namespace ifmatch::storage::sqlite {

namespace fs = std::filesystem;

namespace {

void check_integrity(connection &db, check_report &r) {
    query q(db, "PRAGMA integrity_check");
    while (q->step()) {
        auto line = q->column_text(0);
        if (line != "ok") {
            r.problems.push_back("sqlite integrity_check: " + line);
        }
    }
}

// Body rows: files exist with their recorded size; inline data has its recorded size.
void check_bodies(connection &db, const std::string &blob_dir, check_report &r,
                  std::unordered_set<std::string> &named_files) {
    query q(db, "SELECT id, size, file, length(data), data IS NOT NULL, "
                "EXISTS(SELECT 1 FROM body_parts p WHERE p.body_id = bodies.id) FROM bodies");
    while (q->step()) {
        ++r.bodies;
        auto id = std::to_string(q->column_int(0));
        auto size = q->column_int(1);
        r.stored_bytes += size;
        if (!q->column_is_null(2)) {
            auto file = q->column_text(2);
            named_files.insert(file);
            std::error_code ec;
            auto on_disk = fs::file_size(blob_dir + "/" + file, ec);
            if (ec) {
                r.problems.push_back("body " + id + ": blob file blobs/" + file + " is missing");
            } else if (static_cast<std::int64_t>(on_disk) != size) {
                r.problems.push_back("body " + id + ": blob file blobs/" + file + " has " +
                                     std::to_string(on_disk) + " bytes, recorded " +
                                     std::to_string(size));
            }
        } else if (q->column_int(4) && q->column_int(3) != size) {
            r.problems.push_back("body " + id + ": inline data has " +
                                 std::to_string(q->column_int(3)) + " bytes, recorded " +
                                 std::to_string(size));
        } else if (!q->column_int(4) && !q->column_int(5) && size != 0) {
            r.problems.push_back("body " + id + ": no file, no data and no parts, size " +
                                 std::to_string(size));
        }
    }
}

// References to bodies that do not exist.
void check_dangling(connection &db, check_report &r) {
    {
        query q(db, "SELECT v.bucket, v.key, v.version_id, v.body_id FROM versions v "
                    "LEFT JOIN bodies b ON b.id = v.body_id "
                    "WHERE v.body_id IS NOT NULL AND v.body_id != 0 AND b.id IS NULL");
        while (q->step()) {
            r.problems.push_back("version " + q->column_text(0) + "/" + q->column_text(1) +
                                 " (" + q->column_text(2) + "): body " +
                                 std::to_string(q->column_int(3)) + " does not exist");
        }
    }
    {
        query q(db, "SELECT p.upload_id, p.part_number, p.body_id FROM parts p "
                    "LEFT JOIN bodies b ON b.id = p.body_id WHERE b.id IS NULL");
        while (q->step()) {
            r.problems.push_back("upload " + q->column_text(0) + " part " +
                                 std::to_string(q->column_int(1)) + ": body " +
                                 std::to_string(q->column_int(2)) + " does not exist");
        }
    }
    query q(db, "SELECT p.body_id, p.part_body_id FROM body_parts p "
                "LEFT JOIN bodies b ON b.id = p.part_body_id WHERE b.id IS NULL");
    while (q->step()) {
        r.problems.push_back("body " + std::to_string(q->column_int(0)) + ": part body " +
                             std::to_string(q->column_int(1)) + " does not exist");
    }
}

// Schema 2: key_state.latest_seq names the one version row marked current.
void check_latest(connection &db, check_report &r) {
    query q(db, "SELECT v.bucket, v.key, v.seq, COALESCE(k.latest_seq, 0) FROM versions v "
                "LEFT JOIN key_state k ON k.bucket = v.bucket AND k.key = v.key "
                "WHERE (v.is_latest = 1) != (v.seq = COALESCE(k.latest_seq, 0))");
    while (q->step()) {
        r.problems.push_back("key " + q->column_text(0) + "/" + q->column_text(1) + ": version " +
                             std::to_string(q->column_int(2)) +
                             " disagrees with the key's current version " +
                             std::to_string(q->column_int(3)));
    }
}

void check_refcounts(connection &db, check_report &r) {
    query q(db, "WITH refs(id) AS ("
                "  SELECT body_id FROM versions WHERE body_id IS NOT NULL AND body_id != 0"
                "  UNION ALL SELECT body_id FROM parts"
                "  UNION ALL SELECT part_body_id FROM body_parts),"
                " counted AS (SELECT id, COUNT(*) AS n FROM refs GROUP BY id) "
                "SELECT b.id, b.refs, COALESCE(c.n, 0) FROM bodies b "
                "LEFT JOIN counted c ON c.id = b.id WHERE b.refs != COALESCE(c.n, 0)");
    while (q->step()) {
        r.problems.push_back("body " + std::to_string(q->column_int(0)) + ": reference count " +
                             std::to_string(q->column_int(1)) + ", but " +
                             std::to_string(q->column_int(2)) + " references");
    }
}

void check_orphans(const std::string &blob_dir, const std::unordered_set<std::string> &named,
                   const check_options &opts, check_report &r) {
    std::error_code ec;
    if (!fs::exists(blob_dir, ec)) {
        return;
    }
    auto now = fs::file_time_type::clock::now();
    std::int64_t recent = 0;
    for (auto it = fs::recursive_directory_iterator(blob_dir, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (!it->is_regular_file(ec)) {
            continue;
        }
        ++r.blob_files;
        auto rel = fs::relative(it->path(), blob_dir, ec).generic_string();
        if (named.count(rel)) {
            continue;
        }
        auto age = std::chrono::duration_cast<std::chrono::seconds>(
            now - it->last_write_time(ec));
        if (age.count() < opts.orphan_min_age_seconds) {
            ++recent;
            continue;
        }
        r.problems.push_back("orphan blob file blobs/" + rel + " (" +
                             std::to_string(it->file_size(ec)) +
                             " bytes) is not referenced by any body (left in place)");
    }
    if (recent > 0) {
        r.notes.push_back(std::to_string(recent) +
                          " recent unreferenced blob file(s): uploads in progress, not counted");
    }
}

} // namespace

check_report check_data_dir(const std::string &dir, const check_options &opts) {
    std::string path = dir + "/ifmatch.db";
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) {
        throw std::runtime_error("no ifmatch database at " + path);
    }
    check_report r;
    connection db(path, true);
    r.schema_version = schema_version(db);
    require_known_schema(db, "data directory " + dir);
    check_integrity(db, r);
    std::unordered_set<std::string> named;
    db.exec("BEGIN");
    check_bodies(db, dir + "/blobs", r, named);
    check_dangling(db, r);
    check_refcounts(db, r);
    if (r.schema_version >= 2) {
        check_latest(db, r);
    }
    {
        query q(db, "SELECT COUNT(*) FROM versions");
        r.versions = q->step() ? q->column_int(0) : 0;
    }
    db.exec("COMMIT");
    check_orphans(dir + "/blobs", named, opts, r);
    return r;
}

} // namespace ifmatch::storage::sqlite
