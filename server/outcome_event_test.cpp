// event_json writes the same document as nlohmann's dump of to_json (spec D9 persistence).
#include "server/outcome_event.hpp"

#include <doctest/doctest.h>

using namespace ifmatch::server;

namespace {

std::string reference(const outcome_event &e) {
    return to_json(e).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

outcome_event refused() {
    outcome_event e;
    e.id = 18446744073709551615ULL;
    e.time_ms = 1795399484782;
    e.request_id = "00000004360C8830";
    e.access_key = "AKIA";
    e.operation = "PutObject";
    e.bucket = "bkt";
    e.key = "dir/ключ \"q\" \\ \t\n\r\b\f\x01\x1f\x7f 😀";
    e.status = 412;
    e.code = "PreconditionFailed";
    e.conditions = {{"If-Match", "\"abc\""}, {"If-None-Match", "*"}, {"If-Match", "\"later\""}};
    e.failed_condition = "If-Match";
    e.current.exists = true;
    e.current.etag = "\"0cc175b9c0f1b6a831c399e269772661\"";
    e.current.version_id = "null";
    e.current.last_modified_ms = 1795399484771;
    e.current.writer = {"0000000281C897E3", "", "127.0.0.1:37276", "aws-sdk-js/3 é"};
    return e;
}

} // namespace

TEST_CASE("D9 event_json: the bytes of to_json(e).dump() for every shape of event") {
    auto e = refused();
    CHECK(event_json(e) == reference(e));
    e.current.delete_marker = true;
    CHECK(event_json(e) == reference(e));
    e.current = {};
    e.conditions.clear();
    e.code.clear();
    e.status = 304;
    CHECK(event_json(e) == reference(e));
    e.current.exists = true;
    e.current.last_modified_ms = 0; // writer time "" when unknown
    CHECK(event_json(e) == reference(e));
    CHECK(nlohmann::json::parse(event_json(refused()))["current"]["writer"]["remote"] ==
          "127.0.0.1:37276");
}

TEST_CASE("D9 event_json: bytes that are not UTF-8 become U+FFFD instead of failing the batch") {
    for (std::string bad : {"bad\xff\xfe", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
                            "cut\xe2\x82", "\x80", "\xf0\x9f\x98"}) {
        auto e = refused();
        e.current.writer.user_agent = bad;
        std::string out;
        REQUIRE_NOTHROW(out = event_json(e));
        CHECK(out == reference(e));
        CHECK(out.find("\xef\xbf\xbd") != std::string::npos);
        CHECK(nlohmann::json::parse(out)["key"] == e.key);
    }
    auto e = refused();
    e.current.writer.user_agent = "\xe2\x82\xac \xf4\x8f\xbf\xbf \xed\x9f\xbf"; // valid edges
    CHECK(event_json(e) == reference(e));
    CHECK(event_json(e).find("\xef\xbf\xbd") == std::string::npos);
}
