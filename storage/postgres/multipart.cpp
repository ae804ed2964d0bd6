// Multipart uploads of the PostgreSQL backend.
#include "storage/postgres/operations.hpp"

namespace ifmatch::storage::postgres {

using protocol::s3_errc;
using protocol::s3_error;

result<upload_info> create_upload(write_txn &, const create_upload_request &) {
    return s3_error(s3_errc::not_implemented);
}
result<upload_info> find_upload(connection &, const std::string &, const std::string &,
                                const std::string &) {
    return s3_error(s3_errc::not_implemented);
}
result<part_info> put_part(write_txn &, const upload_part_request &) {
    return s3_error(s3_errc::not_implemented);
}
result<complete_result> complete_upload(write_txn &, const complete_request &, against_fn) {
    return s3_error(s3_errc::not_implemented);
}
result<bool> abort_upload(write_txn &, const std::string &, const std::string &,
                          const std::string &) {
    return s3_error(s3_errc::not_implemented);
}
result<list_parts_page> list_parts(connection &, const list_parts_request &) {
    return s3_error(s3_errc::not_implemented);
}
result<list_uploads_page> list_uploads(connection &, const list_uploads_request &) {
    return s3_error(s3_errc::not_implemented);
}

} // namespace ifmatch::storage::postgres
