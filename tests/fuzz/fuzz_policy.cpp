// Fuzzes the bucket-policy parser (PutBucketPolicy bodies, R-B1..R-B3): the first line is the
// bucket, the rest the JSON document; a parsed policy is then evaluated against a request whose
// action, key and condition values are taken from the document's own strings.
#include "fuzz_common.hpp"
#include "protocol/policy.hpp"

#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    using namespace ifmatch;
    using namespace ifmatch::protocol;
    auto f = fuzz::fields(fuzz::as_view(data, size), 2);
    auto doc = parse_policy(f[1], f[0]);
    if (doc.has_error()) {
        return 0;
    }
    condition_values values{{"s3:if-none-match", "*"}, {"s3:objectcreationoperation", "true"}};
    (void)policy_denies(*doc, "s3:PutObject", object_arn(f[0], "k"), values);
    (void)policy_denies(*doc, "s3:GetObject", object_arn(f[0], "a/b"), {});
    for (auto &st : doc->statements) {
        for (auto &c : st.conditions) {
            for (auto &v : c.values) {
                values[c.key] = v;
                for (auto &a : st.actions) {
                    (void)policy_denies(*doc, a, object_arn(f[0], v), values);
                }
            }
        }
        for (auto &r : st.resources) {
            (void)policy_glob(r, object_arn(f[0], r), false);
        }
    }
    return 0;
}
