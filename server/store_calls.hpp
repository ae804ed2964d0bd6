// Awaitable calls of storage::object_store: the call runs on a thread of the store and the
// coroutine resumes on its own executor (the connection's strand).
//
//   auto r_call = store_call<storage::bucket_info>(
//       [&](auto done) { ctx.db.get_bucket(name, std::move(done)); });
//   auto r = co_await std::move(r_call); // result<bucket_info>
//
// The call is made when the awaitable is first awaited, so references to the coroutine's named
// locals stay valid (docs/architecture.md §4).
#pragma once

#include "storage/object_store.hpp"

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <memory>

namespace ifmatch::server {

// co_await store_await<V>(call): `call(done)` starts an object_store call whose completion takes
// a V; the coroutine resumes with that V.
template <class V, class Call> auto store_await(Call call) {
    namespace net = boost::asio;
    return net::async_initiate<const net::use_awaitable_t<> &, void(V)>(
        [call = std::move(call)](auto handler) mutable {
            auto ex = net::get_associated_executor(handler);
            auto h = std::make_shared<decltype(handler)>(std::move(handler));
            call([h, ex](V r) {
                net::post(ex, [h, r = std::move(r)]() mutable { std::move(*h)(std::move(r)); });
            });
        },
        net::use_awaitable);
}

// A call that answers result<T>.
template <class T, class Call> auto store_call(Call call) {
    return store_await<storage::result<T>>(std::move(call));
}

// A conditional write that answers write_outcome<T> (the result and what a refusal was decided
// against).
template <class T, class Call> auto store_decide(Call call) {
    return store_await<storage::write_outcome<T>>(std::move(call));
}

} // namespace ifmatch::server
