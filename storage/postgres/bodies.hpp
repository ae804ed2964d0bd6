// Bodies in PostgreSQL: small ones inline in bodies.data, larger ones as 1 MiB body_chunks
// written while the upload arrives (staged, then adopted by the commit that names them), read
// back through a REPEATABLE READ snapshot that still sees the chunks if a concurrent commit
// releases the body (so reclamation never takes bytes from a reader, on any replica).
#pragma once

#include "storage/postgres/pool.hpp"
#include "storage/types.hpp"

#include <memory>
#include <string>
#include <vector>

namespace ifmatch::storage::postgres {

// A body_sink: memory up to the inline limit, then staged chunks on a spare connection, or,
// with a `blob_dir`, a staged file there (blob_dir.hpp).
std::unique_ptr<body_sink> new_sink(std::shared_ptr<pool> p, std::size_t inline_limit,
                                    std::string blob_dir);

// What a stored body is made of (read inside the GET's transaction).
struct body_piece {
    std::int64_t body_id = 0;
    std::uint64_t size = 0;
    bool chunked = false;
    std::string data; // when neither chunked nor a file
    std::string file; // a file of the blob directory
};
// Its two queries, queued on `c`, for the body that `body_id_sql` names (an SQL expression over
// `params`; NULL names none), and the pieces read from their rows once they have run.
void queue_body_pieces(connection &c, const std::string &body_id_sql,
                       const std::vector<param> &params, rows *parts, rows *whole);
std::vector<body_piece> pieces_of(const rows &parts, const rows &whole);
bool needs_stream(const std::vector<body_piece> &pieces);

// The segments of `pieces`. `c` is the connection whose REPEATABLE READ transaction read them;
// when a piece is chunked or a file the segments take it over (it is closed and returned to `p`
// once the last segment is gone, so reclamation waits for the reader), else `c` is left alone.
// Files are opened in `blob_dir`. Throws std::runtime_error when a file is missing.
std::vector<body_segment> segments_of(std::vector<body_piece> pieces,
                                      std::unique_ptr<connection> &c, std::weak_ptr<pool> p,
                                      const std::string &blob_dir);

// Sizes of a multipart body's parts, in order.
task<std::vector<std::uint64_t>> part_sizes(connection &c, std::int64_t body_id);
// part_sizes in two halves, as queue_body_pieces.
void queue_part_sizes(connection &c, const std::string &body_id_sql,
                      const std::vector<param> &params, rows *into);
std::vector<std::uint64_t> sizes_of(const rows &r);

} // namespace ifmatch::storage::postgres
