// Unit tests of bucket replication configurations (docs/bucket-configuration.md B-R1..B-R4).
#include "protocol/replication.hpp"

#include <doctest/doctest.h>
#include <tuple>

using namespace ifmatch::protocol;

namespace {

using tag_list = std::vector<std::pair<std::string, std::string>>;

std::string config(std::string_view rules, std::string_view role = "arn:aws:iam::1:role/r") {
    std::string out =
        "<ReplicationConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
    if (!role.empty()) {
        out += "<Role>" + std::string(role) + "</Role>";
    }
    return out + std::string(rules) + "</ReplicationConfiguration>";
}

constexpr std::string_view dest = "<Destination><Bucket>arn:aws:s3:::dst</Bucket></Destination>";
constexpr std::string_view dm_off = "<DeleteMarkerReplication><Status>Disabled</Status>"
                                    "</DeleteMarkerReplication>";

// A V2 rule: ID, Priority, the given Filter content, Status Enabled, dest, dm_off.
std::string v2_rule(std::string_view id, int priority, std::string_view filter = "",
                    std::string_view status = "Enabled") {
    std::string out = "<Rule>";
    if (!id.empty()) {
        out += "<ID>" + std::string(id) + "</ID>";
    }
    return out + "<Priority>" + std::to_string(priority) + "</Priority><Filter>" +
           std::string(filter) + "</Filter><Status>" + std::string(status) + "</Status>" +
           std::string(dest) + std::string(dm_off) + "</Rule>";
}

// A V1 rule: ID, legacy Prefix, Status Enabled, dest.
std::string v1_rule(std::string_view id, std::string_view prefix, std::string_view extra = "") {
    return "<Rule><ID>" + std::string(id) + "</ID><Prefix>" + std::string(prefix) +
           "</Prefix><Status>Enabled</Status>" + std::string(dest) + std::string(extra) + "</Rule>";
}

auto fields(const replication_rule &r) {
    return std::tie(r.id, r.priority, r.enabled, r.prefix, r.tags, r.destination_bucket,
                    r.storage_class, r.delete_marker_replication);
}

bool same(const replication_config &a, const replication_config &b) {
    if (a.role != b.role || a.legacy != b.legacy || a.rules.size() != b.rules.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.rules.size(); ++i) {
        if (fields(a.rules[i]) != fields(b.rules[i])) {
            return false;
        }
    }
    return true;
}

replication_config parsed(const std::string &body) {
    auto r = parse_replication(body);
    if (r.has_error()) {
        FAIL("unexpected error: " << std::string(r.error().aws_code()) << " "
                                  << std::string(r.error().text()));
    }
    return *r;
}

s3_error error_of(const std::string &body) {
    auto r = parse_replication(body);
    REQUIRE(r.has_error());
    return r.error();
}

void check_malformed(const std::string &body) {
    CHECK(error_of(body).code == s3_errc::malformed_xml);
}

void check_invalid(const std::string &body) {
    CHECK(error_of(body).code == s3_errc::invalid_argument);
}

void check_round_trip(const replication_config &c) {
    const auto again = parse_replication(render_replication(c));
    REQUIRE(again.has_value());
    CHECK(same(*again, c));
}

} // namespace

// ---- parsing ----------------------------------------------------------------------------------

TEST_CASE("replication: a V2 rule with And parses into its fields") {
    const auto c = parsed(config(
        "<Rule><ID>r1</ID><Priority>7</Priority><Filter><And><Prefix>logs/</Prefix>"
        "<Tag><Key>k1</Key><Value>v1</Value></Tag><Tag><Key>k2</Key><Value></Value></Tag></And>"
        "</Filter><Status>Enabled</Status><Destination><Bucket>arn:aws:s3:::backup</Bucket>"
        "<StorageClass>STANDARD_IA</StorageClass></Destination><DeleteMarkerReplication>"
        "<Status>Disabled</Status></DeleteMarkerReplication></Rule>"));
    CHECK(c.role == "arn:aws:iam::1:role/r");
    REQUIRE(c.rules.size() == 1);
    const auto &r = c.rules[0];
    CHECK(r.id == "r1");
    CHECK(r.priority == 7);
    CHECK(r.enabled);
    CHECK(r.prefix == "logs/");
    CHECK(r.tags == tag_list{{"k1", "v1"}, {"k2", ""}});
    CHECK(r.destination_bucket == "backup");
    CHECK(r.storage_class == "STANDARD_IA");
    CHECK_FALSE(r.delete_marker_replication);
    CHECK_FALSE(c.legacy);
}

TEST_CASE("replication: delete markers replicate only by prefix rules (rule 9)") {
    const std::string dm_on =
        "<DeleteMarkerReplication><Status>Enabled</Status></DeleteMarkerReplication>";
    auto rule = [&](std::string_view filter) {
        return "<Rule><ID>a</ID><Priority>1</Priority><Filter>" + std::string(filter) +
               "</Filter><Status>Enabled</Status>" + std::string(dest) + dm_on + "</Rule>";
    };
    CHECK(parsed(config(rule("<Prefix>p/</Prefix>"))).rules[0].delete_marker_replication);
    CHECK(parsed(config(rule(""))).rules[0].delete_marker_replication);
    for (const char *tagged : {"<Tag><Key>k</Key><Value>v</Value></Tag>",
                               "<And><Prefix>p/</Prefix><Tag><Key>k</Key><Value>v</Value></Tag>"
                               "</And>"}) {
        CAPTURE(tagged);
        const auto e = error_of(config(rule(tagged)));
        CHECK(e.code == s3_errc::invalid_request);
        CHECK(std::string(e.text()).find("Tag filter") != std::string::npos);
    }
}

TEST_CASE("replication: Filter/Prefix, Filter/Tag, an empty Filter and a missing Priority") {
    const auto c =
        parsed(config(v2_rule("a", 1, "<Prefix>p/</Prefix>") +
                      v2_rule("b", 2, "<Tag><Key>k</Key><Value>v</Value></Tag>") + v2_rule("c", 3) +
                      "<Rule><ID>d</ID><Filter/><Status>Disabled</Status>" + std::string(dest) +
                      std::string(dm_off) + "</Rule>"));
    REQUIRE(c.rules.size() == 4);
    CHECK(c.rules[0].prefix == "p/");
    CHECK(c.rules[0].tags.empty());
    CHECK(c.rules[1].prefix.empty());
    CHECK(c.rules[1].tags == tag_list{{"k", "v"}});
    CHECK(c.rules[2].prefix.empty());
    CHECK(c.rules[3].priority == 0);
    CHECK_FALSE(c.rules[3].enabled);
    CHECK_FALSE(c.rules[3].delete_marker_replication);
    CHECK(c.rules[3].storage_class.empty());
}

TEST_CASE("replication: a V1 rule takes the legacy Prefix and replicates delete markers") {
    const auto c = parsed(config(v1_rule("old", "docs/") + v1_rule("old2", "")));
    REQUIRE(c.rules.size() == 2);
    CHECK(c.rules[0].prefix == "docs/");
    CHECK(c.rules[0].priority == 0);
    CHECK(c.rules[0].delete_marker_replication);
    // V1 rules may share a priority: uniqueness is a V2 rule.
    CHECK(c.rules[1].priority == 0);
    CHECK(c.legacy);
    // A single V1 rule is answered in V1 too (rule 7): a rule-level Prefix, no Filter, no
    // DeleteMarkerReplication.
    const auto one = render_replication(parsed(config(v1_rule("old", "docs/"))));
    CHECK(one.find("<Rule><ID>old</ID><Prefix>docs/</Prefix><Status>"
                   "Enabled</Status>") != std::string::npos);
    CHECK(one.find("<Filter>") == std::string::npos);
    CHECK(one.find("DeleteMarkerReplication") == std::string::npos);
}

TEST_CASE("replication: a missing Role parses as empty") {
    CHECK(parsed(config(v2_rule("a", 1), "")).role.empty());
}

TEST_CASE("replication: rules without an ID get distinct, stable ones") {
    const auto body = config(v2_rule("", 1) + v2_rule("", 2) + v2_rule("x", 3));
    const auto c = parsed(body);
    REQUIRE(c.rules.size() == 3);
    CHECK(c.rules[0].id.size() == 32);
    CHECK(c.rules[0].id != c.rules[1].id);
    CHECK(c.rules[2].id == "x");
    CHECK(parsed(body).rules[0].id == c.rules[0].id);
}

TEST_CASE("replication: MalformedXML cases") {
    check_malformed("<ReplicationConfiguration><Rule>");
    check_malformed("<LifecycleConfiguration>" + v2_rule("a", 1) + "</LifecycleConfiguration>");
    check_malformed(config(""));
    // A rule without Status.
    check_malformed(
        config("<Rule><ID>a</ID><Filter/>" + std::string(dest) + std::string(dm_off) + "</Rule>"));
    // A rule without Destination, and a Destination without Bucket.
    check_malformed(
        config("<Rule><Filter/><Status>Enabled</Status>" + std::string(dm_off) + "</Rule>"));
    check_malformed(config("<Rule><Filter/><Status>Enabled</Status><Destination><StorageClass>"
                           "STANDARD</StorageClass></Destination>" +
                           std::string(dm_off) + "</Rule>"));
    // A Destination/Bucket that is not an arn:aws:s3::: ARN.
    for (const auto *bucket : {"dst", "arn:aws:s3:::", "arn:aws:iam:::dst", "arn:aws:s3:::a/b"}) {
        CAPTURE(bucket);
        check_malformed(config("<Rule><Filter/><Status>Enabled</Status><Destination><Bucket>" +
                               std::string(bucket) + "</Bucket></Destination>" +
                               std::string(dm_off) + "</Rule>"));
    }
    // Both Prefix and Filter, and neither.
    check_malformed(config("<Rule><Prefix>a</Prefix><Filter/><Status>Enabled</Status>" +
                           std::string(dest) + std::string(dm_off) + "</Rule>"));
    check_malformed(config("<Rule><Status>Enabled</Status>" + std::string(dest) + "</Rule>"));
    // Two predicates outside And; an empty And; a Tag without Key; a repeated Status.
    check_malformed(config(v2_rule("a", 1, "<Prefix>p</Prefix><Tag><Key>k</Key></Tag>")));
    check_malformed(config(v2_rule("a", 1, "<And></And>")));
    check_malformed(config(v2_rule("a", 1, "<Tag><Value>v</Value></Tag>")));
    check_malformed(config("<Rule><Filter/><Status>Enabled</Status><Status>Enabled</Status>" +
                           std::string(dest) + std::string(dm_off) + "</Rule>"));
}

TEST_CASE("replication: InvalidArgument cases") {
    // A duplicate rule ID.
    check_invalid(config(v2_rule("same", 1) + v2_rule("same", 2)));
    // An ID over 255 characters (255 is fine).
    CHECK(parse_replication(config(v2_rule(std::string(255, 'i'), 1))).has_value());
    check_invalid(config(v2_rule(std::string(256, 'i'), 1)));
    // More than 1,000 rules (1,000 is fine).
    std::string rules;
    for (int i = 0; i < 1000; ++i) {
        rules += v2_rule("r" + std::to_string(i), i);
    }
    CHECK(parse_replication(config(rules)).has_value());
    check_invalid(config(rules + v2_rule("r1000", 1000)));
    // Two V2 rules with the same Priority, also when both leave it out.
    const auto dup = error_of(config(v2_rule("a", 5) + v2_rule("b", 5)));
    CHECK(dup.code == s3_errc::invalid_argument);
    CHECK(dup.text() == "Found duplicate priority 5.");
    check_invalid(config("<Rule><ID>a</ID><Filter/><Status>Enabled</Status>" + std::string(dest) +
                         std::string(dm_off) +
                         "</Rule><Rule><ID>b</ID><Filter/><Status>Enabled"
                         "</Status>" +
                         std::string(dest) + std::string(dm_off) + "</Rule>"));
    // A Status other than Enabled or Disabled, in the rule or in DeleteMarkerReplication.
    check_invalid(config(v2_rule("a", 1, "", "enabled")));
    check_invalid(config("<Rule><Filter/><Status>Enabled</Status>" + std::string(dest) +
                         "<DeleteMarkerReplication><Status>On</Status></DeleteMarkerReplication>"
                         "</Rule>"));
    // A Priority that is not an integer in [0, 2^31 - 1].
    for (const auto *p : {"-1", "x", "2147483648", ""}) {
        CAPTURE(p);
        check_invalid(config("<Rule><Priority>" + std::string(p) +
                             "</Priority><Filter/><Status>Enabled</Status>" + std::string(dest) +
                             std::string(dm_off) + "</Rule>"));
    }
    // A duplicate tag key.
    check_invalid(config(
        v2_rule("a", 1,
                "<And><Tag><Key>k</Key><Value>1</Value></Tag><Tag><Key>k</Key><Value>2</Value>"
                "</Tag></And>")));
}

TEST_CASE("replication: InvalidRequest for the schema's DeleteMarkerReplication rules") {
    const auto missing =
        error_of(config("<Rule><ID>a</ID><Priority>1</Priority><Filter/><Status>Enabled</Status>" +
                        std::string(dest) + "</Rule>"));
    CHECK(missing.code == s3_errc::invalid_request);
    CHECK(missing.text() == "DeleteMarkerReplication must be specified for this version of Cross "
                            "Region Replication configuration schema. Please refer to S3 "
                            "Developer Guide for more information.");
    const auto v1 = error_of(config(v1_rule("a", "p", dm_off)));
    CHECK(v1.code == s3_errc::invalid_request);
    CHECK(v1.text() == "DeleteMarkerReplication cannot be used for this version of Cross Region "
                       "Replication configuration schema. Please refer to S3 Developer Guide for "
                       "more information.");
    // V1 and V2 rules mixed.
    CHECK(error_of(config(v1_rule("a", "p") + v2_rule("b", 1))).code == s3_errc::invalid_request);
}

// ---- rendering --------------------------------------------------------------------------------

TEST_CASE("replication: render follows S3's element order") {
    replication_config c;
    c.role = "arn:aws:iam::1:role/r";
    c.rules.push_back({"r1", 3, true, "p/", {{"k", "v"}}, "dst", "GLACIER", true});
    const auto xml = render_replication(c);
    CHECK(xml.find("<ReplicationConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                   "<Role>arn:aws:iam::1:role/r</Role><Rule><ID>r1</ID><Priority>3</Priority>"
                   "<Filter><And><Prefix>p/</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></And>"
                   "</Filter><Status>Enabled</Status><Destination><Bucket>arn:aws:s3:::dst"
                   "</Bucket><StorageClass>GLACIER</StorageClass></Destination>"
                   "<DeleteMarkerReplication><Status>Enabled</Status></DeleteMarkerReplication>"
                   "</Rule></ReplicationConfiguration>") != std::string::npos);
}

TEST_CASE("replication: round trips") {
    check_round_trip(
        parsed(config(v2_rule("a", 1, "<Prefix>p/</Prefix>") +
                      v2_rule("", 2,
                              "<Tag><Key>k</Key><Value>v</Value>"
                              "</Tag>") +
                      v2_rule("c", 9,
                              "<And><Prefix>x&amp;y</Prefix><Tag><Key>a</Key><Value>1</Value></Tag>"
                              "<Tag><Key>b</Key><Value>2</Value></Tag></And>",
                              "Disabled") +
                      v2_rule("d", 0))));
    // V1 documents, with shared and with distinct priorities.
    check_round_trip(parsed(config(v1_rule("a", "p/") + v1_rule("b", "q/"))));
    check_round_trip(parsed(config("<Rule><ID>a</ID><Priority>4</Priority><Prefix>p/</Prefix>"
                                   "<Status>Disabled</Status>" +
                                   std::string(dest) + "</Rule>")));
    // A configuration built in code, without a role.
    replication_config c;
    c.rules.push_back({"z", 2, true, "", {}, "b1", "", false});
    c.rules.push_back({"y", 1, false, "k/", {{"t", ""}}, "b2", "STANDARD", false});
    check_round_trip(c);
}

// ---- rule_for ---------------------------------------------------------------------------------

TEST_CASE("replication: rule_for matches prefix, tags and And, skips disabled rules") {
    replication_config c;
    c.rules.push_back({"prefix", 1, true, "logs/", {}, "d", "", false});
    c.rules.push_back({"tag", 2, true, "", {{"rep", "yes"}}, "d", "", false});
    c.rules.push_back({"and", 3, true, "img/", {{"a", "1"}, {"b", "2"}}, "d", "", false});
    c.rules.push_back({"off", 9, false, "", {}, "d", "", false});
    const tag_list none;
    CHECK(replication_rule_for(c, "logs/x", none)->id == "prefix");
    CHECK(replication_rule_for(c, "other", none) == nullptr);
    CHECK(replication_rule_for(c, "other", {{"rep", "yes"}})->id == "tag");
    CHECK(replication_rule_for(c, "other", {{"rep", "no"}}) == nullptr);
    CHECK(replication_rule_for(c, "img/1", {{"a", "1"}}) == nullptr);
    CHECK(replication_rule_for(c, "img/1", {{"b", "2"}, {"x", "y"}, {"a", "1"}})->id == "and");
    CHECK(replication_rule_for(c, "doc/1", {{"a", "1"}, {"b", "2"}}) == nullptr);
    c.rules[3].enabled = true;
    CHECK(replication_rule_for(c, "anything", none)->id == "off");
}

TEST_CASE("replication: rule_for picks the highest priority, the first on a tie") {
    replication_config c;
    c.rules.push_back({"low", 1, true, "", {}, "d1", "", false});
    c.rules.push_back({"high", 5, true, "a/", {}, "d2", "", false});
    c.rules.push_back({"tie", 5, true, "", {}, "d3", "", false});
    CHECK(replication_rule_for(c, "a/k", {})->id == "high");
    CHECK(replication_rule_for(c, "b/k", {})->id == "tie");
    c.rules[1].enabled = false;
    CHECK(replication_rule_for(c, "a/k", {})->id == "tie");
    CHECK(replication_rule_for(replication_config{}, "a", {}) == nullptr);
}
