// Unit tests of bucket lifecycle configurations (docs/bucket-configuration.md B-C1..B-C6).
#include "protocol/lifecycle.hpp"

#include <chrono>
#include <doctest/doctest.h>
#include <tuple>

using namespace ifmatch::protocol;

namespace {

using tag_list = std::vector<std::pair<std::string, std::string>>;

std::string config(std::string_view rules) {
    return "<LifecycleConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">" +
           std::string(rules) + "</LifecycleConfiguration>";
}

// A rule with an ID, Status Enabled, and the given filter and actions.
std::string rule(std::string_view id, std::string_view filter, std::string_view actions,
                 std::string_view status = "Enabled") {
    std::string out = "<Rule>";
    if (!id.empty()) {
        out += "<ID>" + std::string(id) + "</ID>";
    }
    return out + std::string(filter) + "<Status>" + std::string(status) + "</Status>" +
           std::string(actions) + "</Rule>";
}

constexpr std::string_view all_keys = "<Filter></Filter>";
constexpr std::string_view expire_30 = "<Expiration><Days>30</Days></Expiration>";

// Milliseconds since the epoch of a UTC date and time.
std::int64_t utc(int y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0, int ms = 0) {
    using namespace std::chrono;
    const sys_days day{year{y} / month{mo} / ::std::chrono::day{d}};
    return duration_cast<milliseconds>(day.time_since_epoch()).count() +
           ((h * 60LL + mi) * 60 + s) * 1000 + ms;
}

s3_error error_of(const std::string &body) {
    auto r = parse_lifecycle(body);
    REQUIRE(r.has_error());
    return r.error();
}

void check_invalid(const std::string &body, std::string_view message) {
    const auto e = error_of(body);
    CHECK(e.code == s3_errc::invalid_argument);
    CHECK(e.text() == message);
}

void check_malformed(const std::string &body) {
    CHECK(error_of(body).code == s3_errc::malformed_xml);
}

bool contains(const std::string &s, std::string_view part) {
    return s.find(part) != std::string::npos;
}

auto fields(const lifecycle_filter &f) {
    return std::tie(f.prefix, f.tags, f.size_greater_than, f.size_less_than);
}
auto fields(const lifecycle_transition &t) {
    return std::tie(t.days, t.date_ms, t.storage_class, t.newer_noncurrent_versions);
}
bool same(const std::vector<lifecycle_transition> &a, const std::vector<lifecycle_transition> &b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (fields(a[i]) != fields(b[i])) {
            return false;
        }
    }
    return true;
}
bool same(const lifecycle_rule &a, const lifecycle_rule &b) {
    return a.id == b.id && a.enabled == b.enabled && fields(a.filter) == fields(b.filter) &&
           a.expiration_days == b.expiration_days && a.expiration_date_ms == b.expiration_date_ms &&
           a.expired_object_delete_marker == b.expired_object_delete_marker &&
           a.noncurrent_days == b.noncurrent_days &&
           a.newer_noncurrent_versions == b.newer_noncurrent_versions &&
           a.abort_upload_days == b.abort_upload_days && same(a.transitions, b.transitions) &&
           same(a.noncurrent_transitions, b.noncurrent_transitions);
}
bool same(const lifecycle_config &a, const lifecycle_config &b) {
    if (a.rules.size() != b.rules.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.rules.size(); ++i) {
        if (!same(a.rules[i], b.rules[i])) {
            return false;
        }
    }
    return true;
}

lifecycle_config parsed(const std::string &body) {
    auto r = parse_lifecycle(body);
    if (r.has_error()) {
        FAIL("unexpected error: " << std::string(r.error().aws_code()) << " "
                                  << std::string(r.error().text()));
    }
    return *r;
}

} // namespace

// ---- parsing ----------------------------------------------------------------------------------

TEST_CASE("B-C6 lifecycle: a rich configuration parses into its fields") {
    const auto c = parsed(config(
        rule("logs",
             "<Filter><And><Prefix>logs/</Prefix><Tag><Key>k1</Key><Value>v1</Value></Tag>"
             "<Tag><Key>k2</Key><Value></Value></Tag><ObjectSizeGreaterThan>100"
             "</ObjectSizeGreaterThan><ObjectSizeLessThan>5000</ObjectSizeLessThan></And>"
             "</Filter>",
             "<Transition><Days>0</Days><StorageClass>GLACIER</StorageClass></Transition>"
             "<Transition><Date>2031-06-01T00:00:00.000Z</Date><StorageClass>DEEP_ARCHIVE"
             "</StorageClass></Transition><Expiration><Days>365</Days></Expiration>"
             "<NoncurrentVersionTransition><NoncurrentDays>10</NoncurrentDays><StorageClass>"
             "STANDARD_IA</StorageClass><NewerNoncurrentVersions>3</NewerNoncurrentVersions>"
             "</NoncurrentVersionTransition><NoncurrentVersionExpiration><NoncurrentDays>40"
             "</NoncurrentDays><NewerNoncurrentVersions>5</NewerNoncurrentVersions>"
             "</NoncurrentVersionExpiration><AbortIncompleteMultipartUpload><DaysAfterInitiation>"
             "7</DaysAfterInitiation></AbortIncompleteMultipartUpload>") +
        rule("markers", all_keys,
             "<Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>",
             "Disabled") +
        rule("dated", "<Filter><Tag><Key>tmp</Key><Value>yes</Value></Tag></Filter>",
             "<Expiration><Date>2030-01-01T00:00:00Z</Date></Expiration>")));
    REQUIRE(c.rules.size() == 3);
    const auto &r = c.rules[0];
    CHECK(r.id == "logs");
    CHECK(r.enabled);
    CHECK(r.filter.prefix == "logs/");
    CHECK(r.filter.tags == tag_list{{"k1", "v1"}, {"k2", ""}});
    CHECK(r.filter.size_greater_than == std::optional<std::uint64_t>(100));
    CHECK(r.filter.size_less_than == std::optional<std::uint64_t>(5000));
    CHECK(r.expiration_days == std::optional<int>(365));
    CHECK_FALSE(r.expiration_date_ms.has_value());
    CHECK_FALSE(r.expired_object_delete_marker);
    CHECK(r.noncurrent_days == std::optional<int>(40));
    CHECK(r.newer_noncurrent_versions == std::optional<int>(5));
    CHECK(r.abort_upload_days == std::optional<int>(7));
    REQUIRE(r.transitions.size() == 2);
    CHECK(r.transitions[0].days == std::optional<int>(0));
    CHECK(r.transitions[0].storage_class == "GLACIER");
    CHECK(r.transitions[1].date_ms == std::optional<std::int64_t>(utc(2031, 6, 1)));
    CHECK(r.transitions[1].storage_class == "DEEP_ARCHIVE");
    REQUIRE(r.noncurrent_transitions.size() == 1);
    CHECK(r.noncurrent_transitions[0].days == std::optional<int>(10));
    CHECK(r.noncurrent_transitions[0].newer_noncurrent_versions == std::optional<int>(3));
    CHECK(r.noncurrent_transitions[0].storage_class == "STANDARD_IA");

    CHECK_FALSE(c.rules[1].enabled);
    CHECK(c.rules[1].expired_object_delete_marker);
    CHECK(c.rules[1].filter.prefix.empty());
    CHECK(c.rules[1].filter.tags.empty());

    CHECK(c.rules[2].filter.tags == tag_list{{"tmp", "yes"}});
    CHECK(c.rules[2].expiration_date_ms == std::optional<std::int64_t>(1'893'456'000'000));
}

TEST_CASE("B-C6 lifecycle: the legacy top-level Prefix") {
    const auto c = parsed(config("<Rule><ID>old</ID><Prefix>tmp/</Prefix><Status>Enabled</Status>"
                                 "<Expiration><Days>1</Days></Expiration></Rule>"));
    REQUIRE(c.rules.size() == 1);
    CHECK(c.rules[0].filter.prefix == "tmp/");
    CHECK(lifecycle_applies(c.rules[0], "tmp/a", 1, {}));
    CHECK_FALSE(lifecycle_applies(c.rules[0], "other/tmp/a", 1, {}));
    // An empty legacy prefix selects every key.
    const auto every = parsed(config(rule("e", "<Prefix></Prefix>", expire_30)));
    CHECK(every.rules[0].filter.prefix.empty());
    // Re-rendered as a Filter, which reads back the same.
    const auto xml = render_lifecycle(c);
    CHECK(contains(xml, "<Filter><Prefix>tmp/</Prefix></Filter>"));
    CHECK(same(parsed(xml), c));
}

TEST_CASE("B-C6 lifecycle: accepted Date forms") {
    for (const char *d : {"2030-01-01", "2030-01-01T00:00:00Z", "2030-01-01T00:00:00.000Z",
                          "2030-01-01T00:00:00.000000Z", "2030-01-01T02:30:00+02:30",
                          "2029-12-31T22:00:00-02:00"}) {
        CAPTURE(d);
        const auto c = parsed(config(
            rule("d", all_keys, "<Expiration><Date>" + std::string(d) + "</Date></Expiration>")));
        CHECK(c.rules[0].expiration_date_ms == std::optional<std::int64_t>(utc(2030, 1, 1)));
    }
}

TEST_CASE("B-C6 lifecycle: rules without an ID get a stable, unique one") {
    const auto doc =
        config(rule("", all_keys, expire_30) + rule("", all_keys, expire_30) +
               "<Rule><ID></ID><Filter/><Status>Enabled</Status>" + // empty ID
               std::string(expire_30) + "</Rule>" + rule("named", all_keys, expire_30));
    const auto a = parsed(doc);
    REQUIRE(a.rules.size() == 4);
    for (const auto &r : a.rules) {
        CHECK_FALSE(r.id.empty());
        CHECK(r.id.size() <= 255);
    }
    // Identical rules still get distinct IDs, and none takes a given one.
    CHECK(a.rules[0].id != a.rules[1].id);
    CHECK(a.rules[1].id != a.rules[2].id);
    CHECK(a.rules[0].id != "named");
    CHECK(a.rules[3].id == "named");
    // Stable: the same document gives the same IDs.
    const auto b = parsed(doc);
    CHECK(b.rules[0].id == a.rules[0].id);
    CHECK(b.rules[2].id == a.rules[2].id);
    // A different rule gets a different ID.
    const auto other =
        parsed(config(rule("", all_keys, "<Expiration><Days>31</Days></Expiration>")));
    CHECK(other.rules[0].id != a.rules[0].id);
    // Rendered IDs read back as given IDs.
    CHECK(same(parsed(render_lifecycle(a)), a));
}

// ---- errors -----------------------------------------------------------------------------------

TEST_CASE("B-C6 lifecycle: MalformedXML") {
    check_malformed("<LifecycleConfiguration><Rule>");  // not well-formed
    check_malformed("<BucketLifecycleConfiguration/>"); // another root
    check_malformed(config(""));                        // no rule
    check_malformed(config(rule("a", "", expire_30)));  // neither Filter nor Prefix
    check_malformed(config(rule("a", "<Prefix>x</Prefix><Filter/>", expire_30))); // both
    check_malformed(config("<Rule><ID>a</ID><Filter/>" + std::string(expire_30) + "</Rule>"));
    check_malformed(config(rule("a", all_keys, expire_30, "enabled"))); // Status is exact
    check_malformed(config(rule("a", all_keys, "")));                   // no action
    check_malformed(config(rule("a", all_keys, "<Expiration></Expiration>")));
    check_malformed(config(rule(
        "a", all_keys,
        "<Expiration><ExpiredObjectDeleteMarker>false</ExpiredObjectDeleteMarker></Expiration>")));
    check_malformed(config(rule(
        "a", all_keys,
        "<Expiration><ExpiredObjectDeleteMarker>yes</ExpiredObjectDeleteMarker></Expiration>")));
    check_malformed(
        config(rule("a", all_keys,
                    "<Expiration><Days>1</Days><Date>2030-01-01T00:00:00Z</Date></Expiration>")));
    // Two predicates in a Filter without And, And beside a predicate, an empty And.
    check_malformed(config(
        rule("a", "<Filter><Prefix>p</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></Filter>",
             expire_30)));
    check_malformed(config(rule("a",
                                "<Filter><Tag><Key>k</Key><Value>v</Value></Tag><Tag><Key>j</Key>"
                                "<Value>v</Value></Tag></Filter>",
                                expire_30)));
    check_malformed(
        config(rule("a",
                    "<Filter><ObjectSizeGreaterThan>1</ObjectSizeGreaterThan><ObjectSizeLessThan>9"
                    "</ObjectSizeLessThan></Filter>",
                    expire_30)));
    check_malformed(config(
        rule("a", "<Filter><Prefix>p</Prefix><And><Prefix>q</Prefix></And></Filter>", expire_30)));
    check_malformed(config(rule("a", "<Filter><And></And></Filter>", expire_30)));
    check_malformed(config(rule("a", "<Filter><Tag><Value>v</Value></Tag></Filter>", expire_30)));
    // A transition needs a known storage class and Days or Date; a noncurrent expiration its days.
    check_malformed(
        config(rule("a", all_keys,
                    "<Transition><Days>1</Days><StorageClass>CHEAP</StorageClass></Transition>")));
    check_malformed(config(
        rule("a", all_keys, "<Transition><StorageClass>GLACIER</StorageClass></Transition>")));
    check_malformed(config(rule("a", all_keys,
                                "<NoncurrentVersionExpiration><NewerNoncurrentVersions>1"
                                "</NewerNoncurrentVersions></NoncurrentVersionExpiration>")));
}

TEST_CASE("B-C6 lifecycle: InvalidArgument for Days, NoncurrentDays, DaysAfterInitiation") {
    for (const char *d : {"0", "-1", "abc", "1.5", "", "99999999999"}) {
        CAPTURE(d);
        check_invalid(config(rule("a", all_keys,
                                  "<Expiration><Days>" + std::string(d) + "</Days></Expiration>")),
                      "'Days' for Expiration action must be a positive integer");
        check_invalid(config(rule("a", all_keys,
                                  "<NoncurrentVersionExpiration><NoncurrentDays>" + std::string(d) +
                                      "</NoncurrentDays></NoncurrentVersionExpiration>")),
                      "'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive "
                      "integer");
        check_invalid(
            config(rule("a", all_keys,
                        "<AbortIncompleteMultipartUpload><DaysAfterInitiation>" + std::string(d) +
                            "</DaysAfterInitiation></AbortIncompleteMultipartUpload>")),
            "'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a "
            "positive integer");
    }
    check_invalid(config(rule("a", all_keys,
                              "<NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays>"
                              "<NewerNoncurrentVersions>0</NewerNoncurrentVersions>"
                              "</NoncurrentVersionExpiration>")),
                  "'NewerNoncurrentVersions' for NoncurrentVersionExpiration action must be a "
                  "positive integer");
    check_invalid(config(rule("a", all_keys,
                              "<Transition><Days>-1</Days><StorageClass>GLACIER</StorageClass>"
                              "</Transition>")),
                  "'Days' for Transition action must be a nonnegative integer");
    // The largest int is accepted.
    CHECK(parsed(config(rule("a", all_keys, "<Expiration><Days>2147483647</Days></Expiration>")))
              .rules[0]
              .expiration_days == std::optional<int>(2147483647));
}

TEST_CASE("B-C6 lifecycle: duplicate and over-long rule IDs") {
    check_invalid(config(rule("same", all_keys, expire_30) +
                         rule("other", "<Filter><Prefix>x</Prefix></Filter>", expire_30) +
                         rule("same", "<Filter><Prefix>y</Prefix></Filter>", expire_30)),
                  "Rule ID must be unique. Found same ID for more than one rule");
    check_invalid(config(rule(std::string(256, 'i'), all_keys, expire_30)),
                  "ID length should not exceed allowed limit of 255");
    CHECK(parsed(config(rule(std::string(255, 'i'), all_keys, expire_30))).rules[0].id.size() ==
          255);
}

TEST_CASE("B-C6 lifecycle: Date must be midnight UTC in ISO 8601") {
    for (const char *d :
         {"2030-01-01T00:00:01Z", "2030-01-01T00:00:00.001Z", "2030-01-01T00:00:00.0001Z",
          "2030-01-01T00:00:00+01:00", "2030-01-01T12:00:00Z"}) {
        CAPTURE(d);
        check_invalid(config(rule("a", all_keys,
                                  "<Expiration><Date>" + std::string(d) + "</Date></Expiration>")),
                      "'Date' must be at midnight GMT");
    }
    check_invalid(config(rule("a", all_keys,
                              "<Transition><Date>2030-01-01T06:00:00Z</Date><StorageClass>GLACIER"
                              "</StorageClass></Transition>")),
                  "'Date' must be at midnight GMT");
    for (const char *d : {"tomorrow", "2030-02-30T00:00:00Z", "2030-01-01 00:00:00Z",
                          "2030-01-01T24:00:00Z", "2030-1-1", "Tue, 01 Jan 2030 00:00:00 GMT"}) {
        CAPTURE(d);
        const auto e = error_of(config(
            rule("a", all_keys, "<Expiration><Date>" + std::string(d) + "</Date></Expiration>")));
        CHECK(e.code == s3_errc::invalid_argument);
        CHECK(e.text() != "'Date' must be at midnight GMT");
    }
}

TEST_CASE("B-C6 lifecycle: ExpiredObjectDeleteMarker with Days or Date") {
    for (const char *other : {"<Days>3</Days>", "<Date>2030-01-01T00:00:00Z</Date>"}) {
        CAPTURE(other);
        check_invalid(config(rule("a", all_keys,
                                  "<Expiration>" + std::string(other) +
                                      "<ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker>"
                                      "</Expiration>")),
                      "ExpiredObjectDeleteMarker cannot be specified with Days or Date");
    }
}

TEST_CASE("B-C6 lifecycle: size bounds and tag keys") {
    check_invalid(config(rule("a",
                              "<Filter><And><ObjectSizeGreaterThan>500</ObjectSizeGreaterThan>"
                              "<ObjectSizeLessThan>500</ObjectSizeLessThan></And></Filter>",
                              expire_30)),
                  "ObjectSizeGreaterThan must be less than ObjectSizeLessThan");
    check_invalid(config(rule("a",
                              "<Filter><And><ObjectSizeGreaterThan>501</ObjectSizeGreaterThan>"
                              "<ObjectSizeLessThan>500</ObjectSizeLessThan></And></Filter>",
                              expire_30)),
                  "ObjectSizeGreaterThan must be less than ObjectSizeLessThan");
    check_invalid(config(rule("a", "<Filter><ObjectSizeLessThan>-5</ObjectSizeLessThan></Filter>",
                              expire_30)),
                  "'ObjectSizeLessThan' must be a non-negative integer");
    check_invalid(config(rule("a",
                              "<Filter><And><Tag><Key>k</Key><Value>1</Value></Tag><Tag><Key>k"
                              "</Key><Value>2</Value></Tag></And></Filter>",
                              expire_30)),
                  "Duplicate Tag Keys are not allowed.");
    // One byte apart is a valid range.
    const auto c = parsed(config(rule("a",
                                      "<Filter><And><ObjectSizeGreaterThan>499"
                                      "</ObjectSizeGreaterThan><ObjectSizeLessThan>500"
                                      "</ObjectSizeLessThan></And></Filter>",
                                      expire_30)));
    CHECK(c.rules[0].filter.size_less_than == std::optional<std::uint64_t>(500));
}

TEST_CASE("B-C6 lifecycle: more than 1,000 rules") {
    std::string rules;
    for (int i = 0; i < 1000; ++i) {
        rules += rule("r" + std::to_string(i), all_keys, expire_30);
    }
    CHECK(parsed(config(rules)).rules.size() == 1000);
    const auto e = error_of(config(rules + rule("r1000", all_keys, expire_30)));
    CHECK(e.code == s3_errc::invalid_argument);
}

// ---- rendering --------------------------------------------------------------------------------

TEST_CASE("B-C6 lifecycle: render carries the namespace, S3's element order and ISO dates") {
    const auto c = parsed(config(
        rule("r1", "<Filter><Prefix>a/</Prefix></Filter>",
             "<AbortIncompleteMultipartUpload><DaysAfterInitiation>2</DaysAfterInitiation>"
             "</AbortIncompleteMultipartUpload><Expiration><Date>2030-01-01</Date></Expiration>"
             "<Transition><Days>5</Days><StorageClass>GLACIER</StorageClass></Transition>") +
        rule("r2", "<Filter><Tag><Key>a&amp;b</Key><Value>&lt;v&gt;</Value></Tag></Filter>",
             expire_30, "Disabled")));
    const auto xml = render_lifecycle(c);
    CHECK(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<LifecycleConfiguration "
                          "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Rule>"));
    CHECK(contains(xml, "<Rule><ID>r1</ID><Filter><Prefix>a/</Prefix></Filter><Status>Enabled"
                        "</Status><Transition><Days>5</Days><StorageClass>GLACIER</StorageClass>"
                        "</Transition><Expiration><Date>2030-01-01T00:00:00.000Z</Date>"
                        "</Expiration><AbortIncompleteMultipartUpload><DaysAfterInitiation>2"
                        "</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule>"));
    CHECK(contains(xml, "<Rule><ID>r2</ID><Filter><Tag><Key>a&amp;b</Key><Value>&lt;v&gt;</Value>"
                        "</Tag></Filter><Status>Disabled</Status><Expiration><Days>30</Days>"
                        "</Expiration></Rule>"));
    CHECK(xml.ends_with("</LifecycleConfiguration>"));
}

TEST_CASE("B-C6 lifecycle: And is rendered exactly when more than one predicate is set") {
    lifecycle_config c;
    lifecycle_rule r;
    r.id = "x";
    r.enabled = true;
    r.expiration_days = 1;
    r.filter.size_greater_than = 10;
    c.rules.push_back(r);
    CHECK(contains(render_lifecycle(c),
                   "<Filter><ObjectSizeGreaterThan>10</ObjectSizeGreaterThan></Filter>"));
    c.rules[0].filter.prefix = "p";
    CHECK(contains(render_lifecycle(c), "<Filter><And><Prefix>p</Prefix><ObjectSizeGreaterThan>10"
                                        "</ObjectSizeGreaterThan></And></Filter>"));
    c.rules[0].filter = {};
    CHECK(contains(render_lifecycle(c), "<Filter></Filter>"));
}

TEST_CASE("B-C6 lifecycle: parse(render(c)) gives c back") {
    lifecycle_config c;
    lifecycle_rule a;
    a.id = "full";
    a.enabled = true;
    a.filter = {"docs/", {{"team", "blue"}, {"keep", ""}}, 1024, 1u << 30};
    a.expiration_days = 90;
    a.noncurrent_days = 14;
    a.newer_noncurrent_versions = 2;
    a.abort_upload_days = 3;
    a.transitions.push_back({30, std::nullopt, "STANDARD_IA", std::nullopt});
    a.transitions.push_back({std::nullopt, utc(2032, 2, 29), "GLACIER", std::nullopt});
    a.noncurrent_transitions.push_back({7, std::nullopt, "GLACIER_IR", 4});
    c.rules.push_back(a);
    lifecycle_rule b;
    b.id = "markers & more";
    b.expired_object_delete_marker = true;
    b.filter.tags = {{"only", "tag"}};
    c.rules.push_back(b);
    lifecycle_rule d;
    d.id = "dated";
    d.enabled = true;
    d.expiration_date_ms = utc(2030, 1, 1);
    d.filter.size_less_than = 0;
    c.rules.push_back(d);

    const auto back = parsed(render_lifecycle(c));
    CHECK(same(back, c));
    CHECK(render_lifecycle(back) == render_lifecycle(c));
    // The comparison itself notices a difference.
    auto changed = c;
    changed.rules[0].filter.tags[1].second = "x";
    CHECK_FALSE(same(back, changed));
}

// ---- matching and day arithmetic --------------------------------------------------------------

TEST_CASE("B-C1 lifecycle: which objects a rule applies to") {
    lifecycle_rule r;
    r.enabled = true;
    r.filter = {"logs/", {{"a", "1"}, {"b", ""}}, 100, 200};
    const tag_list both{{"b", ""}, {"z", "9"}, {"a", "1"}};
    CHECK(lifecycle_applies(r, "logs/x", 150, both));
    CHECK_FALSE(lifecycle_applies(r, "log/x", 150, both));  // prefix
    CHECK_FALSE(lifecycle_applies(r, "logs/x", 100, both)); // exclusive lower bound
    CHECK(lifecycle_applies(r, "logs/x", 101, both));
    CHECK_FALSE(lifecycle_applies(r, "logs/x", 200, both)); // exclusive upper bound
    CHECK(lifecycle_applies(r, "logs/x", 199, both));
    CHECK_FALSE(lifecycle_applies(r, "logs/x", 150, {{"a", "1"}}));            // all tags needed
    CHECK_FALSE(lifecycle_applies(r, "logs/x", 150, {{"a", "2"}, {"b", ""}})); // values too
    CHECK_FALSE(lifecycle_applies(r, "logs/x", 150, {{"a", "1"}, {"b", "set"}}));
    r.enabled = false;
    CHECK_FALSE(lifecycle_applies(r, "logs/x", 150, both));
    lifecycle_rule all;
    all.enabled = true;
    CHECK(lifecycle_applies(all, "", 0, {}));
    CHECK(lifecycle_applies(all, "any/key", 1ULL << 40, {{"t", "v"}}));
}

TEST_CASE("B-C1 lifecycle: day arithmetic rounds up to the next midnight UTC") {
    // S3's documented example: created 1 January 2014 10:30 UTC, 3 days -> 5 January 00:00 UTC.
    CHECK(lifecycle_due_ms(utc(2014, 1, 1, 10, 30), 3) == utc(2014, 1, 5));
    // Exactly midnight stays; 1 ms after midnight goes to the next one; 1 ms before stays.
    CHECK(lifecycle_due_ms(utc(2024, 1, 10), 1) == utc(2024, 1, 11));
    CHECK(lifecycle_due_ms(utc(2024, 1, 10, 0, 0, 0, 1), 1) == utc(2024, 1, 12));
    CHECK(lifecycle_due_ms(utc(2024, 1, 10, 23, 59, 59, 999), 1) == utc(2024, 1, 12));
    // Leap day and month/year ends.
    CHECK(lifecycle_due_ms(utc(2024, 2, 28, 10), 1) == utc(2024, 3, 1));
    CHECK(lifecycle_due_ms(utc(2024, 2, 28), 1) == utc(2024, 2, 29));
    CHECK(lifecycle_due_ms(utc(2023, 2, 28, 10), 1) == utc(2023, 3, 2));
    CHECK(lifecycle_due_ms(utc(2024, 12, 31, 0, 0, 1), 1) == utc(2025, 1, 2));
    CHECK(lifecycle_due_ms(utc(2024, 1, 1), 366) == utc(2025, 1, 1));
    // The epoch and before it.
    CHECK(lifecycle_due_ms(0, 1) == 86'400'000);
    CHECK(lifecycle_due_ms(-1, 1) == 86'400'000);
    CHECK(lifecycle_due_ms(utc(1969, 12, 30, 12), 1) == utc(1970, 1, 1));
}

TEST_CASE("B-C1 lifecycle: current_expiry picks the earliest applying enabled rule") {
    const auto c = parsed(
        config(rule("late", "<Filter><Prefix>a/</Prefix></Filter>",
                    "<Expiration><Days>30</Days></Expiration>") +
               rule("early", "<Filter><Prefix>a/b</Prefix></Filter>",
                    "<Expiration><Days>10</Days></Expiration>") +
               rule("off", all_keys, "<Expiration><Days>1</Days></Expiration>", "Disabled") +
               rule("tagged", "<Filter><Tag><Key>t</Key><Value>1</Value></Tag></Filter>",
                    "<Expiration><Days>2</Days></Expiration>") +
               rule("big", "<Filter><ObjectSizeGreaterThan>1000</ObjectSizeGreaterThan></Filter>",
                    "<Expiration><Days>3</Days></Expiration>") +
               rule("noncurrent-only", all_keys,
                    "<NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays>"
                    "</NoncurrentVersionExpiration>") +
               rule("markers", all_keys,
                    "<Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker>"
                    "</Expiration>")));
    const auto created = utc(2024, 3, 1, 15);
    auto e = current_expiry(c, "a/b/c", 10, {}, created);
    REQUIRE(e.has_value());
    CHECK(e->rule_id == "early");
    CHECK(e->due_ms == utc(2024, 3, 12));
    // Only the later rule applies here.
    e = current_expiry(c, "a/x", 10, {}, created);
    REQUIRE(e.has_value());
    CHECK(e->rule_id == "late");
    CHECK(e->due_ms == utc(2024, 4, 1));
    // Tags and size bring in earlier rules; the disabled 1-day rule never counts.
    e = current_expiry(c, "a/b/c", 10, {{"t", "1"}}, created);
    REQUIRE(e.has_value());
    CHECK(e->rule_id == "tagged");
    e = current_expiry(c, "a/b/c", 5000, {}, created);
    REQUIRE(e.has_value());
    CHECK(e->rule_id == "big");
    // Nothing applies (only rules without a current-version expiration or disabled ones).
    CHECK_FALSE(current_expiry(c, "z", 10, {}, created).has_value());
}

TEST_CASE("B-C1 lifecycle: a Date competes with Days") {
    const auto c = parsed(config(
        rule("days", all_keys, "<Expiration><Days>100</Days></Expiration>") +
        rule("date", all_keys, "<Expiration><Date>2024-02-01T00:00:00Z</Date></Expiration>")));
    auto e = current_expiry(c, "k", 1, {}, utc(2024, 1, 1, 12));
    REQUIRE(e.has_value());
    CHECK(e->rule_id == "date");
    CHECK(e->due_ms == utc(2024, 2, 1));
    e = current_expiry(c, "k", 1, {}, utc(2023, 1, 1, 12));
    REQUIRE(e.has_value());
    CHECK(e->rule_id == "days");
    CHECK(e->due_ms == utc(2023, 4, 12));
}

TEST_CASE("B-C5 lifecycle: the x-amz-expiration header") {
    CHECK(expiration_header({utc(2012, 12, 23), "id"}) ==
          "expiry-date=\"Sun, 23 Dec 2012 00:00:00 GMT\", rule-id=\"id\"");
    CHECK(expiration_header({utc(2018, 10, 14), "lifecycle-test-rule"}) ==
          "expiry-date=\"Sun, 14 Oct 2018 00:00:00 GMT\", rule-id=\"lifecycle-test-rule\"");
    // The rule-id is URL-encoded.
    CHECK(expiration_header({utc(2030, 1, 1), "a \"b\"/c"}) ==
          "expiry-date=\"Tue, 01 Jan 2030 00:00:00 GMT\", rule-id=\"a%20%22b%22%2Fc\"");
}
