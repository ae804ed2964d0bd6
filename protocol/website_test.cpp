// Unit tests of the website configuration (docs/bucket-configuration.md B-S3).
#include "protocol/website.hpp"

#include <doctest/doctest.h>

using namespace ifmatch::protocol;

namespace {

std::string config(std::string_view inner) {
    return "<WebsiteConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">" +
           std::string(inner) + "</WebsiteConfiguration>";
}

s3_error error_of(std::string_view inner) {
    auto r = parse_website_configuration(config(inner));
    REQUIRE(r.has_error());
    return r.error();
}

std::string field(const s3_error &e, std::string_view name) {
    for (const auto &[k, v] : e.fields) {
        if (k == name) {
            return v;
        }
    }
    return "<absent>";
}

constexpr std::string_view index_doc = "<IndexDocument><Suffix>index.html</Suffix></IndexDocument>";

} // namespace

TEST_CASE("B-S3 website: index, error document and routing rules round trip") {
    const auto body = config(std::string(index_doc) +
                             "<ErrorDocument><Key>error.html</Key></ErrorDocument><RoutingRules>"
                             "<RoutingRule><Condition><KeyPrefixEquals>docs/</KeyPrefixEquals>"
                             "</Condition><Redirect><ReplaceKeyPrefixWith>documents/"
                             "</ReplaceKeyPrefixWith></Redirect></RoutingRule><RoutingRule>"
                             "<Condition><HttpErrorCodeReturnedEquals>404"
                             "</HttpErrorCodeReturnedEquals></Condition><Redirect><Protocol>https"
                             "</Protocol><HostName>example.com</HostName><HttpRedirectCode>301"
                             "</HttpRedirectCode></Redirect></RoutingRule></RoutingRules>");
    auto c = parse_website_configuration(body);
    REQUIRE(c.has_value());
    CHECK(c->index_suffix == "index.html");
    CHECK(c->error_key == std::optional<std::string>("error.html"));
    REQUIRE(c->routing_rules.size() == 2);
    CHECK(c->routing_rules[0].replace_key_prefix_with == std::optional<std::string>("documents/"));
    CHECK(c->routing_rules[1].http_error_code_returned_equals == std::optional<std::string>("404"));
    const auto xml = render_website_configuration(*c);
    CHECK(xml.find("<IndexDocument><Suffix>index.html</Suffix></IndexDocument><ErrorDocument>"
                   "<Key>error.html</Key></ErrorDocument><RoutingRules><RoutingRule><Condition>"
                   "<KeyPrefixEquals>docs/</KeyPrefixEquals></Condition>") != std::string::npos);
    auto again = parse_website_configuration(xml);
    REQUIRE(again.has_value());
    CHECK(render_website_configuration(*again) == xml);
}

TEST_CASE("B-S3 website: redirect of all requests") {
    auto c = parse_website_configuration(
        config("<RedirectAllRequestsTo><HostName>example.com</HostName><Protocol>https</Protocol>"
               "</RedirectAllRequestsTo>"));
    REQUIRE(c.has_value());
    CHECK(c->redirect_host == std::optional<std::string>("example.com"));
    CHECK(render_website_configuration(*c).find(
              "<RedirectAllRequestsTo><HostName>example.com</HostName><Protocol>https</Protocol>"
              "</RedirectAllRequestsTo>") != std::string::npos);
    auto both = error_of("<RedirectAllRequestsTo><HostName>h</HostName></RedirectAllRequestsTo>" +
                         std::string(index_doc));
    CHECK(both.code == s3_errc::invalid_argument);
    CHECK(both.text() == "RedirectAllRequestsTo cannot be provided in conjunction with other "
                         "Routing Rules.");
    CHECK(field(both, "ArgumentName") == "RedirectAllRequestsTo");
    CHECK(
        error_of("<RedirectAllRequestsTo><Protocol>http</Protocol></RedirectAllRequestsTo>").code ==
        s3_errc::malformed_xml);
    CHECK(error_of("<RedirectAllRequestsTo><HostName>h</HostName><Protocol>ftp</Protocol>"
                   "</RedirectAllRequestsTo>")
              .code == s3_errc::invalid_request);
}

TEST_CASE("B-S3 website: S3's validation of the index document and rules") {
    auto none = error_of("<ErrorDocument><Key>e.html</Key></ErrorDocument>");
    CHECK(none.code == s3_errc::invalid_argument);
    CHECK(none.text() ==
          "A value for IndexDocument Suffix must be provided if RedirectAllRequestsTo is empty");
    CHECK(field(none, "ArgumentName") == "IndexDocument");
    auto slash = error_of("<IndexDocument><Suffix>a/index.html</Suffix></IndexDocument>");
    CHECK(slash.code == s3_errc::invalid_argument);
    CHECK(slash.text() == "The IndexDocument Suffix is not well formed");
    CHECK(field(slash, "ArgumentValue") == "a/index.html");
    CHECK(error_of("<IndexDocument><Suffix></Suffix></IndexDocument>").code ==
          s3_errc::invalid_argument);
    CHECK(error_of(std::string(index_doc) + "<ErrorDocument/>").code == s3_errc::malformed_xml);
    CHECK(error_of(std::string(index_doc) + "<RoutingRules/>").code == s3_errc::malformed_xml);
    CHECK(error_of(std::string(index_doc) + "<RoutingRules><RoutingRule><Condition>"
                                            "<KeyPrefixEquals>a</KeyPrefixEquals></Condition>"
                                            "</RoutingRule></RoutingRules>")
              .code == s3_errc::malformed_xml);
    auto both_keys = error_of(std::string(index_doc) +
                              "<RoutingRules><RoutingRule><Redirect><ReplaceKeyPrefixWith>a"
                              "</ReplaceKeyPrefixWith><ReplaceKeyWith>b</ReplaceKeyWith>"
                              "</Redirect></RoutingRule></RoutingRules>");
    CHECK(both_keys.code == s3_errc::invalid_request);
    CHECK(error_of(std::string(index_doc) + "<RoutingRules><RoutingRule><Condition/><Redirect>"
                                            "<HostName>h</HostName></Redirect></RoutingRule>"
                                            "</RoutingRules>")
              .code == s3_errc::invalid_request);
    std::string many = std::string(index_doc) + "<RoutingRules>";
    for (std::size_t i = 0; i <= max_routing_rules; ++i) {
        many += "<RoutingRule><Redirect><HostName>h</HostName></Redirect></RoutingRule>";
    }
    CHECK(error_of(many + "</RoutingRules>").code == s3_errc::invalid_request);
    CHECK(parse_website_configuration("<Website/>").error().code == s3_errc::malformed_xml);
}
