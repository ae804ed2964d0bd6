// Awaitable wrappers over storage's asynchronous interface: the job runs on a storage thread and
// the coroutine resumes on its own executor (the connection's strand). No SQLite here.
#pragma once

#include "storage/store.hpp"

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <functional>
#include <memory>

namespace ifmatch::server {

namespace detail {

template <class T, class Submit> auto store_call(Submit submit) {
    namespace net = boost::asio;
    return net::async_initiate<const net::use_awaitable_t<> &, void(storage::result<T>)>(
        [submit = std::move(submit)](auto handler) mutable {
            auto ex = net::get_associated_executor(handler);
            auto h = std::make_shared<decltype(handler)>(std::move(handler));
            submit([h, ex](storage::result<T> r) {
                net::post(ex, [h, r = std::move(r)]() mutable { std::move(*h)(std::move(r)); });
            });
        },
        net::use_awaitable);
}

} // namespace detail

// co_await db_write<T>(store, fn): runs fn in the writer's next group commit. Not a coroutine
// itself: the job is moved into the initiation at once (no temporaries live across the await).
template <class T>
auto db_write(storage::store &s, std::function<storage::result<T>(storage::write_txn &)> fn) {
    return detail::store_call<T>(
        [&s, fn = std::move(fn)](std::function<void(storage::result<T>)> done) mutable {
            s.write<T>(std::move(fn), std::move(done));
        });
}

// co_await db_read<T>(store, fn): runs fn on a reader connection.
template <class T>
auto db_read(storage::store &s, std::function<storage::result<T>(storage::read_txn &)> fn) {
    return detail::store_call<T>(
        [&s, fn = std::move(fn)](std::function<void(storage::result<T>)> done) mutable {
            s.read<T>(std::move(fn), std::move(done));
        });
}

} // namespace ifmatch::server
