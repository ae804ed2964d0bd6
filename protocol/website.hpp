// Static website configuration (PutBucketWebsite / GetBucketWebsite): parsing with S3's validation
// and the document S3 returns. ifmatch stores the configuration and serves no website endpoint
// (docs/bucket-configuration.md B-S3). Pure.
#pragma once

#include "protocol/errors.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ifmatch::protocol {

struct website_routing_rule {
    // Condition (absent when the rule applies to every request)
    std::optional<std::string> key_prefix_equals;
    std::optional<std::string> http_error_code_returned_equals;
    // Redirect
    std::optional<std::string> protocol;
    std::optional<std::string> host_name;
    std::optional<std::string> replace_key_prefix_with;
    std::optional<std::string> replace_key_with;
    std::optional<std::string> http_redirect_code;
};

struct website_configuration {
    std::optional<std::string> redirect_host; // RedirectAllRequestsTo/HostName
    std::optional<std::string> redirect_protocol;
    std::string index_suffix;             // IndexDocument/Suffix
    std::optional<std::string> error_key; // ErrorDocument/Key
    std::vector<website_routing_rule> routing_rules;
};

// At most this many routing rules (S3's documented limit).
constexpr std::size_t max_routing_rules = 50;

// Parses <WebsiteConfiguration>. Errors, with S3's messages: InvalidArgument when neither
// IndexDocument nor RedirectAllRequestsTo is given, for an empty IndexDocument Suffix or one with
// a `/`, and for RedirectAllRequestsTo next to other elements; InvalidRequest for a protocol other
// than http/https, an empty Condition, ReplaceKeyPrefixWith with ReplaceKeyWith, or more than
// max_routing_rules rules; MalformedXML for bad XML, a RedirectAllRequestsTo without HostName, an
// ErrorDocument without Key, an empty RoutingRules or a RoutingRule without Redirect.
result<website_configuration> parse_website_configuration(std::string_view body);

std::string render_website_configuration(const website_configuration &c);

} // namespace ifmatch::protocol
