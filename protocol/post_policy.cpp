// POST policy parsing and evaluation (see post_policy.hpp).
#include "protocol/post_policy.hpp"

#include "protocol/crypto.hpp"
#include "protocol/text.hpp"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

namespace ifmatch::protocol {
namespace {

s3_error invalid_policy(std::string why) {
    return s3_error(s3_errc::invalid_policy_document, "Invalid Policy: " + std::move(why));
}

s3_error denied(std::string why) {
    return s3_error(s3_errc::access_denied, "Invalid according to Policy: " + std::move(why));
}

// `2026-01-02T03:04:05Z` or with fractional seconds `…05.000Z`.
std::optional<sys_seconds> parse_expiration(const std::string &s) {
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
    char t = 0;
    if (std::sscanf(s.c_str(), "%4d-%2d-%2d%c%2d:%2d:%2d", &y, &mo, &d, &t, &h, &mi, &sec) != 7 ||
        t != 'T' || s.back() != 'Z') {
        return std::nullopt;
    }
    const std::chrono::year_month_day ymd{std::chrono::year(y),
                                          std::chrono::month(static_cast<unsigned>(mo)),
                                          std::chrono::day(static_cast<unsigned>(d))};
    if (!ymd.ok() || h > 23 || mi > 59 || sec > 60)
        return std::nullopt;
    return std::chrono::sys_days(ymd) + std::chrono::hours(h) + std::chrono::minutes(mi) +
           std::chrono::seconds(sec);
}

std::string field_of(const std::string &s) {
    return ascii::lower(s.starts_with("$") ? s.substr(1) : s);
}

// Fields a policy never has to mention.
bool exempt(std::string_view f) {
    return f == "policy" || f == "x-amz-signature" || f == "signature" || f == "awsaccesskeyid" ||
           f == "file" || f.starts_with("x-ignore-") || f == "bucket";
}

result<void> add_condition(post_policy &p, const nlohmann::json &c) {
    if (c.is_object()) {
        for (auto &[k, v] : c.items()) {
            if (!v.is_string())
                return invalid_policy("Invalid Simple-Condition: value must be a string.");
            p.conditions.push_back(
                {post_policy_condition::kind::eq, field_of(k), v.get<std::string>(), c.dump()});
        }
        return {};
    }
    if (!c.is_array() || c.size() != 3 || !c[0].is_string()) {
        return invalid_policy("Invalid Condition: " + c.dump());
    }
    const auto op = ascii::lower(c[0].get<std::string>());
    if (op == "content-length-range") {
        if (!c[1].is_number_integer() || !c[2].is_number_integer() ||
            c[1].get<std::int64_t>() < 0) {
            return invalid_policy("Invalid content-length-range: " + c.dump());
        }
        p.length_range = std::make_pair(c[1].get<std::uint64_t>(), c[2].get<std::uint64_t>());
        return {};
    }
    if ((op != "eq" && op != "starts-with") || !c[1].is_string() || !c[2].is_string()) {
        return invalid_policy("Invalid Condition: " + c.dump());
    }
    p.conditions.push_back(
        {op == "eq" ? post_policy_condition::kind::eq : post_policy_condition::kind::starts_with,
         field_of(c[1].get<std::string>()), c[2].get<std::string>(), c.dump()});
    return {};
}

} // namespace

result<post_policy> parse_post_policy(std::string_view base64_policy) {
    auto text = base64_decode(base64_policy);
    if (!text)
        return invalid_policy("Policy could not be base64-decoded.");
    auto j = nlohmann::json::parse(*text, nullptr, false);
    if (j.is_discarded() || !j.is_object())
        return invalid_policy("Policy is not a JSON object.");
    post_policy p;
    if (!j.contains("expiration") || !j["expiration"].is_string()) {
        return invalid_policy("Policy missing expiration.");
    }
    auto exp = parse_expiration(j["expiration"].get<std::string>());
    if (!exp)
        return invalid_policy("Invalid Policy expiration.");
    p.expiration = *exp;
    if (!j.contains("conditions") || !j["conditions"].is_array()) {
        return invalid_policy("Policy missing conditions.");
    }
    for (const auto &c : j["conditions"]) {
        if (auto r = add_condition(p, c); r.has_error())
            return r.error();
    }
    return p;
}

result<void> check_post_policy(const post_policy &p, const form_fields &fields, sys_seconds now) {
    if (now > p.expiration)
        return denied("Policy expired.");
    auto value_of = [&](const std::string &f) -> std::string {
        for (const auto &[k, v] : fields) {
            if (k == f)
                return v;
        }
        return {};
    };
    for (const auto &c : p.conditions) {
        const auto v = value_of(c.field);
        const bool ok = c.op == post_policy_condition::kind::eq ? v == c.value : v.starts_with(c.value);
        if (!ok)
            return denied("Policy Condition failed: " + c.text);
    }
    for (const auto &[k, v] : fields) {
        if (exempt(k) ||
            (k.starts_with("x-amz-") && (k == "x-amz-algorithm" || k == "x-amz-credential" ||
                                         k == "x-amz-date" || k == "x-amz-security-token"))) {
            continue;
        }
        const std::string &name = k; // clang 14 cannot capture a structured binding
        const bool covered = std::any_of(p.conditions.begin(), p.conditions.end(),
                                         [&](const auto &c) { return c.field == name; });
        if (!covered)
            return denied("Extra input fields: " + k);
    }
    return {};
}

result<void> check_post_length(const post_policy &p, std::uint64_t size) {
    if (!p.length_range)
        return {};
    if (size < p.length_range->first) {
        return s3_error(s3_errc::entity_too_small)
            .with("ProposedSize", std::to_string(size))
            .with("MinSizeAllowed", std::to_string(p.length_range->first));
    }
    if (size > p.length_range->second) {
        return s3_error(s3_errc::entity_too_large)
            .with("ProposedSize", std::to_string(size))
            .with("MaxSizeAllowed", std::to_string(p.length_range->second));
    }
    return {};
}

} // namespace ifmatch::protocol
