// Listings and key histories of the PostgreSQL backend.
#include "storage/postgres/operations.hpp"

namespace ifmatch::storage::postgres {

using protocol::s3_errc;
using protocol::s3_error;

result<list_page> list_objects(connection &, const list_request &) {
    return s3_error(s3_errc::not_implemented);
}
result<list_versions_page> list_versions(connection &, const list_versions_request &) {
    return s3_error(s3_errc::not_implemented);
}
result<std::vector<object_version>> key_versions(connection &, const std::string &,
                                                 const std::string &) {
    return s3_error(s3_errc::not_implemented);
}
result<std::vector<object_version>> bucket_keys(connection &, const std::string &,
                                                const std::string &, std::size_t) {
    return s3_error(s3_errc::not_implemented);
}

} // namespace ifmatch::storage::postgres
