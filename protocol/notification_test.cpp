// Unit tests of the notification configuration (docs/bucket-configuration.md B-S1).
#include "protocol/notification.hpp"

#include <doctest/doctest.h>

using namespace ifmatch::protocol;

namespace {

std::string config(std::string_view inner) {
    return "<NotificationConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">" +
           std::string(inner) + "</NotificationConfiguration>";
}

std::string queue(std::string_view events, std::string_view filter = "", std::string_view id = "") {
    std::string out = "<QueueConfiguration>";
    if (!id.empty()) {
        out += "<Id>" + std::string(id) + "</Id>";
    }
    out += "<Queue>arn:aws:sqs:us-east-1:123456789012:q</Queue>" + std::string(events);
    if (!filter.empty()) {
        out += "<Filter><S3Key>" + std::string(filter) + "</S3Key></Filter>";
    }
    return out + "</QueueConfiguration>";
}

std::string rule(std::string_view name, std::string_view value) {
    return "<FilterRule><Name>" + std::string(name) + "</Name><Value>" + std::string(value) +
           "</Value></FilterRule>";
}

s3_error error_of(const std::string &body) {
    auto r = parse_notification_configuration(body);
    REQUIRE(r.has_error());
    return r.error();
}

bool contains(const std::string &s, std::string_view part) {
    return s.find(part) != std::string::npos;
}

} // namespace

TEST_CASE("B-S1 notification: an empty configuration") {
    auto c = parse_notification_configuration("<NotificationConfiguration/>");
    REQUIRE(c.has_value());
    CHECK(c->empty());
    CHECK(contains(render_notification_configuration(*c),
                   "<NotificationConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                   "</NotificationConfiguration>"));
}

TEST_CASE("B-S1 notification: targets, filters and their rendering") {
    const auto body =
        config("<CloudFunctionConfiguration><Id>fn</Id><CloudFunction>arn:aws:lambda:us-east-1:1:"
               "function:f:live</CloudFunction><Event>s3:ObjectRemoved:*</Event>"
               "</CloudFunctionConfiguration>" +
               queue("<Event>s3:ObjectCreated:Put</Event><Event>s3:ObjectCreated:Copy</Event>",
                     rule("prefix", "images/") + rule("Suffix", ".jpg"), "q1") +
               "<TopicConfiguration><Topic>arn:aws:sns:us-east-1:1:t</Topic>"
               "<Event>s3:ObjectTagging:*</Event></TopicConfiguration><EventBridgeConfiguration/>");
    auto c = parse_notification_configuration(body);
    REQUIRE(c.has_value());
    REQUIRE(c->targets.size() == 3);
    CHECK(c->event_bridge);
    const auto &q = c->targets[1];
    CHECK(q.kind == "Queue");
    CHECK(q.id == "q1");
    CHECK(q.events.size() == 2);
    REQUIRE(q.filter.size() == 2);
    CHECK(q.filter[1] == std::pair<std::string, std::string>("suffix", ".jpg"));
    // An id is made up when none is sent, the same one for the same target.
    CHECK_FALSE(c->targets[2].id.empty());
    CHECK(parse_notification_configuration(body).value().targets[2].id == c->targets[2].id);
    const auto xml = render_notification_configuration(*c);
    // Topic, Queue, CloudFunction in that order; S3 capitalises the rule names it returns.
    CHECK(xml.find("<TopicConfiguration>") < xml.find("<QueueConfiguration>"));
    CHECK(xml.find("<QueueConfiguration>") < xml.find("<CloudFunctionConfiguration>"));
    CHECK(contains(xml, "<QueueConfiguration><Id>q1</Id><Queue>arn:aws:sqs:us-east-1:"
                        "123456789012:q</Queue><Event>s3:ObjectCreated:Put</Event><Event>"
                        "s3:ObjectCreated:Copy</Event><Filter><S3Key><FilterRule><Name>Prefix"
                        "</Name><Value>images/</Value></FilterRule><FilterRule><Name>Suffix</Name>"
                        "<Value>.jpg</Value></FilterRule></S3Key></Filter></QueueConfiguration>"));
    CHECK(contains(xml, "<EventBridgeConfiguration/>"));
    // The rendered document is accepted again and renders the same.
    auto again = parse_notification_configuration(xml);
    REQUIRE(again.has_value());
    CHECK(render_notification_configuration(*again) == xml);
}

TEST_CASE("B-S1 notification: S3's validation") {
    auto bad_event = error_of(config(queue("<Event>s3:ObjectCreated:Sideways</Event>")));
    CHECK(bad_event.code == s3_errc::invalid_argument);
    CHECK(bad_event.text() == "The event is not supported for notifications");
    CHECK(error_of(config(queue(""))).code == s3_errc::malformed_xml);
    CHECK(error_of(config("<QueueConfiguration><Event>s3:ObjectCreated:*</Event>"
                          "</QueueConfiguration>"))
              .code == s3_errc::malformed_xml);
    CHECK(error_of(config("<Unknown/>")).code == s3_errc::malformed_xml);
    CHECK(error_of("<Notification/>").code == s3_errc::malformed_xml);
    auto bad_name =
        error_of(config(queue("<Event>s3:ObjectCreated:*</Event>", rule("middle", "x"))));
    CHECK(bad_name.text() == "filter rule name must be either prefix or suffix");
    auto twice = error_of(config(
        queue("<Event>s3:ObjectCreated:*</Event>", rule("prefix", "a") + rule("PREFIX", "b"))));
    CHECK(twice.text() == "Cannot specify more than one prefix rule in a filter.");
    // A queue ARN must be an SQS ARN.
    auto arn = error_of(config("<QueueConfiguration><Queue>arn:aws:sns:us-east-1:1:t</Queue>"
                               "<Event>s3:ObjectCreated:*</Event></QueueConfiguration>"));
    CHECK(arn.code == s3_errc::invalid_argument);
    CHECK(arn.text() == "Unable to validate the following destination configurations");
    CHECK(error_of(config("<TopicConfiguration><Topic>not-an-arn</Topic><Event>"
                          "s3:ObjectCreated:*</Event></TopicConfiguration>"))
              .code == s3_errc::invalid_argument);
}

TEST_CASE("B-S1 notification: overlapping configurations") {
    const std::string created_all = "<Event>s3:ObjectCreated:*</Event>";
    const std::string created_put = "<Event>s3:ObjectCreated:Put</Event>";
    const std::string removed = "<Event>s3:ObjectRemoved:*</Event>";
    // The same event type without filters.
    auto same = error_of(config(queue(created_all) + queue(created_put)));
    CHECK(same.code == s3_errc::invalid_argument);
    CHECK(same.text() == "Configurations overlap. Configurations on the same bucket cannot share "
                         "a common event type.");
    // Overlapping prefixes with overlapping (absent) suffixes.
    auto ambiguous = error_of(config(queue(created_all, rule("prefix", "logs/")) +
                                     queue(created_put, rule("prefix", "logs/2024/"))));
    CHECK(ambiguous.text().starts_with("Configuration is ambiguously defined."));
    CHECK(error_of(config(queue(created_all, rule("suffix", ".jpg")) +
                          queue(created_put, rule("suffix", "g"))))
              .code == s3_errc::invalid_argument);
    CHECK(error_of(config(queue(created_all) + queue(created_put, rule("prefix", "a/")))).code ==
          s3_errc::invalid_argument);
    // Disjoint prefixes, disjoint suffixes or different event types are fine.
    CHECK(parse_notification_configuration(config(queue(created_all, rule("prefix", "a/")) +
                                                  queue(created_all, rule("prefix", "b/"))))
              .has_value());
    CHECK(parse_notification_configuration(config(queue(created_all, rule("suffix", ".jpg")) +
                                                  queue(created_all, rule("suffix", ".png"))))
              .has_value());
    CHECK(
        parse_notification_configuration(config(queue(created_all) + queue(removed))).has_value());
}
