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

// The write job of db_write: the job function, the awaiting coroutine's handler and the result
// slot in one allocation; finish() resumes the coroutine on its own executor.
template <class T, class Fn, class Handler>
class awaited_write final : public storage::result_job<T> {
public:
    awaited_write(Fn fn, Handler h) : fn_(std::move(fn)), handler_(std::move(h)) {}

private:
    storage::result<T> compute(storage::write_txn &t) override { return fn_(t); }
    void finish(storage::result<T> r) override {
        namespace net = boost::asio;
        auto ex = net::get_associated_executor(handler_);
        net::post(ex, [h = std::move(handler_), r = std::move(r)]() mutable {
            std::move(h)(std::move(r));
        });
    }
    Fn fn_;
    Handler handler_;
};

} // namespace detail

// co_await db_write<T>(store, fn): runs fn(write_txn &) -> result<T> in the writer's next group
// commit. Not a coroutine itself: the job is moved into the initiation at once (no temporaries
// live across the await; docs/architecture.md §4).
template <class T, class Fn> auto db_write(storage::store &s, Fn fn) {
    namespace net = boost::asio;
    return net::async_initiate<const net::use_awaitable_t<> &, void(storage::result<T>)>(
        [&s, fn = std::move(fn)](auto handler) mutable {
            using job = detail::awaited_write<T, Fn, decltype(handler)>;
            s.submit(std::make_unique<job>(std::move(fn), std::move(handler)));
        },
        net::use_awaitable);
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
