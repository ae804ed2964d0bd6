// Conditional requests: parsing the If-* / x-amz-copy-source-if-* headers and evaluating them
// against an object's validators (docs/conditional-requests.md). Pure; safe from any thread.
//
// INVARIANTS / RULES
//
//  1. This file is the only place where precondition rules live. Handlers and storage call
//     these functions and map verdicts to responses; they never compare ETags or dates.
//  2. ETag values have optional quotes: leading and trailing `"` are stripped independently
//     (R-T1). The rest is compared exactly (R-T2).
//  3. GET/HEAD and copy-source lists follow RFC 9110 (D1, R-T3): If-Match uses strong
//     comparison (a `W/` member never matches) and `*` is true for any current object;
//     If-None-Match uses weak comparison and `*` is false for any current object.
//  4. Dates: the three HTTP-date forms are accepted (D2); an unparseable date is absent (R-T5);
//     If-Modified-Since later than `now` is absent (R-T6); the object's Last-Modified is
//     truncated to whole seconds before any comparison (R-T7).
//  5. Read evaluation order is If-Match -> If-Unmodified-Since -> If-None-Match ->
//     If-Modified-Since, 412 outcomes before 304 outcomes (§3, RFC 9110 §13.2.2). If-Match
//     present makes If-Unmodified-Since irrelevant (R-G2); If-None-Match present makes
//     If-Modified-Since irrelevant (R-G5, R-G6).
//  6. Copy-source conditions use the same order; every failure is a 412 whose Condition is the
//     `x-amz-copy-source-If-...` name, never a 304 (R-C1, R-C2).
//  7. Write header validation (501) happens on the request head, before existence is known:
//     both headers -> R-P3; If-None-Match other than `*` -> R-P1; If-Match `*` -> R-P2 (R-M1,
//     R-C11, D4).
//  8. Write conditions are decided at commit against the current version only; a delete
//     marker is no current version (R-P6, R-P9, R-P12). D3 / R-M7 order: If-Match absent ->
//     404 NoSuchKey, mismatch -> 412, written or deleted since t_start -> 409; If-None-Match
//     `*`: exists -> 412, existed at t_start and deleted since -> 409.
//  9. DeleteObject: x-amz-if-match-last-modified-time, then x-amz-if-match-size -> 501
//  (R-D6..R-D8);
//     If-Match with versionId -> 501 (R-D5); If-Match `*` is legal (R-D10); absent or delete
//     marker -> 404 (R-D4), mismatch -> 412 (R-D2).
// 10. 428 PreconditionRequired is never produced unless the caller sets
//     `write_context::conditions_required` (D5, R-B4).
// 11. If-Range (R-G15) is decided here too: a weak tag never holds, an unquoted value that
//     parses as an HTTP-date must equal Last-Modified to the second, and any other value is an
//     entity tag with optional quotes (R-T1) compared exactly with the current ETag.
// 12. The orders of checks are decided here as well, each in one function over plain facts:
//     GET/HEAD (decide_read: no version or a delete marker before any condition, R-G0b), the
//     copy source (decide_copy_source: existence, then its conditions, R-C7, R-C8), CopyObject
//     (decide_copy: source, copy onto itself, destination, D6) and a DeleteObjects <Object>
//     (delete_objects_refusal, delete_objects_key_conditions: R-D11..R-D13). Callers look the
//     facts up and render the decision; they add no step of their own.

#include "protocol/preconditions.hpp"

#include "protocol/text.hpp"

#include <cassert>

namespace ifmatch::protocol {

namespace {

namespace chr = std::chrono;

// How one family of read conditions is looked up and named in <Condition> (§1).
struct condition_names {
    std::string_view if_match;
    std::string_view if_none_match;
    std::string_view if_modified_since;
    std::string_view if_unmodified_since;
};

constexpr condition_names read_names{"If-Match", "If-None-Match", "If-Modified-Since",
                                     "If-Unmodified-Since"};
constexpr condition_names copy_source_names{
    "x-amz-copy-source-If-Match", "x-amz-copy-source-If-None-Match",
    "x-amz-copy-source-If-Modified-Since", "x-amz-copy-source-If-Unmodified-Since"};

constexpr std::string_view if_match_header = "If-Match";
constexpr std::string_view if_none_match_header = "If-None-Match";
constexpr std::string_view both_headers = "If-Match,If-None-Match";
constexpr std::string_view last_modified_time_header = "x-amz-if-match-last-modified-time";
constexpr std::string_view size_header = "x-amz-if-match-size";

// A header's trimmed value, or nullopt when it is missing or blank.
std::optional<std::string_view> non_blank(const header_lookup &h, std::string_view name) {
    const auto v = h(name);
    if (!v || ascii::trim_ows(*v).empty()) {
        return std::nullopt;
    }
    return ascii::trim_ows(*v);
}

read_conditions parse_family(const header_lookup &h, const condition_names &n, sys_seconds now) {
    read_conditions c;
    if (const auto v = h(n.if_match)) {
        c.if_match = parse_etag_list(*v);
    }
    if (const auto v = h(n.if_none_match)) {
        c.if_none_match = parse_etag_list(*v);
    }
    // R-T5, D2: a date in none of the three HTTP-date forms leaves the condition absent.
    if (const auto v = h(n.if_modified_since)) {
        c.if_modified_since = parse_http_date(*v, now);
    }
    if (const auto v = h(n.if_unmodified_since)) {
        c.if_unmodified_since = parse_http_date(*v, now);
    }
    return c;
}

// The shared read algorithm (§12); `failure` is what a false If-None-Match / If-Modified-Since
// turns into: 304 for GET/HEAD, 412 for a copy source.
read_outcome evaluate_family(const read_conditions &c, const validators &v, sys_seconds now,
                             const condition_names &n, read_verdict failure) {
    // R-T7: conditions compare whole seconds of Last-Modified.
    const auto lm = chr::floor<chr::seconds>(v.last_modified);

    // Step 1: If-Match, strong comparison (R-G1, R-C2, D1; RFC 9110 §13.2.2 step 1).
    if (c.if_match) {
        if (!matches_strong(*c.if_match, v.etag)) {
            return {read_verdict::precondition_failed, n.if_match};
        }
    } else if (c.if_unmodified_since && lm > *c.if_unmodified_since) {
        // Step 2: If-Unmodified-Since, only without If-Match (R-G2, R-G3, R-C3; step 2).
        return {read_verdict::precondition_failed, n.if_unmodified_since};
    }

    // Step 3: If-None-Match, weak comparison (R-G4, R-G5, R-G9, R-C4, D1; step 3).
    if (c.if_none_match) {
        if (matches_weak(*c.if_none_match, v.etag)) {
            return {failure, n.if_none_match};
        }
    } else if (c.if_modified_since && *c.if_modified_since <= now && lm <= *c.if_modified_since) {
        // Step 4: If-Modified-Since, only without If-None-Match and only when not in the
        // future (R-G6, R-G7, R-G8, R-G11, R-T6, R-C6; step 4).
        return {failure, n.if_modified_since};
    }
    return {};
}

// A 501 NotImplemented naming the offending header(s) (E3, E3b).
s3_error not_implemented(std::string_view header, std::string_view additional_message) {
    s3_error err(s3_errc::not_implemented);
    err.with("Header", std::string(header));
    if (!additional_message.empty()) {
        err.with("additionalMessage", std::string(additional_message));
    }
    return err;
}

} // namespace

read_conditions parse_read_conditions(const header_lookup &h, sys_seconds now) {
    return parse_family(h, read_names, now);
}

read_conditions parse_read_conditions(const header_lookup &h) {
    return parse_read_conditions(h, chr::floor<chr::seconds>(chr::system_clock::now()));
}

read_conditions parse_copy_source_conditions(const header_lookup &h, sys_seconds now) {
    // The lookup is case-insensitive, so S3's <Condition> spelling doubles as the header name.
    return parse_family(h, copy_source_names, now);
}

read_conditions parse_copy_source_conditions(const header_lookup &h) {
    return parse_copy_source_conditions(h, chr::floor<chr::seconds>(chr::system_clock::now()));
}

read_outcome evaluate_read(const read_conditions &c, const validators &v, sys_seconds now) {
    // §3: GET and HEAD share one algorithm; the caller has already answered 404 for a missing
    // key or a delete marker (R-G0b), so a current object exists here.
    return evaluate_family(c, v, now, read_names, read_verdict::not_modified);
}

read_outcome evaluate_copy_source(const read_conditions &c, const validators &v, sys_seconds now) {
    // R-C1: a copy source never yields 304; every failure is a 412.
    return evaluate_family(c, v, now, copy_source_names, read_verdict::precondition_failed);
}

result<write_conditions> parse_write_conditions(const header_lookup &h) {
    const auto im = non_blank(h, if_match_header);
    const auto inm = non_blank(h, if_none_match_header);

    // Step 1: both headers together (R-P3, R-M1, R-C11).
    if (im && inm) {
        return not_implemented(both_headers,
                               "Multiple conditional request headers present in the request");
    }
    // Step 2: If-None-Match accepts only `*` (R-P1).
    if (inm && *inm != "*") {
        return not_implemented(if_none_match_header,
                               "We don't accept the provided value of If-None-Match header "
                               "for this API");
    }
    // Step 3: If-Match does not accept `*` on writes (R-P2).
    if (im && *im == "*") {
        return not_implemented(
            if_match_header, "We don't accept the provided value of If-Match header for this API");
    }
    write_conditions c;
    c.if_none_match_star = inm.has_value();
    if (im) {
        // R-T1: quotes optional; R-P10: no further format validation.
        c.if_match = std::string(strip_quotes(*im));
    }
    return c;
}

bool if_range_holds(std::string_view value, const validators &v) {
    // Step 0: optional white space around the value is not part of it (RFC 9110 §5.5).
    value = ascii::trim_ows(value);
    if (value.empty()) {
        return false;
    }
    // Step 1: a weak entity tag never validates a range (RFC 9110 §13.1.5).
    if (value.starts_with("W/")) {
        return false;
    }
    // Step 2: a value that is not quoted and parses as an HTTP-date (any of the three forms,
    // D2) must equal Last-Modified truncated to the second (R-T7).
    if (value.front() != '"') {
        if (auto date = parse_http_date(value)) {
            return *date == chr::floor<chr::seconds>(v.last_modified);
        }
    }
    // Step 3: anything else is an entity tag, compared exactly once its optional quotes are
    // stripped (R-T1, R-T2): an unquoted current ETag validates the range as a quoted one does.
    return strip_quotes(value) == strip_quotes(v.etag);
}

write_outcome evaluate_write(const write_conditions &c, const write_context &ctx) {
    // Step 0: an unconditional write proceeds unless the bucket requires conditions (D5).
    if (c.empty()) {
        return ctx.conditions_required
                   ? write_outcome{write_verdict::precondition_required, both_headers}
                   : write_outcome{};
    }
    // Step 1: If-None-Match `*` (R-P4..R-P6, R-M2, R-M3, R-C9, D3).
    if (c.if_none_match_star) {
        if (ctx.exists) {
            return {write_verdict::precondition_failed, if_none_match_header};
        }
        if (ctx.existed_at_start && ctx.deleted_since_start) {
            return {write_verdict::conflict, if_none_match_header};
        }
        return {};
    }
    // Step 2: If-Match E, in R-M7 order: 404, then 412, then 409 (R-P7..R-P9, R-M4..R-M6, R-C10).
    if (!ctx.exists) {
        return {write_verdict::no_such_key, if_match_header};
    }
    if (strip_quotes(ctx.current_etag) != strip_quotes(*c.if_match)) {
        return {write_verdict::precondition_failed, if_match_header};
    }
    if (ctx.written_since_start || ctx.deleted_since_start) {
        return {write_verdict::conflict, if_match_header};
    }
    return {};
}

result<delete_conditions> parse_delete_conditions(const header_lookup &h, bool has_version_id) {
    // Step 1: the directory-bucket headers are not implemented on general purpose buckets; the
    // time header wins when both are present (R-D6, R-D7, R-D8, E3b).
    if (h(last_modified_time_header)) {
        return not_implemented(last_modified_time_header, {});
    }
    if (h(size_header)) {
        return not_implemented(size_header, {});
    }
    delete_conditions c;
    if (const auto v = h(if_match_header)) {
        c.if_match = parse_etag_list(*v);
    }
    // Step 2: If-Match may not target a version (R-D5).
    if (c.if_match && has_version_id) {
        return not_implemented(if_match_header, {});
    }
    return c;
}

write_outcome evaluate_delete(const delete_conditions &c, const write_context &ctx) {
    // Step 0: unconditional deletes proceed (R-D9) unless the bucket requires conditions (D5).
    if (!c.if_match) {
        return ctx.conditions_required
                   ? write_outcome{write_verdict::precondition_required, if_match_header}
                   : write_outcome{};
    }
    // Step 1: no current object, including a delete marker over live versions -> 404 (R-D4).
    if (!ctx.exists) {
        return {write_verdict::no_such_key, if_match_header};
    }
    // Step 2: `*` or a strongly matching ETag (R-D1, R-D3, R-D10); otherwise 412 (R-D2).
    if (!matches_strong(*c.if_match, ctx.current_etag)) {
        return {write_verdict::precondition_failed, if_match_header};
    }
    // Step 3: a write or delete of the key committed since the request began -> 409 (R-D15).
    if (ctx.written_since_start || ctx.deleted_since_start) {
        return {write_verdict::conflict, if_match_header};
    }
    return {};
}

s3_error write_verdict_error(const write_outcome &o, std::string_view key) {
    switch (o.verdict) {
    case write_verdict::precondition_failed:
        // E1: <Condition> names the failing header.
        return s3_error(s3_errc::precondition_failed).with("Condition", std::string(o.condition));
    case write_verdict::no_such_key:
        // E2: <Key> is the key the condition was evaluated against.
        return s3_error(s3_errc::no_such_key).with("Key", std::string(key));
    case write_verdict::conflict:
        // E4: <Condition> then <Key> (order not observed raw, §14.9).
        return s3_error(s3_errc::conditional_request_conflict)
            .with("Condition", std::string(o.condition))
            .with("Key", std::string(key));
    case write_verdict::precondition_required:
        // D5: a non-AWS mode; the message names the missing header(s).
        return s3_error(s3_errc::precondition_required,
                        o.condition == if_match_header
                            ? "This bucket requires conditional deletes: send If-Match"
                            : "This bucket requires conditional writes: send If-Match or "
                              "If-None-Match");
    case write_verdict::proceed:
        break;
    }
    assert(false && "write_verdict_error called with a proceed verdict");
    return s3_error(s3_errc::internal_error);
}

read_decision decide_read(const found_version &f, const read_conditions &c, sys_seconds now) {
    switch (f.kind) {
    case found_kind::nothing:
        // Step 1: no version -> 404 whatever the conditions say (R-G0b).
        return {f.by_version_id ? read_answer::no_such_version : read_answer::no_such_key, {}};
    case found_kind::delete_marker:
        // Step 2: a delete marker -> 404, or 405 when the versionId names it (R-G0b).
        return {f.by_version_id ? read_answer::delete_marker_named : read_answer::delete_marker,
                {}};
    case found_kind::object:
        break;
    }
    // Step 3: the conditions, against the version found (R-G0c, §3).
    const auto o = evaluate_read(c, f.v, now);
    switch (o.verdict) {
    case read_verdict::proceed:
        break;
    case read_verdict::not_modified:
        return {read_answer::not_modified, o.condition};
    case read_verdict::precondition_failed:
        return {read_answer::precondition_failed, o.condition};
    }
    return {};
}

s3_error read_decision_error(const read_decision &d, std::string_view method, std::string_view key,
                             std::string_view version_id) {
    switch (d.answer) {
    case read_answer::no_such_key:
    case read_answer::delete_marker:
        return s3_error(s3_errc::no_such_key).with("Key", std::string(key));
    case read_answer::no_such_version:
        return s3_error(s3_errc::no_such_version)
            .with("Key", std::string(key))
            .with("VersionId", std::string(version_id));
    case read_answer::delete_marker_named:
        return s3_error(s3_errc::method_not_allowed)
            .with("Method", std::string(method))
            .with("ResourceType", "DeleteMarker");
    case read_answer::precondition_failed:
        // E1: <Condition> names the failing header.
        return s3_error(s3_errc::precondition_failed).with("Condition", std::string(d.condition));
    case read_answer::proceed:
    case read_answer::not_modified:
        break;
    }
    assert(false && "read_decision_error called without a refusal");
    return s3_error(s3_errc::internal_error);
}

copy_decision decide_copy_source(const found_version &source, const read_conditions &c,
                                 sys_seconds now) {
    switch (source.kind) {
    case found_kind::nothing:
        // Step 1: no source version -> 404 NoSuchKey, NoSuchVersion when named (R-C7).
        return {
            source.by_version_id ? copy_answer::no_such_version : copy_answer::no_such_key, {}, {}};
    case found_kind::delete_marker:
        // Step 2: a current delete marker -> 404 NoSuchKey; one named by versionId -> 400 (R-C7,
        // E7).
        return {source.by_version_id ? copy_answer::delete_marker_named : copy_answer::no_such_key,
                {},
                {}};
    case found_kind::object:
        break;
    }
    // Step 3: the source conditions, against the version x-amz-copy-source selects (R-C8).
    const auto o = evaluate_copy_source(c, source.v, now);
    if (o.verdict != read_verdict::proceed) {
        return {copy_answer::precondition_failed, o.condition, {}};
    }
    return {};
}

copy_decision decide_copy(const copy_facts &f) {
    // Steps 1-3: the source (D6: 404 before 412).
    if (auto d = decide_copy_source(f.source, f.source_conditions, f.now);
        d.answer != copy_answer::proceed) {
        return d;
    }
    // Step 4: a copy onto itself must change something (R-C15), before the destination (D6).
    if (f.onto_itself && !f.changes_something) {
        return {copy_answer::onto_itself, {}, {}};
    }
    // Step 5: the destination's conditions at commit (D3, D5, R-C9, R-C10, R-C12).
    const auto w = evaluate_write(f.destination_conditions, f.destination);
    if (w.verdict != write_verdict::proceed) {
        return {copy_answer::destination, {}, w};
    }
    return {};
}

bool copy_changes_attributes(const header_lookup &h) {
    for (const auto name : {"x-amz-storage-class", "x-amz-website-redirect-location",
                            "x-amz-server-side-encryption"}) {
        if (h(name)) {
            return true;
        }
    }
    return false;
}

s3_error copy_decision_error(const copy_decision &d, std::string_view source_key,
                             std::string_view source_version_id, std::string_view key) {
    switch (d.answer) {
    case copy_answer::no_such_key:
        return s3_error(s3_errc::no_such_key).with("Key", std::string(source_key));
    case copy_answer::no_such_version:
        return s3_error(s3_errc::no_such_version)
            .with("Key", std::string(source_key))
            .with("VersionId", std::string(source_version_id));
    case copy_answer::delete_marker_named:
        // E7.
        return s3_error(s3_errc::invalid_request, "The source of a copy request may not "
                                                  "specifically refer to a delete marker by "
                                                  "version id.");
    case copy_answer::precondition_failed:
        // E1, with the x-amz-copy-source-If-... name.
        return s3_error(s3_errc::precondition_failed).with("Condition", std::string(d.condition));
    case copy_answer::onto_itself:
        // E6.
        return s3_error(s3_errc::invalid_request,
                        "This copy request is illegal because it is trying to copy an object to "
                        "itself without changing the object's metadata, storage class, website "
                        "redirect location or encryption attributes.");
    case copy_answer::destination:
        return write_verdict_error(d.destination, key);
    case copy_answer::proceed:
        break;
    }
    assert(false && "copy_decision_error called with a proceed decision");
    return s3_error(s3_errc::internal_error);
}

std::optional<s3_error> delete_objects_refusal(const delete_objects_request &r) {
    for (const auto &o : r.objects) {
        // R-D13: the directory-bucket elements are not accepted on general purpose buckets.
        if (o.has_size_or_time) {
            return s3_error(s3_errc::malformed_xml);
        }
    }
    return std::nullopt;
}

delete_conditions delete_objects_key_conditions(const delete_objects_request::object &o) {
    // R-D11: the <ETag> plays If-Match, `*` included (R-D10); no 501 applies to it.
    delete_conditions c;
    if (o.etag) {
        c.if_match = parse_etag_list(*o.etag);
    }
    return c;
}

} // namespace ifmatch::protocol
