// CopyObject of the PostgreSQL backend.
#include "storage/postgres/operations.hpp"

namespace ifmatch::storage::postgres {

result<write_result> copy_object(write_txn &, const copy_request &, against_fn) {
    return protocol::s3_error(protocol::s3_errc::not_implemented);
}

} // namespace ifmatch::storage::postgres
