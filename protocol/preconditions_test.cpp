// Unit tests for protocol/preconditions. The first half replays every row of
// tests/vectors/conditional_requests.tsv through the production decisions: decide_read,
// decide_copy, decide_copy_source, parse_write_conditions + evaluate_write,
// parse_delete_conditions + evaluate_delete, and parse_delete_objects + delete_objects_refusal +
// delete_objects_key_conditions + evaluate_delete, fed with the facts each state stands for; the
// second half tests the 409 model (D3, R-M3, R-M5, R-M6, R-D15), D5, the error shapes (E1..E4,
// E6, E7) and the steps of the orders no row reaches (NoSuchVersion) directly.
#include "protocol/preconditions.hpp"
#include "protocol/text.hpp"
#include "protocol/xml.hpp"

#include <doctest/doctest.h>

// Standard library.
#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <utility>
#include <vector>

using namespace ifmatch::protocol;
using namespace std::chrono;

namespace {

// ------------------------------------------------------------------ fixed world of the table

const sys_millis current_lm = sys_days{2026y / March / 1} + 12h + 456ms;
const sys_millis old_lm = sys_days{2026y / March / 1} + 11h + 123ms;
const sys_seconds now = sys_days{2026y / March / 2} + 12h;

const std::string etag = "\"098f6bcd4621d373cade4e832627b4f6\"";      // body `test`
const std::string old_etag = "\"8d777f385d3dfec8815d20f7496026dc\"";  // body `data`
const std::string dest_etag = "\"0b43c25ccf2340e23492d4d3141479dc\""; // body `dest`

// Placeholder values for the fixed world, written out independently of the formatter.
const std::map<std::string, std::string> placeholders = {
    {"$ETAG", etag},
    {"$ETAG_UNQUOTED", "098f6bcd4621d373cade4e832627b4f6"},
    {"$ETAG_UPPER", "\"098F6BCD4621D373CADE4E832627B4F6\""},
    {"$OLD_ETAG", old_etag},
    {"$DEST_ETAG", dest_etag},
    {"$DEST_ETAG_UNQUOTED", "0b43c25ccf2340e23492d4d3141479dc"},
    {"$OTHER", "\"795f3202b17cb6bc3d4b771d8c6c9eaf\""},
    {"$LM", "Sun, 01 Mar 2026 12:00:00 GMT"},
    {"$LM-1d", "Sat, 28 Feb 2026 12:00:00 GMT"},
    {"$LM-1s", "Sun, 01 Mar 2026 11:59:59 GMT"},
    {"$LM+1s", "Sun, 01 Mar 2026 12:00:01 GMT"},
    {"$LM_RFC850", "Sunday, 01-Mar-26 12:00:00 GMT"},
    {"$LM_ASCTIME", "Sun Mar  1 12:00:00 2026"},
    {"$LM_ISO8601", "2026-03-01T12:00:00Z"},
    {"$FUTURE", "Tue, 03 Mar 2026 12:00:00 GMT"},
    {"$INVALID_DATE", "not a date"},
    {"$VERSION_ID", "v-current"},
    {"$OLD_VERSION_ID", "v-old"},
    {"$DM_VERSION_ID", "v-marker"},
    {"$SOURCE", "/bucket/src"},
};

// ------------------------------------------------------------------ reading the table

struct vector_row {
    std::string id, rule, op, state, headers;
    int status = 0;
    std::string code, condition, note;
};

struct vector_file {
    std::string comments; // every `#` line, joined
    std::vector<std::string> column_names;
    std::vector<vector_row> rows;
};

std::vector<std::string> split(std::string_view s, std::string_view sep) {
    std::vector<std::string> out;
    while (true) {
        const auto at = s.find(sep);
        out.emplace_back(s.substr(0, at));
        if (at == std::string_view::npos) {
            return out;
        }
        s.remove_prefix(at + sep.size());
    }
}

vector_row to_row(const std::vector<std::string> &f) {
    REQUIRE(f.size() == 9);
    vector_row r{f[0], f[1], f[2], f[3], f[4], std::stoi(f[5]), f[6], f[7], f[8]};
    return r;
}

const vector_file &table() {
    static const vector_file file = [] {
        vector_file out;
        std::ifstream in(IFMATCH_VECTORS_DIR "/conditional_requests.tsv");
        REQUIRE(in.good());
        std::string line;
        while (std::getline(in, line)) {
            if (line.empty()) {
                continue;
            }
            if (line.front() == '#') {
                out.comments += line + '\n';
            } else if (out.column_names.empty()) {
                out.column_names = split(line, "\t");
            } else {
                out.rows.push_back(to_row(split(line, "\t")));
            }
        }
        return out;
    }();
    return file;
}

// Replaces placeholders, longest name first (as the table's comment block prescribes).
std::string substitute(std::string v) {
    std::vector<std::pair<std::string, std::string>> order(placeholders.begin(),
                                                           placeholders.end());
    std::sort(order.begin(), order.end(),
              [](const auto &a, const auto &b) { return a.first.size() > b.first.size(); });
    for (const auto &[name, value] : order) {
        for (auto at = v.find(name); at != std::string::npos; at = v.find(name, at)) {
            v.replace(at, name.size(), value);
            at += value.size();
        }
    }
    return v;
}

// ------------------------------------------------------------------ one request of the table

struct request {
    std::vector<std::pair<std::string, std::string>> headers;
    std::vector<std::pair<std::string, std::string>> query;
    std::set<std::string> state;

    std::optional<std::string_view> header(std::string_view name) const {
        for (const auto &[n, v] : headers) {
            if (ascii::iequals(n, name)) {
                return std::string_view(v);
            }
        }
        // R-G16: a conditional header may arrive as a signed query parameter.
        for (const auto &[n, v] : query) {
            if (n.size() > 3 && ascii::iequals(n.substr(0, 3), "if-") && ascii::iequals(n, name)) {
                return std::string_view(v);
            }
        }
        return std::nullopt;
    }
    std::optional<std::string> param(std::string_view name) const {
        for (const auto &[n, v] : query) {
            if (n == name) {
                return v;
            }
        }
        return std::nullopt;
    }
    bool has(std::string_view token) const { return state.count(std::string(token)) != 0; }
    header_lookup lookup() const {
        return [this](std::string_view name) { return header(name); };
    }
};

request to_request(const vector_row &row) {
    request req;
    for (const auto &t : split(row.state, ",")) {
        req.state.insert(t);
    }
    if (row.headers.empty()) {
        return req;
    }
    for (const auto &pair : split(substitute(row.headers), " | ")) {
        const auto colon = pair.find(": ");
        REQUIRE(colon != std::string::npos);
        auto name = pair.substr(0, colon);
        auto value = pair.substr(colon + 2);
        if (name.front() == '?') {
            req.query.emplace_back(name.substr(1), value);
        } else {
            req.headers.emplace_back(name, value);
        }
    }
    return req;
}

// ------------------------------------------------------------------ the world of each state
//
// What the store's lookups and its commit see in each state of the table: facts of the fixed
// world, never a decision. Every decision is made by the production functions of
// protocol/preconditions (decide_read, decide_copy, decide_copy_source, evaluate_write,
// evaluate_delete, delete_objects_key_conditions, ...), which the rows below call.

validators current_object() { return {etag, current_lm}; }
validators old_version() { return {old_etag, old_lm}; }

found_version object_found(validators v, bool by_version_id) {
    return {found_kind::object, by_version_id, std::move(v)};
}

// GET / HEAD: the current version of `k`, or the one ?versionId= names (R-G0c).
found_version read_lookup(const request &req) {
    if (const auto version = req.param("versionId")) {
        if (*version == "v-marker") {
            REQUIRE(req.has("delete-marker"));
            return {found_kind::delete_marker, true, {}};
        }
        REQUIRE(*version == "v-old");
        return object_found(old_version(), true);
    }
    if (req.has("absent")) {
        return {};
    }
    if (req.has("delete-marker")) {
        return {found_kind::delete_marker, false, {}};
    }
    REQUIRE((req.has("exists") || req.has("versioned-exists")));
    return object_found(current_object(), false);
}

// COPY / UPLOAD_PART_COPY: the version x-amz-copy-source selects (R-C8).
found_version source_lookup(const request &req) {
    const auto source = std::string(req.header("x-amz-copy-source").value_or("/bucket/src"));
    if (const auto q = source.find("?versionId="); q != std::string::npos) {
        if (source.substr(q + 11) == "v-marker") {
            REQUIRE(req.has("src-delete-marker"));
            return {found_kind::delete_marker, true, {}};
        }
        REQUIRE(source.substr(q + 11) == "v-old");
        return object_found(old_version(), true);
    }
    if (req.has("src-absent")) {
        return {};
    }
    if (req.has("src-delete-marker")) {
        return {found_kind::delete_marker, false, {}};
    }
    REQUIRE((req.has("src-exists") || req.has("src-versioned-exists") || req.has("self") ||
             req.has("self-versioned")));
    return object_found(current_object(), false);
}

// What a commit-time write sees for a single-key state (D3).
write_context key_context(const request &req) {
    write_context ctx;
    ctx.conditions_required = req.has("conditions-required");
    if (req.has("exists") || req.has("versioned-exists")) {
        ctx.exists = true;
        ctx.current_etag = etag;
        ctx.existed_at_start = true;
    } else if (req.has("created-during-upload")) {
        ctx.exists = true;
        ctx.current_etag = etag;
        ctx.written_since_start = true;
    } else if (req.has("overwritten-during-upload")) {
        ctx.exists = true;
        ctx.current_etag = etag;
        ctx.existed_at_start = true;
        ctx.written_since_start = true;
    } else if (req.has("deleted-during-upload")) {
        ctx.existed_at_start = true;
        ctx.deleted_since_start = true;
    } else {
        REQUIRE((req.has("absent") || req.has("delete-marker")));
    }
    return ctx;
}

// The destination of a CopyObject at commit (R-C9, R-C10, R-C12).
write_context dest_context(const request &req) {
    write_context ctx;
    ctx.conditions_required = req.has("conditions-required");
    if (req.has("dest-exists")) {
        ctx.exists = true;
        ctx.current_etag = dest_etag;
        ctx.existed_at_start = true;
    } else if (req.has("self") || req.has("self-versioned")) {
        ctx.exists = true;
        ctx.current_etag = etag;
        ctx.existed_at_start = true;
    } else {
        REQUIRE((req.has("dest-absent") || req.has("dest-delete-marker")));
    }
    return ctx;
}

// ------------------------------------------------------------------ decisions to answers

// What a row's request is answered: a status and, for errors, the s3_error a handler renders.
struct answer {
    int status = 200;
    std::optional<s3_error> error;
    bool range_dependent = false; // 2xx whose exact status depends on Range (not decided here)
};

answer fail(int status, s3_error err) { return {status, std::move(err), false}; }

// HTTP status of the errors met in the table, written out here so that the test does not depend
// on the catalogue (protocol/errors.cpp).
int status_of(s3_errc e) {
    switch (e) {
    case s3_errc::precondition_failed:
        return 412;
    case s3_errc::no_such_key:
    case s3_errc::no_such_version:
    case s3_errc::no_such_bucket:
    case s3_errc::no_such_upload:
        return 404;
    case s3_errc::method_not_allowed:
        return 405;
    case s3_errc::conditional_request_conflict:
        return 409;
    case s3_errc::precondition_required:
        return 428;
    case s3_errc::not_implemented:
        return 501;
    case s3_errc::invalid_request:
    case s3_errc::malformed_xml:
        return 400;
    default:
        FAIL("unexpected errc in a decision");
        return 0;
    }
}

answer refusal(s3_error err) {
    const int status = status_of(err.code);
    return fail(status, std::move(err));
}

answer from_write(const write_outcome &o, std::string_view key, int ok_status) {
    if (o.verdict == write_verdict::proceed) {
        return {ok_status, std::nullopt, false};
    }
    return refusal(write_verdict_error(o, key));
}

answer from_read(const read_decision &d, std::string_view method, const request &req) {
    if (d.answer == read_answer::proceed) {
        return {};
    }
    if (d.answer == read_answer::not_modified) {
        return {304, std::nullopt, false};
    }
    return refusal(read_decision_error(d, method, "k", req.param("versionId").value_or("")));
}

answer from_copy(const copy_decision &d, std::string_view source_key, std::string_view key) {
    if (d.answer == copy_answer::proceed) {
        return {};
    }
    return refusal(copy_decision_error(d, source_key, {}, key));
}

// The lookups the store answers before any decision is reached: a missing bucket (R-G0a, R-C7)
// or upload (R-M7). They are lookups, not preconditions; conditional_vectors.py meets them on
// the real server.
std::optional<answer> missing_bucket(const request &req, std::string_view token) {
    if (req.has(token)) {
        return fail(404, s3_error(s3_errc::no_such_bucket));
    }
    return std::nullopt;
}

// ------------------------------------------------------------------ one row, one operation

// GET / HEAD (§3): the bucket lookup (R-G0a), then decide_read; then Range (R-G13, R-G15: only
// "the conditions let it through" is checked here).
answer read_row(const request &req, std::string_view method) {
    if (auto missing = missing_bucket(req, "no-bucket")) {
        return *missing;
    }
    const auto d = decide_read(read_lookup(req), parse_read_conditions(req.lookup(), now), now);
    auto out = from_read(d, method, req);
    out.range_dependent =
        !out.error && out.status == 200 && (req.header("Range") || req.param("partNumber"));
    return out;
}

// PUT / COMPLETE (§4, §6): 501 validation on the head (D4), the upload's lookup (R-M7), then
// evaluate_write at commit (D3).
answer write_row(const request &req) {
    auto parsed = parse_write_conditions(req.lookup());
    if (!parsed) {
        return fail(501, parsed.error());
    }
    if (req.has("no-upload")) {
        return fail(404, s3_error(s3_errc::no_such_upload));
    }
    return from_write(evaluate_write(*parsed, key_context(req)), "k", 200);
}

// COPY: destination 501 on the head (D6, R-C11), the source bucket's lookup, then decide_copy.
answer copy_row(const request &req) {
    auto parsed = parse_write_conditions(req.lookup());
    if (!parsed) {
        return fail(501, parsed.error());
    }
    if (auto missing = missing_bucket(req, "src-no-bucket")) {
        return *missing;
    }
    const bool self = req.has("self") || req.has("self-versioned");
    copy_facts f;
    f.source = source_lookup(req);
    f.source_conditions = parse_copy_source_conditions(req.lookup(), now);
    f.onto_itself = self;
    f.changes_something = req.header("x-amz-metadata-directive") == std::string_view("REPLACE") ||
                          copy_changes_attributes(req.lookup());
    f.destination_conditions = *parsed;
    f.destination = dest_context(req);
    f.now = now;
    return from_copy(decide_copy(f), self ? "k" : "src", self ? "k" : "dest");
}

// UPLOAD_PART_COPY: the source half only; no destination conditions (R-C14).
answer upload_part_copy_row(const request &req) {
    REQUIRE(req.has("upload-open"));
    const auto d = decide_copy_source(source_lookup(req),
                                      parse_copy_source_conditions(req.lookup(), now), now);
    return from_copy(d, "src", "k");
}

// DELETE (§8): 501 validation on the head (R-D5..R-D8), then evaluate_delete at commit, which
// the store applies with or without a versionId.
answer delete_row(const request &req) {
    auto parsed = parse_delete_conditions(req.lookup(), req.param("versionId").has_value());
    if (!parsed) {
        return fail(501, parsed.error());
    }
    return from_write(evaluate_delete(*parsed, key_context(req)), "k", 204);
}

// DELETE_OBJECTS (R-D11..R-D13): the row's pairs become the elements of one <Object> of a
// <Delete> body read by parse_delete_objects; a refused key is a per-key <Error> in a 200.
answer delete_objects_row(const request &req) {
    std::string body = "<Delete><Object><Key>k</Key>";
    for (const auto &[name, value] : req.headers) {
        REQUIRE((name == "ETag" || name == "Size" || name == "LastModifiedTime"));
        body += "<" + name + ">" + xml_escape(value) + "</" + name + ">";
    }
    body += "</Object></Delete>";
    const auto parsed = parse_delete_objects(body);
    REQUIRE(parsed.has_value());
    if (auto refused = delete_objects_refusal(*parsed)) {
        return refusal(*refused);
    }
    REQUIRE(parsed->objects.size() == 1);
    const auto out =
        evaluate_delete(delete_objects_key_conditions(parsed->objects.front()), key_context(req));
    if (out.verdict == write_verdict::proceed) {
        return {};
    }
    // The per-key <Error> has Key, Code and Message only (R-D11): no Condition element.
    return {200, s3_error(write_verdict_error(out, "k").code).with("Key", "k"), false};
}

const std::set<std::string> table_ops = {
    "GET", "HEAD", "PUT", "COMPLETE", "COPY", "UPLOAD_PART_COPY", "DELETE", "DELETE_OBJECTS"};

answer answer_row(const vector_row &row) {
    const auto req = to_request(row);
    if (row.op == "GET" || row.op == "HEAD") {
        return read_row(req, row.op);
    }
    if (row.op == "PUT" || row.op == "COMPLETE") {
        return write_row(req);
    }
    if (row.op == "COPY") {
        return copy_row(req);
    }
    if (row.op == "UPLOAD_PART_COPY") {
        return upload_part_copy_row(req);
    }
    if (row.op == "DELETE") {
        return delete_row(req);
    }
    REQUIRE(row.op == "DELETE_OBJECTS");
    return delete_objects_row(req);
}

// ------------------------------------------------------------------ comparing with a row

// The table names codes as AWS spells them; the test maps them to s3_errc itself so that it
// does not depend on the catalogue (protocol/errors.cpp).
s3_errc errc_of(const std::string &code) {
    static const std::map<std::string, s3_errc> codes = {
        {"PreconditionFailed", s3_errc::precondition_failed},
        {"NoSuchKey", s3_errc::no_such_key},
        {"NoSuchBucket", s3_errc::no_such_bucket},
        {"NoSuchUpload", s3_errc::no_such_upload},
        {"NotImplemented", s3_errc::not_implemented},
        {"ConditionalRequestConflict", s3_errc::conditional_request_conflict},
        {"PreconditionRequired", s3_errc::precondition_required},
        {"MethodNotAllowed", s3_errc::method_not_allowed},
        {"InvalidRequest", s3_errc::invalid_request},
        {"InvalidRange", s3_errc::invalid_range},
        {"MalformedXML", s3_errc::malformed_xml},
    };
    const auto it = codes.find(code);
    REQUIRE_MESSAGE(it != codes.end(), "unknown code in the table: " << code);
    return it->second;
}

std::string field(const s3_error &e, std::string_view name) {
    for (const auto &[n, v] : e.fields) {
        if (n == name) {
            return v;
        }
    }
    return {};
}

void check_error(const vector_row &row, const s3_error &err) {
    CHECK(err.code == errc_of(row.code));
    const bool is_501 = err.code == s3_errc::not_implemented;
    CHECK(field(err, is_501 ? "Header" : "Condition") == row.condition);
    if (err.code == s3_errc::no_such_key && row.op != "GET" && row.op != "HEAD") {
        CHECK_FALSE(field(err, "Key").empty());
    }
}

void check_row(const vector_row &row) {
    INFO(row.id << " " << row.rule << " " << row.op << " [" << row.state << "] " << row.headers);
    const auto got = answer_row(row);
    if (got.range_dependent) {
        // R-G13/R-G15: conditions passed; the 206/416/200 choice belongs to range handling.
        CHECK((row.status == 200 || row.status == 206 || row.status == 416));
        return;
    }
    CHECK(got.status == row.status);
    if (row.op == "HEAD") {
        // HEAD has no body (§1): the table leaves code and condition empty.
        CHECK(row.code.empty());
        CHECK(row.condition.empty());
        return;
    }
    if (row.code.empty()) {
        CHECK_FALSE(got.error.has_value());
        CHECK(row.condition.empty());
        return;
    }
    REQUIRE(got.error.has_value());
    check_error(row, *got.error);
}

void check_op(std::initializer_list<std::string_view> ops) {
    int n = 0;
    for (const auto &row : table().rows) {
        if (std::find(ops.begin(), ops.end(), row.op) != ops.end()) {
            check_row(row);
            ++n;
        }
    }
    CHECK(n > 0);
}

} // namespace

// ==================================================================== the truth table itself

TEST_CASE("truth table: format as in the spec's Truth-table format section") {
    const auto &t = table();
    CHECK(t.column_names == std::vector<std::string>{"id", "rule", "op", "state", "headers",
                                                     "status", "code", "condition", "note"});
    CHECK(t.rows.size() >= 150);
    std::set<std::string> ids;
    for (const auto &row : t.rows) {
        INFO(row.id);
        CHECK(ids.insert(row.id).second);
        CHECK(table_ops.count(row.op) == 1); // every row is driven by one of the cases below
        CHECK_FALSE(row.rule.empty());
        CHECK_FALSE(row.note.empty());
        CHECK(substitute(row.headers).find('$') == std::string::npos);
        for (const auto &token : split(row.state, ",")) {
            // Every state token is documented in the comment block.
            CHECK(t.comments.find(token) != std::string::npos);
        }
    }
    for (const auto &placeholder : placeholders) {
        const auto &name = placeholder.first;
        CHECK_MESSAGE(t.comments.find(name) != std::string::npos, name << " is undocumented");
    }
}

TEST_CASE("truth table: covers every rule of §2-§8 expressible as one request, and D1 D2 D5 D7") {
    std::set<std::string> cited;
    for (const auto &row : table().rows) {
        for (const auto &id : split(row.rule, ",")) {
            cited.insert(id);
        }
    }
    for (auto id :
         {"R-T1",  "R-T2",  "R-T3",  "R-T4",  "R-T5",  "R-T6",  "R-T7",  "R-G0a", "R-G0b", "R-G0c",
          "R-G1",  "R-G2",  "R-G3",  "R-G4",  "R-G5",  "R-G6",  "R-G7",  "R-G8",  "R-G9",  "R-G10",
          "R-G11", "R-G12", "R-G13", "R-G15", "R-G16", "R-P1",  "R-P2",  "R-P3",  "R-P4",  "R-P5",
          "R-P6",  "R-P7",  "R-P8",  "R-P9",  "R-P10", "R-P11", "R-P12", "R-X4",  "R-M1",  "R-M2",
          "R-M4",  "R-M6",  "R-M7",  "R-M8",  "R-C1",  "R-C2",  "R-C3",  "R-C4",  "R-C5",  "R-C6",
          "R-C7",  "R-C8",  "R-C9",  "R-C10", "R-C11", "R-C12", "R-C14", "R-C15", "R-D1",  "R-D2",
          "R-D3",  "R-D4",  "R-D5",  "R-D6",  "R-D7",  "R-D8",  "R-D9",  "R-D10", "R-D11", "R-D12",
          "R-D13", "D1",    "D2",    "D5",    "D6",    "D7"}) {
        CHECK_MESSAGE(cited.count(id) == 1, id << " has no row");
    }
}

TEST_CASE("R-G0a..R-G16, R-T1..R-T7, D1, D2, D7: GET and HEAD rows of the truth table") {
    check_op({"GET", "HEAD"});
}

TEST_CASE("R-P1..R-P12, R-X4, R-G16, D5: PUT rows of the truth table") { check_op({"PUT"}); }

TEST_CASE("R-M1..R-M8, D3, D5: COMPLETE rows of the truth table") { check_op({"COMPLETE"}); }

TEST_CASE("R-C1..R-C15, D6, D5: COPY and UPLOAD_PART_COPY rows of the truth table") {
    check_op({"COPY", "UPLOAD_PART_COPY"});
}

TEST_CASE("R-D1..R-D13, D5: DELETE and DELETE_OBJECTS rows of the truth table") {
    check_op({"DELETE", "DELETE_OBJECTS"});
}

// ==================================================================== the 409 model (D3)

namespace {

write_conditions if_match(std::string e) { return {std::move(e), false}; }
write_conditions if_none_match_star() { return {std::nullopt, true}; }

write_context existing(std::string current) {
    write_context ctx;
    ctx.exists = true;
    ctx.current_etag = std::move(current);
    ctx.existed_at_start = true;
    return ctx;
}

} // namespace

TEST_CASE("R-M3, D3: If-None-Match * after a delete during the request -> 409 If-None-Match") {
    write_context ctx;
    ctx.existed_at_start = true;
    ctx.deleted_since_start = true;
    const auto o = evaluate_write(if_none_match_star(), ctx);
    CHECK(o.verdict == write_verdict::conflict);
    CHECK(o.condition == "If-None-Match");
}

TEST_CASE("R-M2, D3: If-None-Match * with a current object is 412 even after a delete") {
    auto ctx = existing(etag);
    ctx.deleted_since_start = true;
    ctx.written_since_start = true;
    const auto o = evaluate_write(if_none_match_star(), ctx);
    CHECK(o.verdict == write_verdict::precondition_failed);
    CHECK(o.condition == "If-None-Match");
}

TEST_CASE("R-X1, D3: the loser of an If-None-Match * race gets 412, not 409") {
    write_context ctx; // absent at t_start; the winner committed first
    ctx.exists = true;
    ctx.current_etag = etag;
    ctx.written_since_start = true;
    CHECK(evaluate_write(if_none_match_star(), ctx).verdict == write_verdict::precondition_failed);
}

TEST_CASE("D3: If-None-Match * proceeds when nothing existed at t_start, whatever happened since") {
    write_context ctx;
    ctx.deleted_since_start = true; // created and deleted again during the request
    ctx.written_since_start = true;
    CHECK(evaluate_write(if_none_match_star(), ctx).verdict == write_verdict::proceed);
    CHECK(evaluate_write(if_none_match_star(), write_context{}).verdict == write_verdict::proceed);
}

TEST_CASE("R-M5, D3: If-Match on the ETag of an object written during the upload -> 409") {
    auto ctx = existing(etag);
    ctx.written_since_start = true;
    const auto o = evaluate_write(if_match("098f6bcd4621d373cade4e832627b4f6"), ctx);
    CHECK(o.verdict == write_verdict::conflict);
    CHECK(o.condition == "If-Match");
}

TEST_CASE("R-M5, D3: 409 even when the intervening write had identical bytes") {
    auto ctx = existing(etag); // same ETag before and after the intervening PUT
    ctx.written_since_start = true;
    CHECK(evaluate_write(if_match(etag), ctx).verdict == write_verdict::conflict);
}

TEST_CASE("R-M6, D3: If-Match after a delete -> 404; re-created and retried -> 409") {
    write_context deleted;
    deleted.existed_at_start = true;
    deleted.deleted_since_start = true;
    const auto o = evaluate_write(if_match(old_etag), deleted);
    CHECK(o.verdict == write_verdict::no_such_key);

    auto recreated = existing(etag);
    recreated.deleted_since_start = true;
    recreated.written_since_start = true;
    CHECK(evaluate_write(if_match(etag), recreated).verdict == write_verdict::conflict);
}

TEST_CASE("R-M7, D3: order 404 -> 412 -> 409") {
    write_context absent;
    absent.written_since_start = true;
    absent.deleted_since_start = true;
    CHECK(evaluate_write(if_match("x"), absent).verdict == write_verdict::no_such_key);
    auto changed = existing(etag);
    changed.written_since_start = true;
    CHECK(evaluate_write(if_match(old_etag), changed).verdict ==
          write_verdict::precondition_failed);
    CHECK(evaluate_write(if_match(etag), changed).verdict == write_verdict::conflict);
    CHECK(evaluate_write(if_match(etag), existing(etag)).verdict == write_verdict::proceed);
}

TEST_CASE("R-T1, R-P7: evaluate_write compares If-Match without quotes on either side") {
    CHECK(evaluate_write(if_match(etag), existing("098f6bcd4621d373cade4e832627b4f6")).verdict ==
          write_verdict::proceed);
    CHECK(evaluate_write(if_match("098f6bcd4621d373cade4e832627b4f6"), existing(etag)).verdict ==
          write_verdict::proceed);
}

TEST_CASE("R-X2, R-C13: unconditional writes never conflict") {
    auto ctx = existing(etag);
    ctx.deleted_since_start = true;
    ctx.written_since_start = true;
    CHECK(evaluate_write(write_conditions{}, ctx).verdict == write_verdict::proceed);
}

TEST_CASE("D5: conditions_required turns only unconditional writes into 428") {
    write_context ctx;
    ctx.conditions_required = true;
    CHECK(evaluate_write(write_conditions{}, ctx).verdict == write_verdict::precondition_required);
    CHECK(evaluate_write(if_none_match_star(), ctx).verdict == write_verdict::proceed);
    CHECK(evaluate_write(if_match(etag), ctx).verdict == write_verdict::no_such_key);
    CHECK(evaluate_delete(delete_conditions{}, ctx).verdict ==
          write_verdict::precondition_required);
}

TEST_CASE("R-D15: a conditional delete whose key was rewritten meanwhile -> 409") {
    delete_conditions c{parse_etag_list(etag)};
    auto ctx = existing(etag);
    ctx.written_since_start = true;
    CHECK(evaluate_delete(c, ctx).verdict == write_verdict::conflict);
    ctx.current_etag = old_etag;
    CHECK(evaluate_delete(c, ctx).verdict == write_verdict::precondition_failed);
    CHECK(evaluate_delete(c, write_context{}).verdict == write_verdict::no_such_key);
}

// ==================================================================== header validation (E3)

namespace {

header_lookup headers(std::vector<std::pair<std::string, std::string>> hs) {
    return [hs = std::move(hs)](std::string_view name) -> std::optional<std::string_view> {
        for (const auto &[n, v] : hs) {
            if (ascii::iequals(n, name)) {
                return std::string_view(v);
            }
        }
        return std::nullopt;
    };
}

void check_501(const result<write_conditions> &r, std::string_view header,
               std::string_view message) {
    REQUIRE(r.has_error());
    CHECK(r.error().code == s3_errc::not_implemented);
    REQUIRE(r.error().fields.size() == 2);
    CHECK(r.error().fields[0] == std::pair<std::string, std::string>{"Header", header});
    CHECK(r.error().fields[1] == std::pair<std::string, std::string>{"additionalMessage", message});
}

} // namespace

TEST_CASE("R-P1, R-P2, R-P3, E3: 501 Header and additionalMessage exactly") {
    check_501(parse_write_conditions(headers({{"If-None-Match", etag}})), "If-None-Match",
              "We don't accept the provided value of If-None-Match header for this API");
    check_501(parse_write_conditions(headers({{"If-Match", "*"}})), "If-Match",
              "We don't accept the provided value of If-Match header for this API");
    check_501(parse_write_conditions(headers({{"If-Match", etag}, {"If-None-Match", "*"}})),
              "If-Match,If-None-Match",
              "Multiple conditional request headers present in the request");
    check_501(parse_write_conditions(headers({{"if-match", "*"}, {"if-none-match", "x"}})),
              "If-Match,If-None-Match",
              "Multiple conditional request headers present in the request");
}

TEST_CASE("R-P4, R-P7, R-T1: accepted write conditions") {
    const auto star = parse_write_conditions(headers({{"If-None-Match", " * "}}));
    REQUIRE(star.has_value());
    CHECK(star->if_none_match_star);
    CHECK_FALSE(star->if_match);
    const auto im = parse_write_conditions(headers({{"If-Match", "\"abc"}}));
    REQUIRE(im.has_value());
    CHECK(im->if_match == "abc");
    const auto none = parse_write_conditions(headers({{"If-Match", "  "}, {"If-None-Match", ""}}));
    REQUIRE(none.has_value());
    CHECK(none->empty());
}

TEST_CASE("R-D5..R-D8, E3b: DeleteObject 501s carry Header and no additionalMessage") {
    const auto one = [](std::vector<std::pair<std::string, std::string>> hs, bool version) {
        const auto r = parse_delete_conditions(headers(std::move(hs)), version);
        REQUIRE(r.has_error());
        CHECK(r.error().code == s3_errc::not_implemented);
        REQUIRE(r.error().fields.size() == 1);
        CHECK(r.error().fields[0].first == "Header");
        return r.error().fields[0].second;
    };
    CHECK(one({{"x-amz-if-match-last-modified-time", "x"}}, false) ==
          "x-amz-if-match-last-modified-time");
    CHECK(one({{"x-amz-if-match-size", "4"}}, false) == "x-amz-if-match-size");
    CHECK(one({{"x-amz-if-match-size", "4"}, {"x-amz-if-match-last-modified-time", "x"}}, false) ==
          "x-amz-if-match-last-modified-time");
    CHECK(one({{"If-Match", "*"}}, true) == "If-Match");
    CHECK(parse_delete_conditions(headers({}), true).has_value());
    CHECK(parse_delete_conditions(headers({{"If-Match", "*"}}), false)->if_match->any);
}

// ==================================================================== error shapes (E1, E2, E4,
// D5)

TEST_CASE("E1: 412 carries Condition") {
    const auto e = write_verdict_error({write_verdict::precondition_failed, "If-None-Match"}, "k");
    CHECK(e.code == s3_errc::precondition_failed);
    CHECK(e.fields == decltype(e.fields){{"Condition", "If-None-Match"}});
}

TEST_CASE("E2, R-P9: 404 NoSuchKey carries Key") {
    const auto e = write_verdict_error({write_verdict::no_such_key, "If-Match"}, "a/b.txt");
    CHECK(e.code == s3_errc::no_such_key);
    CHECK(e.fields == decltype(e.fields){{"Key", "a/b.txt"}});
}

TEST_CASE("E4, R-X2: 409 carries Condition then Key") {
    const auto e = write_verdict_error({write_verdict::conflict, "If-Match"}, "k");
    CHECK(e.code == s3_errc::conditional_request_conflict);
    CHECK(e.fields == decltype(e.fields){{"Condition", "If-Match"}, {"Key", "k"}});
}

TEST_CASE("D5, R-B4: 428 PreconditionRequired names the missing header") {
    write_context ctx;
    ctx.conditions_required = true;
    const auto w = write_verdict_error(evaluate_write({}, ctx), "k");
    CHECK(w.code == s3_errc::precondition_required);
    CHECK(w.fields.empty());
    CHECK(w.message.find("If-None-Match") != std::string::npos);
    const auto d = write_verdict_error(evaluate_delete({}, ctx), "k");
    CHECK(d.code == s3_errc::precondition_required);
    CHECK(d.message.find("If-Match") != std::string::npos);
    CHECK(d.message.find("If-None-Match") == std::string::npos);
}

// ==================================================================== orders of checks, directly

TEST_CASE("R-G0b: a version id naming no version is NoSuchVersion with Key and VersionId") {
    read_conditions c;
    c.if_match = parse_etag_list(etag);
    const auto d = decide_read({found_kind::nothing, true, {}}, c, now);
    CHECK(d.answer == read_answer::no_such_version);
    const auto e = read_decision_error(d, "GET", "k", "v-gone");
    CHECK(e.code == s3_errc::no_such_version);
    CHECK(e.fields == decltype(e.fields){{"Key", "k"}, {"VersionId", "v-gone"}});
}

TEST_CASE("R-G0b: a delete marker is decided before any condition, 404 or 405 by version id") {
    read_conditions c;
    c.if_none_match = parse_etag_list("*");
    c.if_modified_since = now;
    const auto current = decide_read({found_kind::delete_marker, false, {}}, c, now);
    CHECK(current.answer == read_answer::delete_marker);
    CHECK(current.condition.empty());
    const auto e = read_decision_error(current, "HEAD", "a/b", "v-marker");
    CHECK(e.code == s3_errc::no_such_key);
    CHECK(e.fields == decltype(e.fields){{"Key", "a/b"}});
    const auto named = decide_read({found_kind::delete_marker, true, {}}, {}, now);
    CHECK(named.answer == read_answer::delete_marker_named);
    const auto m = read_decision_error(named, "HEAD", "a/b", "v-marker");
    CHECK(m.code == s3_errc::method_not_allowed);
    CHECK(m.fields == decltype(m.fields){{"Method", "HEAD"}, {"ResourceType", "DeleteMarker"}});
}

TEST_CASE("R-C7: copy source 404s name the source; a named delete marker is E7") {
    const auto gone = decide_copy_source({found_kind::nothing, true, {}}, {}, now);
    CHECK(gone.answer == copy_answer::no_such_version);
    CHECK(copy_decision_error(gone, "src", "v-gone", "dest").fields ==
          decltype(s3_error::fields){{"Key", "src"}, {"VersionId", "v-gone"}});
    const auto absent = decide_copy_source({}, {}, now);
    CHECK(absent.answer == copy_answer::no_such_key);
    CHECK(copy_decision_error(absent, "src", {}, "dest").fields ==
          decltype(s3_error::fields){{"Key", "src"}});
    const auto marker = decide_copy_source({found_kind::delete_marker, true, {}}, {}, now);
    CHECK(marker.answer == copy_answer::delete_marker_named);
    const auto e7 = copy_decision_error(marker, "src", "v-marker", "dest");
    CHECK(e7.code == s3_errc::invalid_request);
    CHECK(e7.message == "The source of a copy request may not specifically refer to a delete "
                        "marker by version id.");
    CHECK(e7.fields.empty());
}

TEST_CASE("D6, R-C15, E6: decide_copy checks source, then copy onto itself, then destination") {
    copy_facts f;
    f.source = {found_kind::object, false, current_object()};
    f.onto_itself = true;
    f.destination_conditions = if_match(old_etag);
    f.destination = existing(etag);
    f.destination.conditions_required = true;
    f.now = now;
    const auto self = decide_copy(f);
    CHECK(self.answer == copy_answer::onto_itself);
    const auto e6 = copy_decision_error(self, "k", {}, "k");
    CHECK(e6.code == s3_errc::invalid_request);
    CHECK(e6.message.find("copy an object to itself") != std::string::npos);
    f.changes_something = true;
    const auto dest = decide_copy(f);
    CHECK(dest.answer == copy_answer::destination);
    CHECK(dest.destination.verdict == write_verdict::precondition_failed);
    CHECK(copy_decision_error(dest, "k", {}, "k").fields ==
          decltype(s3_error::fields){{"Condition", "If-Match"}});
    f.source_conditions.if_unmodified_since = floor<seconds>(old_lm);
    const auto source = decide_copy(f);
    CHECK(source.answer == copy_answer::precondition_failed);
    CHECK(source.condition == "x-amz-copy-source-If-Unmodified-Since");
    f.source = {};
    CHECK(decide_copy(f).answer == copy_answer::no_such_key);
    f.source = {found_kind::object, false, current_object()};
    f.source_conditions = {};
    f.destination_conditions = if_match(etag);
    CHECK(decide_copy(f).answer == copy_answer::proceed);
}

TEST_CASE("R-C15: the attributes that make a copy onto itself legal, whatever their value") {
    CHECK(copy_changes_attributes(headers({{"x-amz-storage-class", "STANDARD"}})));
    CHECK(copy_changes_attributes(headers({{"X-Amz-Website-Redirect-Location", ""}})));
    CHECK(copy_changes_attributes(headers({{"x-amz-server-side-encryption", "AES256"}})));
    CHECK_FALSE(copy_changes_attributes(headers({{"x-amz-acl", "private"}})));
    CHECK_FALSE(copy_changes_attributes(headers({{"x-amz-metadata-directive", "REPLACE"}})));
}

TEST_CASE("R-D11, R-D13: a DeleteObjects <Object>'s ETag is its If-Match; Size or time refuses") {
    const auto parsed = parse_delete_objects(
        "<Delete><Object><Key>a</Key><ETag>\"098f6bcd4621d373cade4e832627b4f6\"</ETag></Object>"
        "<Object><Key>b</Key><ETag>*</ETag><VersionId>v</VersionId></Object>"
        "<Object><Key>c</Key></Object></Delete>");
    REQUIRE(parsed.has_value());
    CHECK_FALSE(delete_objects_refusal(*parsed));
    const auto a = delete_objects_key_conditions(parsed->objects[0]);
    CHECK(evaluate_delete(a, existing(etag)).verdict == write_verdict::proceed);
    CHECK(evaluate_delete(a, existing(old_etag)).verdict == write_verdict::precondition_failed);
    CHECK(delete_objects_key_conditions(parsed->objects[1]).if_match->any);
    CHECK_FALSE(delete_objects_key_conditions(parsed->objects[2]).if_match);
    const auto sized = parse_delete_objects("<Delete><Object><Key>a</Key></Object><Object><Key>b"
                                            "</Key><LastModifiedTime>x</LastModifiedTime>"
                                            "</Object></Delete>");
    REQUIRE(sized.has_value());
    const auto refused = delete_objects_refusal(*sized);
    REQUIRE(refused);
    CHECK(refused->code == s3_errc::malformed_xml);
}

// ==================================================================== read evaluation, directly

TEST_CASE("R-T7: Last-Modified milliseconds never make IUS == LM fail or IMS == LM pass") {
    read_conditions c;
    c.if_unmodified_since = floor<seconds>(current_lm);
    CHECK(evaluate_read(c, current_object(), now).verdict == read_verdict::proceed);
    read_conditions m;
    m.if_modified_since = floor<seconds>(current_lm);
    CHECK(evaluate_read(m, current_object(), now).verdict == read_verdict::not_modified);
}

TEST_CASE("R-T6: If-Modified-Since exactly now still counts; one second later is ignored") {
    read_conditions c;
    c.if_modified_since = now;
    CHECK(evaluate_read(c, current_object(), now).verdict == read_verdict::not_modified);
    c.if_modified_since = now + 1s;
    CHECK(evaluate_read(c, current_object(), now).verdict == read_verdict::proceed);
    CHECK(evaluate_copy_source(c, current_object(), now).verdict == read_verdict::proceed);
}

TEST_CASE("R-G4, R-C1: the condition named for 304 and for copy-source 412") {
    read_conditions c;
    c.if_none_match = parse_etag_list(etag);
    const auto r = evaluate_read(c, current_object(), now);
    CHECK(r.verdict == read_verdict::not_modified);
    CHECK(r.condition == "If-None-Match");
    const auto s = evaluate_copy_source(c, current_object(), now);
    CHECK(s.verdict == read_verdict::precondition_failed);
    CHECK(s.condition == "x-amz-copy-source-If-None-Match");
}

TEST_CASE("R-T5, D2: parse_read_conditions drops unparseable dates and blank ETag headers") {
    const auto c = parse_read_conditions(headers({{"if-modified-since", "2026-03-01T12:00:00Z"},
                                                  {"If-Unmodified-Since", "Sunday, 01-Mar-26 "
                                                                          "12:00:00 GMT"},
                                                  {"If-Match", "  "}}),
                                         now);
    CHECK_FALSE(c.if_modified_since);
    CHECK(c.if_unmodified_since == floor<seconds>(current_lm));
    CHECK_FALSE(c.if_match);
    CHECK_FALSE(c.if_none_match);
    CHECK(parse_read_conditions(headers({}), now).empty());
}

TEST_CASE("R-C2: parse_copy_source_conditions reads the lower-case x-amz-copy-source-if-* names") {
    const auto c = parse_copy_source_conditions(
        headers({{"x-amz-copy-source-if-match", etag},
                 {"x-amz-copy-source-if-none-match", "*"},
                 {"x-amz-copy-source-if-modified-since", "Sun, 01 Mar 2026 12:00:00 GMT"},
                 {"x-amz-copy-source-if-unmodified-since", "Sun Mar  1 12:00:00 2026"},
                 {"If-Match", "ignored"}}),
        now);
    REQUIRE(c.if_match);
    CHECK(c.if_match->tags.at(0).value == "098f6bcd4621d373cade4e832627b4f6");
    CHECK(c.if_none_match->any);
    CHECK(c.if_modified_since == c.if_unmodified_since);
    CHECK(parse_read_conditions(headers({{"x-amz-copy-source-if-match", etag}}), now).empty());
}

// If-Range has one evaluator, if_range_holds; these cases are all of its unit tests.
TEST_CASE("If-Range (R-G15): strong ETag or exact Last-Modified") {
    const auto lm = sys_millis(std::chrono::milliseconds(946684800500)); // 2000-01-01T00:00:00.5Z
    const validators v{"\"098f6bcd4621d373cade4e832627b4f6\"", lm};
    CHECK(if_range_holds("\"098f6bcd4621d373cade4e832627b4f6\"", v));
    CHECK(if_range_holds("098f6bcd4621d373cade4e832627b4f6", v));
    CHECK_FALSE(if_range_holds("W/\"098f6bcd4621d373cade4e832627b4f6\"", v));
    CHECK_FALSE(if_range_holds("\"795f3202b17cb6bc3d4b771d8c6c9eaf\"", v));
    CHECK(if_range_holds("Sat, 01 Jan 2000 00:00:00 GMT", v));
    CHECK_FALSE(if_range_holds("Sat, 01 Jan 2000 00:00:01 GMT", v));
    CHECK_FALSE(if_range_holds("", v));
}

TEST_CASE("If-Range (R-G15): blanks, other tags, the date's second, unparseable values") {
    const std::string etag = "\"0cc175b9c0f1b6a831c399e269772661\"";
    // Sun, 06 Nov 1994 08:49:37.250 GMT
    const validators v{etag, sys_millis(std::chrono::milliseconds(784111777250))};
    CHECK(if_range_holds(etag, v));
    CHECK(if_range_holds(" " + etag + " ", v));
    CHECK(if_range_holds("\t" + etag, v));
    CHECK_FALSE(if_range_holds("\"other\"", v));
    CHECK_FALSE(if_range_holds("other", v));
    CHECK_FALSE(if_range_holds("W/" + etag, v));
    CHECK_FALSE(if_range_holds(" W/" + etag, v));
    CHECK(if_range_holds("Sun, 06 Nov 1994 08:49:37 GMT", v));
    CHECK(if_range_holds("Sunday, 06-Nov-94 08:49:37 GMT", v)); // RFC 850 form (D2)
    CHECK(if_range_holds("Sun Nov  6 08:49:37 1994", v));       // asctime form (D2)
    CHECK_FALSE(if_range_holds("Sun, 06 Nov 1994 08:49:38 GMT", v));
    CHECK_FALSE(if_range_holds("Sun, 06 Nov 1994 08:49:36 GMT", v));
    CHECK_FALSE(if_range_holds("\"Sun, 06 Nov 1994 08:49:37 GMT\"", v)); // a quoted date is a tag
    CHECK_FALSE(if_range_holds("not a date", v));
    CHECK_FALSE(if_range_holds("", v));
    CHECK_FALSE(if_range_holds("   ", v));
    CHECK_FALSE(if_range_holds("\"\"", v));
}

TEST_CASE("If-Range (R-G15, R-T1): an unquoted or half-quoted current ETag validates the range") {
    // RFC 9110 §13.1.5 defines If-Range over a quoted entity-tag and says nothing of a bare
    // value; S3 accepts ETag conditions with or without quotes (R-T1), If-Range included, so
    // ifmatch compares the value once its quotes are stripped, as it does for If-Match.
    const validators v{"\"0cc175b9c0f1b6a831c399e269772661\"",
                       sys_millis(std::chrono::milliseconds(784111777250))};
    CHECK(if_range_holds("0cc175b9c0f1b6a831c399e269772661", v));
    CHECK(if_range_holds("\"0cc175b9c0f1b6a831c399e269772661", v));
    CHECK(if_range_holds("0cc175b9c0f1b6a831c399e269772661\"", v));
    CHECK(if_range_holds(" 0cc175b9c0f1b6a831c399e269772661 ", v));
    CHECK_FALSE(if_range_holds("0CC175B9C0F1B6A831C399E269772661", v)); // exact compare (R-T2)
    CHECK_FALSE(if_range_holds("0cc175b9c0f1b6a831c399e26977266", v));
    // A stored ETag kept without quotes compares the same way.
    const validators bare{"0cc175b9c0f1b6a831c399e269772661", v.last_modified};
    CHECK(if_range_holds("\"0cc175b9c0f1b6a831c399e269772661\"", bare));
    CHECK(if_range_holds("0cc175b9c0f1b6a831c399e269772661", bare));
}
