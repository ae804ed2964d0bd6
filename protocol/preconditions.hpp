// Conditional requests: parse the If-* and x-amz-copy-source-if-* headers once, evaluate them
// against an object's validators, and decide each operation's order of checks (what a lookup
// found, source and destination conditions). This is the ONLY place where precondition rules
// live (docs/conditional-requests.md). Pure: no I/O, no clock reads (callers pass `now`).
#pragma once

#include "protocol/errors.hpp"
#include "protocol/etag.hpp"
#include "protocol/http_date.hpp"
#include "protocol/xml.hpp"

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace ifmatch::protocol {

// Looks a request header (or a presigned query parameter, R-G16) up by case-insensitive name.
using header_lookup = std::function<std::optional<std::string_view>(std::string_view name)>;

// The four read conditions, each absent when not sent or unparseable (R-T5).
struct read_conditions {
    std::optional<etag_list> if_match;
    std::optional<etag_list> if_none_match;
    std::optional<sys_seconds> if_modified_since;
    std::optional<sys_seconds> if_unmodified_since;

    bool empty() const {
        return !if_match && !if_none_match && !if_modified_since && !if_unmodified_since;
    }
};

// GET/HEAD: If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since. Never fails: a
// blank ETag header or an unparseable date is absent (R-T5). `now` only resolves RFC 850 two-digit
// years (D2); the overload without it reads the system clock for that purpose alone.
read_conditions parse_read_conditions(const header_lookup &h, sys_seconds now);
read_conditions parse_read_conditions(const header_lookup &h);
// CopyObject/UploadPartCopy: x-amz-copy-source-if-match, ...-none-match, ...-modified-since,
// ...-unmodified-since. Same contract as parse_read_conditions.
read_conditions parse_copy_source_conditions(const header_lookup &h, sys_seconds now);
read_conditions parse_copy_source_conditions(const header_lookup &h);

// What a precondition is evaluated against.
struct validators {
    std::string etag; // quoted or not
    sys_millis last_modified{};
};

enum class read_verdict { proceed, not_modified, precondition_failed };

struct read_outcome {
    read_verdict verdict = read_verdict::proceed;
    std::string_view condition; // the header that decided a 304/412, as S3 names it in <Condition>
};

// GET/HEAD (§3, R-G1..R-G11): If-Match -> If-Unmodified-Since (412) -> If-None-Match ->
// If-Modified-Since (304). `now` is the server clock, for R-T6 (future IMS ignored).
read_outcome evaluate_read(const read_conditions &c, const validators &v, sys_seconds now);

// If-Range (R-G15, RFC 9110 §13.1.5), the one evaluator of that header: true when the Range
// may be served, i.e. the value (surrounding blanks ignored) is an entity tag strongly equal to
// the current ETag, quoted or not (R-T1; a W/ tag never matches), or an HTTP-date exactly equal
// to Last-Modified truncated to whole seconds. Otherwise (another tag, another date, an empty
// value) the caller ignores Range and sends the whole object with 200.
bool if_range_holds(std::string_view value, const validators &v);

// Copy source (§7.1, R-C1..R-C6): same order, but every failure is a 412 whose condition is named
// `x-amz-copy-source-If-...`.
read_outcome evaluate_copy_source(const read_conditions &c, const validators &v, sys_seconds now);

// Write conditions of PutObject / CopyObject destination / CompleteMultipartUpload.
struct write_conditions {
    std::optional<std::string> if_match; // quotes stripped (R-T1)
    bool if_none_match_star = false;

    bool empty() const { return !if_match && !if_none_match_star; }
};

// Header validation (R-P1..R-P3, R-M1, R-C11): 501 NotImplemented with Header and
// additionalMessage. Answered on the request head, before existence is checked (D4).
result<write_conditions> parse_write_conditions(const header_lookup &h);

// What the store knows about the key inside its commit (D3).
struct write_context {
    bool exists = false;                  // a current, non-delete-marker version exists now
    std::string current_etag;             // its ETag when `exists`
    bool existed_at_start = false;        // a current object existed at t_start
    bool deleted_since_start = false;     // a delete / delete marker committed after t_start
    bool written_since_start = false;     // any write of the key committed after t_start
    bool conditions_required = false;     // D5: server flag or bucket setting
};

enum class write_verdict {
    proceed,
    precondition_failed,   // 412
    no_such_key,           // 404 (If-Match on an absent key)
    conflict,              // 409 ConditionalRequestConflict
    precondition_required, // 428 (D5)
};

struct write_outcome {
    write_verdict verdict = write_verdict::proceed;
    std::string_view condition; // If-Match / If-None-Match
};

// PutObject, CopyObject destination, CompleteMultipartUpload at commit (D3, R-P4..R-P9,
// R-M2..R-M7). If-None-Match `*`: exists -> 412; existed at t_start and deleted since -> 409.
// If-Match E: absent -> no_such_key; ETag != E -> 412; written or deleted since t_start -> 409
// (R-M7 order). No condition while `ctx.conditions_required` -> 428 (D5). Called by storage
// inside its commit.
write_outcome evaluate_write(const write_conditions &c, const write_context &ctx);

// DeleteObject If-Match (R-D1..R-D4, R-D10): `if_match` may be `*`.
struct delete_conditions {
    std::optional<etag_list> if_match;
};

// Header validation for DeleteObject (R-D5..R-D8): 501 for x-amz-if-match-last-modified-time /
// x-amz-if-match-size on general purpose buckets, and for If-Match together with versionId.
result<delete_conditions> parse_delete_conditions(const header_lookup &h, bool has_version_id);

// Evaluated at commit: exists + match -> proceed; mismatch -> 412; absent/delete marker -> 404;
// match but the key was written or deleted since t_start -> 409 (R-D15); no If-Match while
// `ctx.conditions_required` -> 428 (D5). Only `exists`, `current_etag`, the two *_since_start
// flags and `conditions_required` of `ctx` are read.
write_outcome evaluate_delete(const delete_conditions &c, const write_context &ctx);

// The s3_error a non-proceed verdict turns into (PreconditionFailed + Condition, NoSuchKey + Key,
// ConditionalRequestConflict + Condition + Key, PreconditionRequired).
s3_error write_verdict_error(const write_outcome &o, std::string_view key);

// ==================================================================== orders of checks
//
// Each operation's order of checks is one function below. Callers gather plain facts (what a
// lookup found, the parsed conditions, the store's clock, the commit-time write_context) and turn
// the decision into a response; the truth table (preconditions_test.cpp) drives these functions.

// What the lookup of a key's current version, or of the version a versionId names, found.
enum class found_kind {
    nothing,       // no version: the key has none, or the versionId names none
    delete_marker, // a delete marker
    object,        // an object version, whose validators are found_version::v
};

struct found_version {
    found_kind kind = found_kind::nothing;
    bool by_version_id = false; // selected by a versionId (?versionId=, or x-amz-copy-source's)
    validators v;               // when kind == object
};

enum class read_answer {
    proceed,             // serve the version (then Range / partNumber, R-G13, R-G15)
    no_such_key,         // 404 NoSuchKey: the key has no version
    no_such_version,     // 404 NoSuchVersion: the versionId names no version
    delete_marker,       // 404 NoSuchKey with x-amz-delete-marker: the current version is a marker
    delete_marker_named, // 405 MethodNotAllowed: the versionId names a delete marker
    not_modified,        // 304
    precondition_failed, // 412
};

struct read_decision {
    read_answer answer = read_answer::proceed;
    std::string_view condition; // the header that decided a 304 / 412
};

// GET / HEAD (§3), after the bucket lookup (R-G0a): what was found is decided before any
// condition, so a missing key or a delete marker is never a 412 or 304 (R-G0b); then
// evaluate_read against the version found, the one versionId names if any (R-G0c). The object
// sub-resources (acl, tagging, attributes) take the same existence steps with no conditions.
read_decision decide_read(const found_version &f, const read_conditions &c, sys_seconds now);

// The error of a refusing read decision (any answer but proceed and not_modified): NoSuchKey +
// Key, NoSuchVersion + Key + VersionId, MethodNotAllowed + Method + ResourceType, or E1.
s3_error read_decision_error(const read_decision &d, std::string_view method, std::string_view key,
                             std::string_view version_id);

enum class copy_answer {
    proceed,
    no_such_key,         // 404 NoSuchKey of the source: no current version, or a delete marker
    no_such_version,     // 404 NoSuchVersion: the source's versionId names no version
    delete_marker_named, // 400 InvalidRequest (E7): the source's versionId names a delete marker
    precondition_failed, // 412 x-amz-copy-source-If-... (R-C1..R-C6)
    onto_itself,         // 400 InvalidRequest (E6): a copy onto itself that changes nothing
    destination,         // the destination's conditions refused: see copy_decision::destination
};

struct copy_decision {
    copy_answer answer = copy_answer::proceed;
    std::string_view condition; // the x-amz-copy-source-If-... header that decided a 412
    write_outcome destination;  // the destination's verdict when answer == destination (D3)
};

// The source half of CopyObject and UploadPartCopy (§7.1), after the source bucket's lookup:
// what was found (R-C7), then evaluate_copy_source against that version (R-C8, R-C1..R-C6).
copy_decision decide_copy_source(const found_version &source, const read_conditions &c,
                                 sys_seconds now);

// Everything CopyObject's decision reads.
struct copy_facts {
    found_version source;
    read_conditions source_conditions;
    bool onto_itself = false;       // source and destination are the same bucket and key
    bool changes_something = false; // x-amz-metadata-directive: REPLACE or copy_changes_attributes
    write_conditions destination_conditions; // parse_write_conditions, on the request head (D4)
    write_context destination;               // the destination key at commit (D3)
    sys_seconds now{};                       // the store's clock at commit
};

// CopyObject in D6's order, after the 501 header validation and the buckets' lookups:
// decide_copy_source -> a copy onto itself that changes nothing (R-C15) -> evaluate_write on the
// destination (D3, D5, R-C9, R-C10, R-C12).
copy_decision decide_copy(const copy_facts &f);

// R-C15: whether the request sets an attribute that makes a copy onto itself legal besides
// `x-amz-metadata-directive: REPLACE`: x-amz-storage-class, x-amz-website-redirect-location or
// x-amz-server-side-encryption, whatever its value.
bool copy_changes_attributes(const header_lookup &h);

// The error of a refusing copy decision: `source_key` and `source_version_id` name the source in
// its 404s, `key` the destination in write_verdict_error's.
s3_error copy_decision_error(const copy_decision &d, std::string_view source_key,
                             std::string_view source_version_id, std::string_view key);

// DeleteObjects (§8): a <Size> or <LastModifiedTime> in any <Object> rejects the whole request
// with MalformedXML before any key is deleted (R-D13).
std::optional<s3_error> delete_objects_refusal(const delete_objects_request &r);

// One <Object> of DeleteObjects: its <ETag> (a value, a list or `*`) is that key's If-Match
// (R-D11); DeleteObject's header validation (R-D5..R-D8) does not apply. It is decided at commit
// by evaluate_delete as DeleteObject's If-Match is, and a refusal (412; 404 on an absent key or a
// delete marker, R-D12; 409; 428) is that key's <Error> in a 200, not the request's.
delete_conditions delete_objects_key_conditions(const delete_objects_request::object &o);

} // namespace ifmatch::protocol
