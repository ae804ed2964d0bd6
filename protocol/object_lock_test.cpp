// Unit tests of S3 Object Lock (docs/bucket-configuration.md B-L1, B-L3..B-L6): the lock
// configuration, retention and legal-hold documents, version locks as metadata entries, the lock a
// write asks for, and the refusals of deletes and retention changes.
#include "protocol/object_lock.hpp"

#include <chrono>
#include <doctest/doctest.h>
#include <map>

using namespace ifmatch::protocol;

namespace {

constexpr std::int64_t day = 86'400'000;
constexpr std::int64_t t2030 = 1'893'456'000'000; // 2030-01-01T00:00:00.000Z
constexpr std::int64_t now = t2030 - 10 * day;

std::string lock_doc(std::string_view inner) {
    return "<ObjectLockConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">" +
           std::string(inner) + "</ObjectLockConfiguration>";
}

std::string with_rule(std::string_view retention) {
    return lock_doc("<ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention>" +
                    std::string(retention) + "</DefaultRetention></Rule>");
}

header_lookup headers(std::map<std::string, std::string> m) {
    return [m = std::move(m)](std::string_view name) -> std::optional<std::string_view> {
        auto it = m.find(std::string(name));
        if (it == m.end()) {
            return std::nullopt;
        }
        return std::string_view(it->second);
    };
}

std::string field(const s3_error &e, std::string_view name) {
    for (const auto &[k, v] : e.fields) {
        if (k == name) {
            return v;
        }
    }
    return {};
}

lock_write_context lock_bucket(std::optional<lock_config> def = std::nullopt) {
    return lock_write_context{true, std::move(def), now, true};
}

version_lock retained(std::string mode, std::int64_t until, bool hold = false) {
    return version_lock{std::move(mode), until, hold};
}

} // namespace

// ---- PutObjectLockConfiguration ---------------------------------------------------------------

TEST_CASE("object lock config: Enabled alone, and with a Days or Years default retention") {
    auto bare = parse_lock_config(lock_doc("<ObjectLockEnabled>Enabled</ObjectLockEnabled>"));
    REQUIRE(bare.has_value());
    CHECK(*bare == lock_config{true, std::nullopt, std::nullopt, std::nullopt});

    auto days = parse_lock_config(with_rule("<Mode>GOVERNANCE</Mode><Days>30</Days>"));
    REQUIRE(days.has_value());
    CHECK(days->mode == "GOVERNANCE");
    CHECK(days->days == 30);
    CHECK_FALSE(days->years);

    auto years = parse_lock_config(with_rule("<Years>7</Years><Mode>COMPLIANCE</Mode>"));
    REQUIRE(years.has_value());
    CHECK(years->mode == "COMPLIANCE");
    CHECK(years->years == 7);
    CHECK_FALSE(years->days);
}

TEST_CASE("object lock config: MalformedXML for bad documents") {
    const char *bad[] = {
        "not xml",
        "<LifecycleConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled>"
        "</LifecycleConfiguration>",
        "<ObjectLockConfiguration/>",
        "<ObjectLockConfiguration><ObjectLockEnabled>Disabled</ObjectLockEnabled>"
        "</ObjectLockConfiguration>",
        "<ObjectLockConfiguration><ObjectLockEnabled>enabled</ObjectLockEnabled>"
        "</ObjectLockConfiguration>",
    };
    for (const char *doc : bad) {
        CAPTURE(doc);
        auto r = parse_lock_config(doc);
        REQUIRE(r.has_error());
        CHECK(r.error().code == s3_errc::malformed_xml);
    }
    const char *bad_rules[] = {
        "<Mode>GOVERNANCE</Mode><Days>1</Days><Years>1</Years>", // both periods
        "<Mode>GOVERNANCE</Mode>",                               // no period
        "<Days>1</Days>",                                        // no mode
        "<Mode>governance</Mode><Days>1</Days>",                 // unknown mode
        "<Mode>GOVERNANCE</Mode><Days>one</Days>",               // not an integer
        "<Mode>GOVERNANCE</Mode><Days>1.5</Days>",
    };
    for (const char *inner : bad_rules) {
        CAPTURE(inner);
        auto r = parse_lock_config(with_rule(inner));
        REQUIRE(r.has_error());
        CHECK(r.error().code == s3_errc::malformed_xml);
    }
    auto empty_rule =
        parse_lock_config(lock_doc("<ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule/>"));
    REQUIRE(empty_rule.has_error());
    CHECK(empty_rule.error().code == s3_errc::malformed_xml);
}

TEST_CASE("object lock config: InvalidArgument for a period that is not positive or too long") {
    for (const char *period : {"<Days>0</Days>", "<Days>-5</Days>", "<Years>0</Years>"}) {
        CAPTURE(period);
        auto r = parse_lock_config(with_rule("<Mode>COMPLIANCE</Mode>" + std::string(period)));
        REQUIRE(r.has_error());
        CHECK(r.error().code == s3_errc::invalid_argument);
        CHECK(r.error().text() == "Default retention period must be a positive integer value.");
        CHECK((field(r.error(), "ArgumentName") == "Days" ||
               field(r.error(), "ArgumentName") == "Years"));
    }
    for (const char *period :
         {"<Days>36501</Days>", "<Years>101</Years>", "<Days>99999999999999999999</Days>"}) {
        CAPTURE(period);
        auto r = parse_lock_config(with_rule("<Mode>COMPLIANCE</Mode>" + std::string(period)));
        REQUIRE(r.has_error());
        CHECK(r.error().code == s3_errc::invalid_argument);
    }
    CHECK(parse_lock_config(with_rule("<Mode>COMPLIANCE</Mode><Days>36500</Days>")).has_value());
    CHECK(parse_lock_config(with_rule("<Mode>COMPLIANCE</Mode><Years>100</Years>")).has_value());
}

TEST_CASE("object lock config: render is GetObjectLockConfiguration's body and round-trips") {
    const lock_config configs[] = {
        {true, std::nullopt, std::nullopt, std::nullopt},
        {true, "GOVERNANCE", 30, std::nullopt},
        {true, "COMPLIANCE", std::nullopt, 2},
    };
    for (const auto &c : configs) {
        const auto xml = render_lock_config(c);
        CAPTURE(xml);
        CHECK(xml.find("<ObjectLockEnabled>Enabled</ObjectLockEnabled>") != std::string::npos);
        auto back = parse_lock_config(xml);
        REQUIRE(back.has_value());
        CHECK(*back == c);
    }
    CHECK(render_lock_config(configs[1])
              .find("<Rule><DefaultRetention><Mode>GOVERNANCE</Mode>"
                    "<Days>30</Days></DefaultRetention></Rule>") != std::string::npos);
}

// ---- retention and legal hold documents -------------------------------------------------------

TEST_CASE("object lock, retention document: parse, remove, render") {
    auto r = parse_retention("<Retention><Mode>COMPLIANCE</Mode>"
                             "<RetainUntilDate>2030-01-01T00:00:00Z</RetainUntilDate></Retention>",
                             now);
    REQUIRE(r.has_value());
    REQUIRE(r->has_value());
    CHECK(**r == retention{"COMPLIANCE", t2030});

    auto removal =
        parse_retention("<Retention xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"/>", now);
    REQUIRE(removal.has_value());
    CHECK_FALSE(removal->has_value());

    const auto xml = render_retention(retention{"GOVERNANCE", t2030});
    CHECK(xml.find("<Mode>GOVERNANCE</Mode>") != std::string::npos);
    CHECK(xml.find("<RetainUntilDate>2030-01-01T00:00:00.000Z</RetainUntilDate>") !=
          std::string::npos);
    auto back = parse_retention(xml, now);
    REQUIRE(back.has_value());
    CHECK(*back == std::optional<retention>{retention{"GOVERNANCE", t2030}});
}

TEST_CASE("object lock, retention document: MalformedXML; InvalidArgument for a past date") {
    const char *bad[] = {
        "<Retention><Mode>GOVERNANCE</Mode></Retention>",
        "<Retention><RetainUntilDate>2030-01-01T00:00:00Z</RetainUntilDate></Retention>",
        "<Retention><Mode>LOCKED</Mode><RetainUntilDate>2030-01-01T00:00:00Z</RetainUntilDate>"
        "</Retention>",
        "<Retention><Mode>GOVERNANCE</Mode><RetainUntilDate>1893456000</RetainUntilDate>"
        "</Retention>",
        "<LegalHold><Status>ON</Status></LegalHold>",
        "<Retention>",
    };
    for (const char *doc : bad) {
        CAPTURE(doc);
        auto r = parse_retention(doc, now);
        REQUIRE(r.has_error());
        CHECK(r.error().code == s3_errc::malformed_xml);
    }
    auto past = parse_retention("<Retention><Mode>GOVERNANCE</Mode>"
                                "<RetainUntilDate>2030-01-01T00:00:00Z</RetainUntilDate>"
                                "</Retention>",
                                t2030);
    REQUIRE(past.has_error());
    CHECK(past.error().code == s3_errc::invalid_argument);
    CHECK(past.error().text() == "The retain until date must be in the future!");
}

TEST_CASE("object lock, legal hold document: ON and OFF, anything else MalformedXML") {
    CHECK(parse_legal_hold("<LegalHold><Status>ON</Status></LegalHold>").value() == true);
    CHECK(parse_legal_hold("<LegalHold xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                           "<Status>OFF</Status></LegalHold>")
              .value() == false);
    CHECK(parse_legal_hold(render_legal_hold(true)).value() == true);
    CHECK(parse_legal_hold(render_legal_hold(false)).value() == false);
    for (const char *doc : {"<LegalHold><Status>on</Status></LegalHold>", "<LegalHold/>",
                            "<Retention><Status>ON</Status></Retention>", ""}) {
        CAPTURE(doc);
        auto r = parse_legal_hold(doc);
        REQUIRE(r.has_error());
        CHECK(r.error().code == s3_errc::malformed_xml);
    }
}

// ---- version locks as metadata entries --------------------------------------------------------

TEST_CASE("version lock: set_lock writes the header-named entries and lock_of reads them back") {
    metadata_entries extra{{"x-amz-meta-a", "1"}, {"x-amz-object-lock-legal-hold", "ON"}};
    const version_lock lock{"COMPLIANCE", t2030 + 5, true};
    set_lock(extra, lock);
    CHECK(extra == metadata_entries{
                       {"x-amz-meta-a", "1"},
                       {"x-amz-object-lock-mode", "COMPLIANCE"},
                       {"x-amz-object-lock-retain-until-date", "2030-01-01T00:00:00.005Z"},
                       {"x-amz-object-lock-legal-hold", "ON"},
                   });
    CHECK(lock_of(extra) == lock);

    set_lock(extra, version_lock{});
    CHECK(extra == metadata_entries{{"x-amz-meta-a", "1"}});
    CHECK(lock_of(extra) == version_lock{});
}

TEST_CASE("version lock: lock_of ignores half a retention and unknown values") {
    CHECK(lock_of({{"x-amz-object-lock-mode", "GOVERNANCE"}}) == version_lock{});
    CHECK(lock_of({{"x-amz-object-lock-retain-until-date", "2030-01-01T00:00:00.000Z"}}) ==
          version_lock{});
    CHECK(lock_of({{"x-amz-object-lock-mode", "GOVERNANCE"},
                   {"x-amz-object-lock-retain-until-date", "garbage"}}) == version_lock{});
    CHECK(lock_of({{"x-amz-object-lock-legal-hold", "OFF"}}).legal_hold == false);
}

TEST_CASE("version lock: retention_of gives the retention or NoSuchObjectLockConfiguration") {
    CHECK(retention_of(retained("GOVERNANCE", t2030)).value() == retention{"GOVERNANCE", t2030});
    auto none = retention_of(version_lock{std::nullopt, std::nullopt, true});
    REQUIRE(none.has_error());
    CHECK(none.error().code == s3_errc::no_such_object_lock_configuration);
    CHECK(none.error().status() == 404);
}

// ---- write headers ----------------------------------------------------------------------------

TEST_CASE("lock headers: an explicit retention and legal hold") {
    auto r = lock_from_headers(
        headers({{"x-amz-object-lock-mode", "COMPLIANCE"},
                 {"x-amz-object-lock-retain-until-date", "2030-01-01T00:00:00.000Z"},
                 {"x-amz-object-lock-legal-hold", "ON"}}),
        lock_bucket());
    REQUIRE(r.has_value());
    CHECK(*r == version_lock{"COMPLIANCE", t2030, true});

    auto none = lock_from_headers(headers({}), lock_bucket());
    REQUIRE(none.has_value());
    CHECK(*none == version_lock{});
}

TEST_CASE("lock headers B-L5: a bucket without Object Lock refuses any of them") {
    lock_write_context plain{false, std::nullopt, now, true};
    for (const char *h : {"x-amz-object-lock-mode", "x-amz-object-lock-retain-until-date",
                          "x-amz-object-lock-legal-hold"}) {
        CAPTURE(h);
        auto r = lock_from_headers(headers({{h, "x"}}), plain);
        REQUIRE(r.has_error());
        CHECK(r.error().code == s3_errc::invalid_request);
        CHECK(r.error().text() == "Bucket is missing ObjectLockConfiguration");
    }
    CHECK(lock_from_headers(headers({}), plain).value() == version_lock{});
}

TEST_CASE("lock headers: bad mode, bad hold, half a retention, bad or past dates") {
    auto mode = lock_from_headers(
        headers({{"x-amz-object-lock-mode", "governance"},
                 {"x-amz-object-lock-retain-until-date", "2030-01-01T00:00:00Z"}}),
        lock_bucket());
    REQUIRE(mode.has_error());
    CHECK(mode.error().text() == "Unknown wormMode directive.");
    CHECK(field(mode.error(), "ArgumentValue") == "governance");

    auto hold =
        lock_from_headers(headers({{"x-amz-object-lock-legal-hold", "YES"}}), lock_bucket());
    REQUIRE(hold.has_error());
    CHECK(hold.error().code == s3_errc::invalid_argument);

    for (const char *h : {"x-amz-object-lock-mode", "x-amz-object-lock-retain-until-date"}) {
        CAPTURE(h);
        const char *value =
            h == std::string_view("x-amz-object-lock-mode") ? "GOVERNANCE" : "2030-01-01T00:00:00Z";
        auto r = lock_from_headers(headers({{h, value}}), lock_bucket());
        REQUIRE(r.has_error());
        CHECK(r.error().code == s3_errc::invalid_argument);
        CHECK(r.error().text() == "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode "
                                  "must both be supplied");
    }

    auto bad_date = lock_from_headers(headers({{"x-amz-object-lock-mode", "GOVERNANCE"},
                                               {"x-amz-object-lock-retain-until-date", "abc"}}),
                                      lock_bucket());
    REQUIRE(bad_date.has_error());
    CHECK(bad_date.error().code == s3_errc::invalid_argument);
    CHECK(bad_date.error().text() == "The retain until date must be provided in ISO 8601 format");
    CHECK(field(bad_date.error(), "ArgumentName") == "x-amz-object-lock-retain-until-date");
    CHECK(field(bad_date.error(), "ArgumentValue") == "abc");

    for (const char *date : {"2029-12-22T00:00:00Z", "2020-01-01T00:00:00.000Z"}) {
        CAPTURE(date); // `now` is 2029-12-22T00:00:00Z: equal is not in the future
        auto past = lock_from_headers(headers({{"x-amz-object-lock-mode", "COMPLIANCE"},
                                               {"x-amz-object-lock-retain-until-date", date}}),
                                      lock_bucket());
        REQUIRE(past.has_error());
        CHECK(past.error().code == s3_errc::invalid_argument);
        CHECK(past.error().text() == "The retain until date must be in the future!");
    }
}

TEST_CASE("lock headers: the bucket default applies when the request sets no retention") {
    const lock_config days{true, "GOVERNANCE", 3, std::nullopt};
    const lock_config years{true, "COMPLIANCE", std::nullopt, 2};
    CHECK(lock_from_headers(headers({}), lock_bucket(days)).value() ==
          version_lock{"GOVERNANCE", now + 3 * day, false});
    CHECK(lock_from_headers(headers({}), lock_bucket(years)).value() ==
          version_lock{"COMPLIANCE", now + 2 * 365 * day, false});
    CHECK(lock_from_headers(headers({{"x-amz-object-lock-legal-hold", "ON"}}), lock_bucket(days))
              .value() == version_lock{"GOVERNANCE", now + 3 * day, true});
    // An explicit retention wins over the default, even a shorter one.
    CHECK(lock_from_headers(
              headers({{"x-amz-object-lock-mode", "GOVERNANCE"},
                       {"x-amz-object-lock-retain-until-date", "2029-12-23T00:00:00Z"}}),
              lock_bucket(years))
              .value() == version_lock{"GOVERNANCE", now + day, false});
    // A configuration without a default retention locks nothing.
    CHECK(lock_from_headers(headers({}), lock_bucket(lock_config{})).value() == version_lock{});
}

TEST_CASE("lock headers B-L6: locked writes need Content-MD5 or x-amz-checksum-*") {
    const std::string_view message = "Content-MD5 OR x-amz-checksum- HTTP header is required for "
                                     "Put Object requests with Object Lock parameters";
    auto no_integrity = [](std::optional<lock_config> def) {
        auto c = lock_bucket(std::move(def));
        c.has_integrity_header = false;
        return c;
    };
    auto explicit_lock = lock_from_headers(
        headers({{"x-amz-object-lock-mode", "GOVERNANCE"},
                 {"x-amz-object-lock-retain-until-date", "2030-01-01T00:00:00Z"}}),
        no_integrity(std::nullopt));
    REQUIRE(explicit_lock.has_error());
    CHECK(explicit_lock.error().code == s3_errc::invalid_request);
    CHECK(explicit_lock.error().text() == message);

    auto hold = lock_from_headers(headers({{"x-amz-object-lock-legal-hold", "OFF"}}),
                                  no_integrity(std::nullopt));
    REQUIRE(hold.has_error());
    CHECK(hold.error().text() == message);

    auto by_default =
        lock_from_headers(headers({}), no_integrity(lock_config{true, "GOVERNANCE", 1, {}}));
    REQUIRE(by_default.has_error());
    CHECK(by_default.error().text() == message);

    // Nothing to lock: no integrity header needed.
    CHECK(lock_from_headers(headers({}), no_integrity(lock_config{})).has_value());
    CHECK(lock_from_headers(headers({}), no_integrity(std::nullopt)).has_value());
}

// ---- enforcement ------------------------------------------------------------------------------

TEST_CASE("object lock, deletion B-L3: legal hold and COMPLIANCE in force refuse, bypass or not") {
    for (bool bypass : {false, true}) {
        CAPTURE(bypass);
        auto hold = deletion_refusal(version_lock{std::nullopt, std::nullopt, true}, now, bypass);
        REQUIRE(hold);
        CHECK(hold->code == s3_errc::access_denied);
        CHECK(hold->status() == 403);
        CHECK(hold->text() == "Access Denied because object protected by object lock.");
        CHECK(deletion_refusal(retained("COMPLIANCE", t2030), now, bypass));
        // A legal hold outlives its retention.
        CHECK(deletion_refusal(retained("GOVERNANCE", now - day, true), now, bypass));
    }
}

TEST_CASE("object lock, deletion B-L4: GOVERNANCE refuses unless bypassed") {
    auto refused = deletion_refusal(retained("GOVERNANCE", t2030), now, false);
    REQUIRE(refused);
    CHECK(refused->text() == "Access Denied because object protected by object lock.");
    CHECK_FALSE(deletion_refusal(retained("GOVERNANCE", t2030), now, true));
}

TEST_CASE("deletion: no lock, or a retention that has ended, deletes freely") {
    CHECK_FALSE(deletion_refusal(version_lock{}, now, false));
    CHECK_FALSE(deletion_refusal(retained("COMPLIANCE", now), now, false)); // ends at until
    CHECK_FALSE(deletion_refusal(retained("COMPLIANCE", now - 1), now, false));
    CHECK(deletion_refusal(retained("COMPLIANCE", now + 1), now, false));
}

TEST_CASE("object lock, retention change B-L4: COMPLIANCE can only be extended") {
    const auto current = retained("COMPLIANCE", t2030);
    for (bool bypass : {false, true}) {
        CAPTURE(bypass);
        CHECK_FALSE(
            retention_change_refusal(current, retention{"COMPLIANCE", t2030 + day}, now, bypass));
        CHECK_FALSE(retention_change_refusal(current, retention{"COMPLIANCE", t2030}, now, bypass));
        auto shorter =
            retention_change_refusal(current, retention{"COMPLIANCE", t2030 - day}, now, bypass);
        REQUIRE(shorter);
        CHECK(shorter->code == s3_errc::access_denied);
        CHECK(shorter->status() == 403);
        CHECK(retention_change_refusal(current, std::nullopt, now, bypass));
        CHECK(retention_change_refusal(current, retention{"GOVERNANCE", t2030 + day}, now, bypass));
    }
}

TEST_CASE("object lock, retention change B-L4: GOVERNANCE shortened or removed only with bypass") {
    const auto current = retained("GOVERNANCE", t2030);
    CHECK_FALSE(
        retention_change_refusal(current, retention{"GOVERNANCE", t2030 + day}, now, false));
    CHECK(retention_change_refusal(current, retention{"GOVERNANCE", t2030 - day}, now, false));
    CHECK(retention_change_refusal(current, std::nullopt, now, false));
    CHECK(retention_change_refusal(current, retention{"COMPLIANCE", t2030 + day}, now, false));
    CHECK_FALSE(retention_change_refusal(current, retention{"GOVERNANCE", t2030 - day}, now, true));
    CHECK_FALSE(retention_change_refusal(current, std::nullopt, now, true));
    CHECK_FALSE(retention_change_refusal(current, retention{"COMPLIANCE", now + day}, now, true));
}

TEST_CASE("object lock, retention change: none, or an ended retention, can be replaced freely") {
    CHECK_FALSE(
        retention_change_refusal(version_lock{}, retention{"COMPLIANCE", t2030}, now, false));
    CHECK_FALSE(retention_change_refusal(version_lock{}, std::nullopt, now, false));
    const auto ended = retained("COMPLIANCE", now - day);
    CHECK_FALSE(retention_change_refusal(ended, retention{"GOVERNANCE", now + day}, now, false));
    CHECK_FALSE(retention_change_refusal(ended, std::nullopt, now, false));
    // A legal hold does not bind the retention.
    CHECK_FALSE(retention_change_refusal(version_lock{std::nullopt, std::nullopt, true},
                                         retention{"GOVERNANCE", t2030}, now, false));
}

TEST_CASE("versioning B-L1: a lock bucket cannot suspend versioning") {
    auto refused = versioning_change_refusal(true, "Suspended");
    REQUIRE(refused);
    CHECK(refused->code == s3_errc::invalid_bucket_state);
    CHECK(refused->status() == 409);
    CHECK(refused->text() == "An Object Lock configuration is present on this bucket, so the "
                             "versioning state cannot be changed.");
    CHECK_FALSE(versioning_change_refusal(true, "Enabled"));
    CHECK_FALSE(versioning_change_refusal(false, "Suspended"));
}
