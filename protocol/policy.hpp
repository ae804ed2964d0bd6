// Bucket policies (spec R-B1..R-B3): parse the IAM-style JSON document of PutBucketPolicy and
// decide whether one of its Deny statements matches a request. Pure: no I/O. ifmatch runs in open
// mode (no identities), so Allow statements are parsed and validated but never needed, and every
// principal named by a statement is taken to include the requester.
#pragma once

#include "protocol/errors.hpp"

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace ifmatch::protocol {

// One test of a Condition block: operator (e.g. StringEquals, with IfExists stripped), key
// (lower-cased), the values (any one may match).
struct policy_condition {
    std::string op;
    bool if_exists = false;
    std::string key;
    std::vector<std::string> values;
};

struct policy_statement {
    bool deny = false;
    bool not_action = false;              // NotAction instead of Action
    std::vector<std::string> actions;     // patterns, e.g. s3:Put*
    bool not_resource = false;            // NotResource instead of Resource
    std::vector<std::string> resources;   // patterns, e.g. arn:aws:s3:::bucket/*
    std::vector<policy_condition> conditions; // all must hold
};

struct policy_document {
    std::vector<policy_statement> statements;
};

// Parses and validates a bucket policy for `bucket`: Version (2012-10-17 or 2008-10-17, optional),
// Statement (an object or a list) with Effect Allow|Deny, Principal, Action|NotAction (string or
// list of `s3:` patterns or `*`), Resource|NotResource naming this bucket (`arn:aws:s3:::bucket`
// or `.../key-pattern`), optional Condition with operators Null, Bool, StringEquals,
// StringNotEquals, StringEqualsIgnoreCase, StringNotEqualsIgnoreCase, StringLike, StringNotLike
// (each optionally ...IfExists). Errors: 400 MalformedPolicy with a message naming the problem.
result<policy_document> parse_policy(std::string_view json, std::string_view bucket);

// The request context keys (lower-case, e.g. "s3:if-none-match") that are present, with their
// values. A key that is not in the map is absent (what `Null: true` tests).
using condition_values = std::map<std::string, std::string>;

// True when a Deny statement matches `action` (e.g. "s3:PutObject"; matched case-insensitively),
// `resource` (e.g. "arn:aws:s3:::bucket/key"; `*` and `?` wildcards, case-sensitive) and all of
// its conditions hold for `values`. IAM semantics: an absent key makes positive operators false
// and negated ones (StringNotEquals, StringNotLike) true; ...IfExists makes an absent key true.
bool policy_denies(const policy_document &doc, std::string_view action,
                   std::string_view resource, const condition_values &values);

// `*`/`?` glob match (`*` any run, `?` one character).
bool policy_glob(std::string_view pattern, std::string_view text, bool ignore_case);

// arn:aws:s3:::bucket/key, the resource of an object operation.
std::string object_arn(std::string_view bucket, std::string_view key);

} // namespace ifmatch::protocol
