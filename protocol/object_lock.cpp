// S3 Object Lock documents, version locks and the decisions made on them (see object_lock.hpp).
//
// RULES (sources in brackets; "ifmatch" marks a choice made where S3's documentation and the
// measured reports found say nothing)
// 1. An ObjectLockConfiguration has ObjectLockEnabled "Enabled" and at most one Rule holding one
//    DefaultRetention with a Mode and exactly one of Days and Years; anything else is MalformedXML
//    [API_DefaultRetention: "require both a mode and a period", "either Days or Years ... not
//    ... at the same time"; versitygw#556, #558 for the codes]. A Rule without DefaultRetention
//    is MalformedXML too [ifmatch].
// 2. Days/Years that are integers but not positive: InvalidArgument "Default retention period must
//    be a positive integer value." with ArgumentName Days (as measured against S3, versitygw#1738)
//    or Years [ifmatch, by analogy]. Text that is not an integer: MalformedXML (the schema type is
//    Integer) [ifmatch]. More than 36,500 days or 100 years: InvalidArgument [ifmatch; the
//    arithmetic must stay far inside the calendar].
// 3. A default retention of Y years lasts Y x 365 days [ifmatch: S3 documents no calendar rule;
//    other S3 implementations count 365 days a year, e.g. scality/cloudserver#2613].
// 4. Write headers: mode and date come together (InvalidArgument "... must both be supplied",
//    boto/s3transfer#224); a date not in ISO 8601 and a date not in the future are
//    InvalidArgument with ArgumentName/ArgumentValue (versitygw#1733, #1734, measured against S3).
//    Lock headers on a bucket without Object Lock: B-L5 (server/surface.cpp's wording). Lock
//    parameters without Content-MD5 or x-amz-checksum-*: B-L6. The bucket default applies only
//    when the request sets no retention of its own [S3 User Guide, object-lock-overview].
// 5. Permanent deletion (B-L3, B-L4): a legal hold always refuses; a retention refuses while
//    now < retain-until, GOVERNANCE not when bypassed
//    [https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-overview.html#object-lock-retention-modes].
//    At now == retain-until the retention has ended [ifmatch].
// 6. Retention changes: COMPLIANCE "can't be changed, and its retention period can't be
//    shortened" [object-lock-overview, retention modes]; GOVERNANCE can be shortened or removed
//    ("placing a new lock with empty parameters") only with x-amz-bypass-governance-retention:true
//    [https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-managing.html, quoted in
//    minio/minio#9676]; extending keeps the mode and moves the date later
//    [https://aws.amazon.com/s3/features/object-lock/]. The same date counts as an extension
//    (scality/cloudserver#4929); GOVERNANCE -> COMPLIANCE without bypass is refused [ifmatch]. The
//    refusal is 403 AccessDenied with the catalogue's "Access Denied" [ifmatch].
#include "protocol/object_lock.hpp"

#include "protocol/http_date.hpp"
#include "protocol/text.hpp"
#include "protocol/xml.hpp"
#include "protocol/xml_nodes.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>

namespace ifmatch::protocol {
namespace {

constexpr std::int64_t day_ms = 86'400'000;
constexpr int max_days = 36'500;
constexpr int max_years = 100;
constexpr std::string_view governance = "GOVERNANCE";
constexpr std::string_view compliance = "COMPLIANCE";

s3_error malformed() { return s3_error(s3_errc::malformed_xml); }

bool is_mode(std::string_view m) { return m == governance || m == compliance; }

s3_error argument_error(std::string message, std::string_view name, std::string_view value) {
    return s3_error(s3_errc::invalid_argument, std::move(message))
        .with("ArgumentName", std::string(name))
        .with("ArgumentValue", std::string(value));
}

s3_error lock_denied() {
    return s3_error(s3_errc::access_denied,
                    "Access Denied because object protected by object lock.");
}

// Rule 2: Days or Years of a DefaultRetention.
result<int> period_element(const pugi::xml_node &retention, std::string_view name, int max) {
    const std::string text = xmln::text(retention, name);
    long long v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    const bool digits_only = !text.empty() && end == text.data() + text.size();
    if (!digits_only || (ec != std::errc() && ec != std::errc::result_out_of_range)) {
        return malformed();
    }
    const bool negative = text.front() == '-';
    if (negative || (ec == std::errc() && v <= 0)) {
        return s3_error(s3_errc::invalid_argument,
                        "Default retention period must be a positive integer value.")
            .with("ArgumentName", std::string(name));
    }
    if (ec != std::errc() || v > max) {
        return s3_error(s3_errc::invalid_argument,
                        "Default retention period must not exceed 100 years (36500 days).")
            .with("ArgumentName", std::string(name));
    }
    return static_cast<int>(v);
}

result<void> parse_default_retention(const pugi::xml_node &rule, lock_config &c) {
    const auto retentions = xmln::children(rule, "DefaultRetention");
    if (retentions.size() != 1) {
        return malformed();
    }
    const auto &r = retentions.front();
    const std::string mode = xmln::text(r, "Mode");
    const bool has_days = static_cast<bool>(xmln::child(r, "Days"));
    const bool has_years = static_cast<bool>(xmln::child(r, "Years"));
    if (!is_mode(mode) || has_days == has_years) {
        return malformed();
    }
    auto n = has_days ? period_element(r, "Days", max_days) : period_element(r, "Years", max_years);
    if (n.has_error()) {
        return n.error();
    }
    c.mode = mode;
    (has_days ? c.days : c.years) = *n;
    return {};
}

std::string iso_date(std::int64_t ms) {
    return format_iso8601(sys_millis{std::chrono::milliseconds{ms}});
}

// Rule 3: how long the bucket's default retention lasts.
std::int64_t default_period_ms(const lock_config &c) {
    if (c.days) {
        return std::int64_t{*c.days} * day_ms;
    }
    return std::int64_t{c.years.value_or(0)} * 365 * day_ms;
}

bool is_lock_entry(std::string_view name) {
    return ascii::iequals(name, lock_mode_header) || ascii::iequals(name, lock_until_header) ||
           ascii::iequals(name, lock_hold_header);
}

bool retention_in_force(const version_lock &lock, std::int64_t now_ms) {
    return lock.mode && lock.retain_until_ms && now_ms < *lock.retain_until_ms;
}

} // namespace

// ---- bucket configuration ---------------------------------------------------------------------

result<lock_config> parse_lock_config(std::string_view xml) {
    pugi::xml_document doc;
    auto root = xmln::load_root(doc, xml, "ObjectLockConfiguration");
    if (root.has_error()) {
        return root.error();
    }
    // Rule 1: ObjectLockEnabled is required and can only say Enabled.
    if (xmln::text(*root, "ObjectLockEnabled") != "Enabled") {
        return malformed();
    }
    lock_config c;
    const auto rules = xmln::children(*root, "Rule");
    if (rules.size() > 1) {
        return malformed();
    }
    if (!rules.empty()) {
        if (auto r = parse_default_retention(rules.front(), c); r.has_error()) {
            return r.error();
        }
    }
    return c;
}

std::string render_lock_config(const lock_config &c) {
    xml_writer w;
    w.open("ObjectLockConfiguration", true);
    w.element("ObjectLockEnabled", "Enabled");
    if (c.mode) {
        w.open("Rule").open("DefaultRetention");
        w.element("Mode", *c.mode);
        if (c.days) {
            w.element("Days", std::int64_t{*c.days});
        } else {
            w.element("Years", std::int64_t{c.years.value_or(0)});
        }
        w.close().close();
    }
    return w.str();
}

// ---- retention and legal hold documents -------------------------------------------------------

result<std::optional<retention>> parse_retention(std::string_view xml, std::int64_t now_ms) {
    pugi::xml_document doc;
    auto root = xmln::load_root(doc, xml, "Retention");
    if (root.has_error()) {
        return root.error();
    }
    const bool has_mode = static_cast<bool>(xmln::child(*root, "Mode"));
    const bool has_date = static_cast<bool>(xmln::child(*root, "RetainUntilDate"));
    if (!has_mode && !has_date) {
        return std::optional<retention>{}; // <Retention/>: remove the retention
    }
    const std::string mode = xmln::text(*root, "Mode");
    const auto until = parse_iso8601_ms(xmln::text(*root, "RetainUntilDate"));
    if (!has_mode || !has_date || !is_mode(mode) || !until) {
        return malformed();
    }
    if (*until <= now_ms) {
        return s3_error(s3_errc::invalid_argument, "The retain until date must be in the future!");
    }
    return std::optional<retention>{retention{mode, *until}};
}

std::string render_retention(const retention &r) {
    xml_writer w;
    w.open("Retention", true);
    w.element("Mode", r.mode);
    w.element("RetainUntilDate", iso_date(r.retain_until_ms));
    return w.str();
}

result<bool> parse_legal_hold(std::string_view xml) {
    pugi::xml_document doc;
    auto root = xmln::load_root(doc, xml, "LegalHold");
    if (root.has_error()) {
        return root.error();
    }
    const std::string status = xmln::text(*root, "Status");
    if (status != "ON" && status != "OFF") {
        return malformed();
    }
    return status == "ON";
}

std::string render_legal_hold(bool on) {
    xml_writer w;
    w.open("LegalHold", true);
    w.element("Status", on ? "ON" : "OFF");
    return w.str();
}

// ---- the lock of a stored version -------------------------------------------------------------

version_lock lock_of(const metadata_entries &extra) {
    version_lock lock;
    for (const auto &[name, value] : extra) {
        if (ascii::iequals(name, lock_mode_header) && is_mode(value)) {
            lock.mode = value;
        } else if (ascii::iequals(name, lock_until_header)) {
            lock.retain_until_ms = parse_iso8601_ms(value);
        } else if (ascii::iequals(name, lock_hold_header)) {
            lock.legal_hold = value == "ON";
        }
    }
    if (!lock.mode || !lock.retain_until_ms) {
        lock.mode.reset();
        lock.retain_until_ms.reset();
    }
    return lock;
}

void set_lock(metadata_entries &extra, const version_lock &lock) {
    std::erase_if(extra, [](const auto &e) { return is_lock_entry(e.first); });
    if (lock.mode && lock.retain_until_ms) {
        extra.emplace_back(lock_mode_header, *lock.mode);
        extra.emplace_back(lock_until_header, iso_date(*lock.retain_until_ms));
    }
    if (lock.legal_hold) {
        extra.emplace_back(lock_hold_header, "ON");
    }
}

result<retention> retention_of(const version_lock &lock) {
    if (!lock.mode || !lock.retain_until_ms) {
        return s3_error(s3_errc::no_such_object_lock_configuration);
    }
    return retention{*lock.mode, *lock.retain_until_ms};
}

// ---- writes -----------------------------------------------------------------------------------

result<version_lock> lock_from_headers(const header_lookup &h, const lock_write_context &ctx) {
    const auto mode = h(lock_mode_header);
    const auto until = h(lock_until_header);
    const auto hold = h(lock_hold_header);
    const bool asked = mode || until || hold;
    // Step 1: B-L5, lock parameters need a bucket with Object Lock.
    if (asked && !ctx.bucket_lock_enabled) {
        return s3_error(s3_errc::invalid_request, "Bucket is missing ObjectLockConfiguration");
    }
    // Step 2: the enumerated values (as check_header_values answers them).
    if (mode && !is_mode(*mode)) {
        return argument_error("Unknown wormMode directive.", lock_mode_header, *mode);
    }
    if (hold && *hold != "ON" && *hold != "OFF") {
        return argument_error("Legal Hold must be either of 'ON' or 'OFF'", lock_hold_header,
                              *hold);
    }
    // Step 3: a retention needs both headers (rule 4).
    if (mode.has_value() != until.has_value()) {
        return s3_error(s3_errc::invalid_argument, "x-amz-object-lock-retain-until-date and "
                                                   "x-amz-object-lock-mode must both be supplied");
    }
    version_lock lock;
    if (until) {
        // Step 4: the date, then that it lies ahead.
        const auto ms = parse_iso8601_ms(ascii::trim_ows(*until));
        if (!ms) {
            return argument_error("The retain until date must be provided in ISO 8601 format",
                                  lock_until_header, *until);
        }
        if (*ms <= ctx.now_ms) {
            return argument_error("The retain until date must be in the future!", lock_until_header,
                                  *until);
        }
        lock.mode = std::string(*mode);
        lock.retain_until_ms = *ms;
    } else if (ctx.bucket_lock_enabled && ctx.bucket_default && ctx.bucket_default->mode) {
        // Step 5: no retention of its own, so the bucket's default (rule 3).
        lock.mode = *ctx.bucket_default->mode;
        lock.retain_until_ms = ctx.now_ms + default_period_ms(*ctx.bucket_default);
    }
    lock.legal_hold = hold && *hold == "ON";
    // Step 6: B-L6, a locked write must carry an integrity header.
    if ((asked || lock.mode) && !ctx.has_integrity_header) {
        return s3_error(s3_errc::invalid_request,
                        "Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object "
                        "requests with Object Lock parameters");
    }
    return lock;
}

// ---- enforcement ------------------------------------------------------------------------------

std::optional<s3_error> deletion_refusal(const version_lock &lock, std::int64_t now_ms,
                                         bool bypass_governance) {
    // Rule 5: a legal hold has no bypass and no end date.
    if (lock.legal_hold) {
        return lock_denied();
    }
    if (!retention_in_force(lock, now_ms)) {
        return std::nullopt;
    }
    if (*lock.mode == governance && bypass_governance) {
        return std::nullopt;
    }
    return lock_denied();
}

std::optional<s3_error> retention_change_refusal(const version_lock &current,
                                                 const std::optional<retention> &wanted,
                                                 std::int64_t now_ms, bool bypass_governance) {
    // Rule 6: an ended (or absent) retention no longer binds anything.
    if (!retention_in_force(current, now_ms)) {
        return std::nullopt;
    }
    const bool extends = wanted && wanted->mode == *current.mode &&
                         wanted->retain_until_ms >= *current.retain_until_ms;
    if (extends) {
        return std::nullopt;
    }
    if (*current.mode == governance && bypass_governance) {
        return std::nullopt;
    }
    return s3_error(s3_errc::access_denied);
}

std::optional<s3_error> versioning_change_refusal(bool bucket_lock_enabled,
                                                  std::string_view status) {
    // B-L1: S3's answer to suspending versioning under Object Lock (as AWS sent it in
    // terraform-aws-modules/terraform-aws-s3-bucket#90); re-enabling is a no-op (localstack#11768).
    if (!bucket_lock_enabled || status == "Enabled") {
        return std::nullopt;
    }
    return s3_error(s3_errc::invalid_bucket_state,
                    "An Object Lock configuration is present on this bucket, so the versioning "
                    "state cannot be changed.");
}

} // namespace ifmatch::protocol
