// Bucket lifecycle configurations (see lifecycle.hpp).
//
// RULES
// 1. A <Rule> holds one <Status> (Enabled or Disabled, exactly), either a <Filter> or the legacy
//    top-level <Prefix> (not both, not neither), and at least one action: Expiration (Days, Date
//    or ExpiredObjectDeleteMarker true), Transition, NoncurrentVersionExpiration,
//    NoncurrentVersionTransition or AbortIncompleteMultipartUpload. An Expiration holding only
//    ExpiredObjectDeleteMarker false asks for nothing and does not count as an action.
// 2. A <Filter> holds at most one predicate (Prefix, Tag, ObjectSizeGreaterThan,
//    ObjectSizeLessThan) unless they are wrapped in <And>, which then stands alone in the Filter;
//    an empty Filter (or an empty Prefix) selects every key. Tag keys within a filter are unique.
// 3. Days, NoncurrentDays and DaysAfterInitiation are positive integers, Transition Days and
//    NewerNoncurrentVersions non-negative / positive integers respectively; a Date is ISO 8601
//    (`2030-01-01`, `2030-01-01T00:00:00Z`, `…T00:00:00.000Z`, `…T02:00:00+02:00`) and must land
//    on midnight UTC. Expiration and Transition take Days or Date, not both.
// 4. Rules sent without an ID get one: the lower-case hex MD5 of the rule's position and its
//    rendered content (`<index>\n<Rule>…</Rule>`), so the same document always yields the same IDs,
//    two identical ID-less rules still get different ones, and a render/parse round trip keeps them
//    (GET shows the ID). Should the digest ever equal an ID sent in the document, the digest is
//    taken again over itself until it is free.
// 5. Rendering always uses <Filter> (a legacy Prefix comes back as <Filter><Prefix>), with <And>
//    exactly when more than one predicate is set; dates render as `2030-01-01T00:00:00.000Z`.
// 6. Day arithmetic: since + days x 24 h, rounded up to the next midnight UTC (a result exactly on
//    midnight stays), as S3 documents for its lifecycle actions.
#include "protocol/lifecycle.hpp"

#include "protocol/crypto.hpp"
#include "protocol/http_date.hpp"
#include "protocol/text.hpp"
#include "protocol/uri.hpp"
#include "protocol/xml.hpp"
#include "protocol/xml_nodes.hpp"

#include <algorithm>
#include <chrono>
#include <limits>
#include <set>
#include <tuple>

namespace ifmatch::protocol {
namespace {

constexpr std::int64_t day_ms = 86'400'000;
constexpr std::size_t max_rules = 1000;
constexpr std::size_t max_id_length = 255;

constexpr std::string_view storage_classes[] = {
    "GLACIER", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "DEEP_ARCHIVE", "GLACIER_IR"};

s3_error malformed() { return s3_error(s3_errc::malformed_xml); }

s3_error invalid(std::string message) {
    return s3_error(s3_errc::invalid_argument, std::move(message));
}

// Decimal digits only (no sign, no blanks inside), without overflow.
std::optional<std::uint64_t> parse_unsigned(std::string_view s) {
    if (s.empty() || s.size() > 20) {
        return std::nullopt;
    }
    std::uint64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        const auto d = static_cast<std::uint64_t>(c - '0');
        if (v > (std::numeric_limits<std::uint64_t>::max() - d) / 10) {
            return std::nullopt;
        }
        v = v * 10 + d;
    }
    return v;
}

// An integer element of `parent` in [min, INT_MAX]; `message` otherwise.
result<int> int_element(const pugi::xml_node &parent, std::string_view name, int min,
                        const std::string &message) {
    const auto v = parse_unsigned(xmln::text(parent, name));
    if (!v || *v < static_cast<std::uint64_t>(min) ||
        *v > static_cast<std::uint64_t>(std::numeric_limits<int>::max())) {
        return invalid(message);
    }
    return static_cast<int>(*v);
}

std::string positive_message(std::string_view element, std::string_view action) {
    return "'" + std::string(element) + "' for " + std::string(action) +
           " action must be a positive integer";
}

result<std::int64_t> date_element(const pugi::xml_node &parent) {
    const auto ms = parse_iso8601_ms(xmln::text(parent, "Date"));
    if (!ms) {
        return invalid("Invalid 'Date' value: it must be in ISO 8601 format");
    }
    if (*ms % day_ms != 0) {
        return invalid("'Date' must be at midnight GMT");
    }
    return *ms;
}

// ---- filter -----------------------------------------------------------------------------------

result<void> add_tag(const pugi::xml_node &tag, lifecycle_filter &f) {
    auto key = xmln::child(tag, "Key");
    if (!key) {
        return malformed();
    }
    std::string k = key.child_value();
    for (const auto &[existing, v] : f.tags) {
        if (existing == k) {
            return invalid("Duplicate Tag Keys are not allowed.");
        }
    }
    f.tags.emplace_back(std::move(k), xmln::child(tag, "Value").child_value());
    return {};
}

result<std::uint64_t> size_element(const pugi::xml_node &parent, std::string_view name) {
    const auto v = parse_unsigned(xmln::text(parent, name));
    if (!v || *v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        return invalid("'" + std::string(name) + "' must be a non-negative integer");
    }
    return *v;
}

// Reads the predicates of a <Filter> or an <And> into `f`; returns how many elements there were.
result<std::size_t> read_predicates(const pugi::xml_node &n, lifecycle_filter &f) {
    std::size_t count = 0;
    const auto prefixes = xmln::children(n, "Prefix");
    if (prefixes.size() > 1) {
        return malformed();
    }
    if (!prefixes.empty()) {
        f.prefix = prefixes.front().child_value();
        ++count;
    }
    for (const auto &tag : xmln::children(n, "Tag")) {
        if (auto t = add_tag(tag, f); t.has_error()) {
            return t.error();
        }
        ++count;
    }
    for (auto [name, slot] :
         {std::pair{std::string_view("ObjectSizeGreaterThan"), &f.size_greater_than},
          std::pair{std::string_view("ObjectSizeLessThan"), &f.size_less_than}}) {
        const auto nodes = xmln::children(n, name);
        if (nodes.size() > 1) {
            return malformed();
        }
        if (nodes.empty()) {
            continue;
        }
        auto v = size_element(n, name);
        if (v.has_error()) {
            return v.error();
        }
        *slot = *v;
        ++count;
    }
    return count;
}

result<lifecycle_filter> parse_filter(const pugi::xml_node &filter) {
    lifecycle_filter f;
    auto n = read_predicates(filter, f);
    if (n.has_error()) {
        return n.error();
    }
    const auto ands = xmln::children(filter, "And");
    if (ands.size() > 1 || (!ands.empty() && *n > 0) || (ands.empty() && *n > 1)) {
        return malformed();
    }
    if (!ands.empty()) {
        auto m = read_predicates(ands.front(), f);
        if (m.has_error()) {
            return m.error();
        }
        if (*m == 0) {
            return malformed();
        }
    }
    if (f.size_greater_than && f.size_less_than && *f.size_greater_than >= *f.size_less_than) {
        return invalid("ObjectSizeGreaterThan must be less than ObjectSizeLessThan");
    }
    return f;
}

// ---- actions ----------------------------------------------------------------------------------

// Parses one <Expiration>; returns whether it asks for anything (rule 1).
result<bool> parse_expiration(const pugi::xml_node &e, lifecycle_rule &r) {
    const bool has_days = static_cast<bool>(xmln::child(e, "Days"));
    const bool has_date = static_cast<bool>(xmln::child(e, "Date"));
    const bool has_marker = static_cast<bool>(xmln::child(e, "ExpiredObjectDeleteMarker"));
    if (!has_days && !has_date && !has_marker) {
        return malformed();
    }
    if (has_days && has_date) {
        return malformed();
    }
    if (has_marker) {
        const auto v = ascii::lower(xmln::text(e, "ExpiredObjectDeleteMarker"));
        if (v != "true" && v != "false") {
            return malformed();
        }
        if (has_days || has_date) {
            return invalid("ExpiredObjectDeleteMarker cannot be specified with Days or Date");
        }
        r.expired_object_delete_marker = v == "true";
        return r.expired_object_delete_marker;
    }
    if (has_days) {
        auto d = int_element(e, "Days", 1, positive_message("Days", "Expiration"));
        if (d.has_error()) {
            return d.error();
        }
        r.expiration_days = *d;
    } else {
        auto d = date_element(e);
        if (d.has_error()) {
            return d.error();
        }
        r.expiration_date_ms = *d;
    }
    return true;
}

result<void> parse_noncurrent_expiration(const pugi::xml_node &e, lifecycle_rule &r) {
    if (!xmln::child(e, "NoncurrentDays")) {
        return malformed();
    }
    auto d = int_element(e, "NoncurrentDays", 1,
                         positive_message("NoncurrentDays", "NoncurrentVersionExpiration"));
    if (d.has_error()) {
        return d.error();
    }
    r.noncurrent_days = *d;
    if (xmln::child(e, "NewerNoncurrentVersions")) {
        auto n =
            int_element(e, "NewerNoncurrentVersions", 1,
                        positive_message("NewerNoncurrentVersions", "NoncurrentVersionExpiration"));
        if (n.has_error()) {
            return n.error();
        }
        r.newer_noncurrent_versions = *n;
    }
    return {};
}

result<lifecycle_transition> parse_transition(const pugi::xml_node &t, bool noncurrent) {
    lifecycle_transition out;
    out.storage_class = xmln::text(t, "StorageClass");
    if (std::find(std::begin(storage_classes), std::end(storage_classes), out.storage_class) ==
        std::end(storage_classes)) {
        return malformed();
    }
    const std::string_view days_name = noncurrent ? "NoncurrentDays" : "Days";
    const std::string_view action = noncurrent ? "NoncurrentVersionTransition" : "Transition";
    const bool has_days = static_cast<bool>(xmln::child(t, days_name));
    const bool has_date = !noncurrent && static_cast<bool>(xmln::child(t, "Date"));
    if (has_days == has_date) {
        return malformed();
    }
    if (has_days) {
        auto d = int_element(t, days_name, 0,
                             "'" + std::string(days_name) + "' for " + std::string(action) +
                                 " action must be a nonnegative integer");
        if (d.has_error()) {
            return d.error();
        }
        out.days = *d;
    } else {
        auto d = date_element(t);
        if (d.has_error()) {
            return d.error();
        }
        out.date_ms = *d;
    }
    if (noncurrent && xmln::child(t, "NewerNoncurrentVersions")) {
        auto n = int_element(t, "NewerNoncurrentVersions", 1,
                             positive_message("NewerNoncurrentVersions", action));
        if (n.has_error()) {
            return n.error();
        }
        out.newer_noncurrent_versions = *n;
    }
    return out;
}

// At most one of each single-valued element in a rule.
pugi::xml_node single(const pugi::xml_node &rule, std::string_view name, bool &duplicate) {
    const auto all = xmln::children(rule, name);
    duplicate = duplicate || all.size() > 1;
    return all.empty() ? pugi::xml_node() : all.front();
}

// Parses one <Rule>; `id_given` tells whether it carried an <ID>.
result<lifecycle_rule> parse_rule(const pugi::xml_node &n, bool &id_given) {
    lifecycle_rule r;
    bool dup = false;
    const auto id = single(n, "ID", dup);
    const auto status = single(n, "Status", dup);
    const auto filter = single(n, "Filter", dup);
    const auto prefix = single(n, "Prefix", dup);
    const auto expiration = single(n, "Expiration", dup);
    const auto noncurrent = single(n, "NoncurrentVersionExpiration", dup);
    const auto abort = single(n, "AbortIncompleteMultipartUpload", dup);
    if (dup || !status || static_cast<bool>(filter) == static_cast<bool>(prefix)) {
        return malformed();
    }
    r.id = id.child_value();
    id_given = !r.id.empty(); // an empty <ID> gets a generated one too
    if (r.id.size() > max_id_length) {
        return invalid("ID length should not exceed allowed limit of 255");
    }
    const std::string st = xmln::text(n, "Status");
    if (st != "Enabled" && st != "Disabled") {
        return malformed();
    }
    r.enabled = st == "Enabled";
    if (filter) {
        auto f = parse_filter(filter);
        if (f.has_error()) {
            return f.error();
        }
        r.filter = std::move(*f);
    } else {
        r.filter.prefix = prefix.child_value();
    }
    bool action = false;
    if (expiration) {
        auto e = parse_expiration(expiration, r);
        if (e.has_error()) {
            return e.error();
        }
        action = *e;
    }
    if (noncurrent) {
        if (auto e = parse_noncurrent_expiration(noncurrent, r); e.has_error()) {
            return e.error();
        }
        action = true;
    }
    if (abort) {
        auto d =
            int_element(abort, "DaysAfterInitiation", 1,
                        positive_message("DaysAfterInitiation", "AbortIncompleteMultipartUpload"));
        if (d.has_error()) {
            return d.error();
        }
        r.abort_upload_days = *d;
        action = true;
    }
    for (const auto &[name, out, nc] :
         {std::tuple{std::string_view("Transition"), &r.transitions, false},
          std::tuple{std::string_view("NoncurrentVersionTransition"), &r.noncurrent_transitions,
                     true}}) {
        for (const auto &t : xmln::children(n, name)) {
            auto tr = parse_transition(t, nc);
            if (tr.has_error()) {
                return tr.error();
            }
            out->push_back(std::move(*tr));
            action = true;
        }
    }
    if (!action) {
        return malformed();
    }
    return r;
}

std::string date_text(std::int64_t ms) {
    return format_iso8601(sys_millis(std::chrono::milliseconds(ms)));
}

void render_filter(xml_writer &w, const lifecycle_filter &f) {
    const std::size_t n = (f.prefix.empty() ? 0 : 1) + f.tags.size() +
                          (f.size_greater_than ? 1 : 0) + (f.size_less_than ? 1 : 0);
    w.open("Filter");
    if (n > 1) {
        w.open("And");
    }
    if (!f.prefix.empty()) {
        w.element("Prefix", f.prefix);
    }
    for (const auto &[k, v] : f.tags) {
        w.open("Tag").element("Key", k).element("Value", v).close();
    }
    if (f.size_greater_than) {
        w.element("ObjectSizeGreaterThan", std::to_string(*f.size_greater_than));
    }
    if (f.size_less_than) {
        w.element("ObjectSizeLessThan", std::to_string(*f.size_less_than));
    }
    if (n > 1) {
        w.close();
    }
    w.close();
}

void render_transition(xml_writer &w, const lifecycle_transition &t, bool noncurrent) {
    w.open(noncurrent ? "NoncurrentVersionTransition" : "Transition");
    if (t.date_ms) {
        w.element("Date", date_text(*t.date_ms));
    }
    if (t.days) {
        w.element(noncurrent ? "NoncurrentDays" : "Days", std::int64_t{*t.days});
    }
    w.element("StorageClass", t.storage_class);
    if (noncurrent && t.newer_noncurrent_versions) {
        w.element("NewerNoncurrentVersions", std::int64_t{*t.newer_noncurrent_versions});
    }
    w.close();
}

void render_rule(xml_writer &w, const lifecycle_rule &r) {
    w.open("Rule").element("ID", r.id);
    render_filter(w, r.filter);
    w.element("Status", r.enabled ? "Enabled" : "Disabled");
    for (const auto &t : r.transitions) {
        render_transition(w, t, false);
    }
    if (r.expiration_date_ms || r.expiration_days || r.expired_object_delete_marker) {
        w.open("Expiration");
        if (r.expiration_date_ms) {
            w.element("Date", date_text(*r.expiration_date_ms));
        }
        if (r.expiration_days) {
            w.element("Days", std::int64_t{*r.expiration_days});
        }
        if (r.expired_object_delete_marker) {
            w.element("ExpiredObjectDeleteMarker", "true");
        }
        w.close();
    }
    for (const auto &t : r.noncurrent_transitions) {
        render_transition(w, t, true);
    }
    if (r.noncurrent_days) {
        w.open("NoncurrentVersionExpiration")
            .element("NoncurrentDays", std::int64_t{*r.noncurrent_days});
        if (r.newer_noncurrent_versions) {
            w.element("NewerNoncurrentVersions", std::int64_t{*r.newer_noncurrent_versions});
        }
        w.close();
    }
    if (r.abort_upload_days) {
        w.open("AbortIncompleteMultipartUpload")
            .element("DaysAfterInitiation", std::int64_t{*r.abort_upload_days})
            .close();
    }
    w.close();
}

// Rule 4: the rendered rule (ID still empty) and its position, hashed.
std::string generated_id(const lifecycle_rule &r, std::size_t index) {
    xml_writer w;
    render_rule(w, r);
    return to_hex(md5_raw(std::to_string(index) + "\n" + w.str()));
}

} // namespace

result<lifecycle_config> parse_lifecycle(std::string_view body) {
    pugi::xml_document doc;
    auto root = xmln::load_root(doc, body, "LifecycleConfiguration");
    if (root.has_error()) {
        return root.error();
    }
    const auto rules = xmln::children(*root, "Rule");
    if (rules.empty()) {
        return malformed();
    }
    if (rules.size() > max_rules) {
        return invalid("The number of lifecycle rules must not exceed the allowed limit of 1000 "
                       "rules");
    }
    lifecycle_config c;
    std::vector<bool> given;
    std::set<std::string> ids;
    for (const auto &n : rules) {
        bool id_given = false;
        auto r = parse_rule(n, id_given);
        if (r.has_error()) {
            return r.error();
        }
        if (id_given && !ids.insert(r->id).second) {
            return invalid("Rule ID must be unique. Found same ID for more than one rule");
        }
        given.push_back(id_given);
        c.rules.push_back(std::move(*r));
    }
    for (std::size_t i = 0; i < c.rules.size(); ++i) {
        if (given[i]) {
            continue;
        }
        c.rules[i].id = unused_id(generated_id(c.rules[i], i), ids);
    }
    return c;
}

std::string render_lifecycle(const lifecycle_config &c) {
    xml_writer w;
    w.open("LifecycleConfiguration", true);
    for (const auto &r : c.rules) {
        render_rule(w, r);
    }
    return w.str();
}

bool lifecycle_applies(const lifecycle_rule &rule, std::string_view key, std::uint64_t size,
                       const std::vector<std::pair<std::string, std::string>> &tags) {
    const auto &f = rule.filter;
    if (!rule.enabled || !key.starts_with(f.prefix)) {
        return false;
    }
    if ((f.size_greater_than && size <= *f.size_greater_than) ||
        (f.size_less_than && size >= *f.size_less_than)) {
        return false;
    }
    return std::all_of(f.tags.begin(), f.tags.end(), [&](const auto &want) {
        return std::find(tags.begin(), tags.end(), want) != tags.end();
    });
}

std::int64_t lifecycle_due_ms(std::int64_t since_ms, int days) {
    const std::int64_t t = since_ms + std::int64_t{days} * day_ms;
    // Round up to a multiple of a day. Division truncates toward zero, which already rounds a
    // time before 1970 up; only a positive remainder needs the extra day.
    std::int64_t q = t / day_ms;
    if (q * day_ms < t) {
        ++q;
    }
    return q * day_ms;
}

std::optional<lifecycle_expiry>
current_expiry(const lifecycle_config &c, std::string_view key, std::uint64_t size,
               const std::vector<std::pair<std::string, std::string>> &tags,
               std::int64_t last_modified_ms) {
    std::optional<lifecycle_expiry> best;
    for (const auto &r : c.rules) {
        if ((!r.expiration_days && !r.expiration_date_ms) ||
            !lifecycle_applies(r, key, size, tags)) {
            continue;
        }
        const std::int64_t due = r.expiration_days
                                     ? lifecycle_due_ms(last_modified_ms, *r.expiration_days)
                                     : *r.expiration_date_ms;
        if (!best || due < best->due_ms) { // ties: the first rule in document order
            best = lifecycle_expiry{due, r.id};
        }
    }
    return best;
}

std::string expiration_header(const lifecycle_expiry &e) {
    // S3 URL-encodes the rule-id value; an id of unreserved characters reads as it is.
    const auto when =
        std::chrono::floor<std::chrono::seconds>(sys_millis(std::chrono::milliseconds(e.due_ms)));
    return "expiry-date=\"" + format_http_date(when) + "\", rule-id=\"" +
           uri_encode(e.rule_id, false) + "\"";
}

} // namespace ifmatch::protocol
