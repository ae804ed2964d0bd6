// Fault rules in the process or in a shared store (see fault_rules.hpp).
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12 reports a false -Wmismatched-new-delete when it inlines asio coroutine frames.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
#include "server/fault_rules.hpp"

#include "server/store_calls.hpp"

#include <atomic>

namespace ifmatch::server {

namespace {

// A stored row back as a rule: its text parsed again, with the row's id and uses left.
std::optional<fault_rule> rule_of(const storage::fault_rule_row &row) {
    auto j = nlohmann::json::parse(row.rule, nullptr, false);
    if (j.is_object()) {
        j.erase("id"); // the row's id is the rule's
        j.erase("count");
    }
    auto parsed = parse_fault_rule(j);
    if (!parsed.rule) {
        return std::nullopt;
    }
    parsed.rule->id = row.id;
    parsed.rule->count = row.count;
    return parsed.rule;
}

} // namespace

namespace {
std::atomic<bool> g_in_store{true};

// Whether the rules live in the store's rows.
bool in_store(const storage::object_store &db) { return db.shared() && g_in_store.load(); }
} // namespace

void keep_fault_rules_in_store(bool on) { g_in_store = on; }

bool take_local_fault(storage::object_store &db, std::string_view operation,
                      std::string_view bucket, std::string_view key,
                      std::optional<fault_rule> &out) {
    if (in_store(db)) {
        return false;
    }
    out = faults().take(operation, bucket, key);
    return true;
}

net::awaitable<std::optional<fault_rule>> take_fault(storage::object_store &db,
                                                     std::string operation, std::string bucket,
                                                     std::string key) {
    std::optional<fault_rule> local;
    if (take_local_fault(db, operation, bucket, key, local)) {
        co_return local;
    }
    auto match = [operation, key](const storage::fault_rule_row &row) {
        auto r = rule_of(row);
        if (!r || !fault_matches(*r, operation, row.bucket, key)) {
            return storage::fault_use::no;
        }
        return r->kind == fault_kind::hold ? storage::fault_use::peek : storage::fault_use::use;
    };
    auto t_call = store_call<std::optional<storage::fault_rule_row>>(
        [&](auto done) { db.take_fault_rule(bucket, match, std::move(done)); });
    auto got = co_await std::move(t_call);
    if (got.has_error() || !*got) {
        co_return std::nullopt;
    }
    co_return rule_of(**got);
}

net::awaitable<protocol::result<fault_rule>> add_fault(storage::object_store &db, fault_rule r) {
    if (!in_store(db)) {
        r.id = faults().add(r);
        co_return r;
    }
    storage::fault_rule_row row{0, r.bucket, to_json(r).dump(), r.count};
    auto a_call = store_call<std::uint64_t>(
        [&](auto done) { db.add_fault_rule(std::move(row), std::move(done)); });
    auto id = co_await std::move(a_call);
    if (id.has_error()) {
        co_return id.error();
    }
    r.id = *id;
    co_return r;
}

net::awaitable<protocol::result<std::vector<fault_rule>>> list_faults(storage::object_store &db) {
    if (!in_store(db)) {
        co_return faults().list();
    }
    auto l_call = store_call<std::vector<storage::fault_rule_row>>(
        [&](auto done) { db.fault_rules(std::move(done)); });
    auto rows = co_await std::move(l_call);
    if (rows.has_error()) {
        co_return rows.error();
    }
    std::vector<fault_rule> out;
    for (const auto &row : *rows) {
        if (auto r = rule_of(row)) out.push_back(std::move(*r));
    }
    co_return out;
}

net::awaitable<protocol::result<std::uint64_t>> remove_faults(storage::object_store &db,
                                                              std::optional<std::uint64_t> id) {
    if (!in_store(db)) {
        if (id) {
            co_return std::uint64_t{faults().remove(*id) ? 1u : 0u};
        }
        auto n = faults().list().size();
        faults().clear();
        co_return static_cast<std::uint64_t>(n);
    }
    auto r_call = store_call<std::uint64_t>(
        [&](auto done) { db.remove_fault_rules(id, std::move(done)); });
    co_return co_await std::move(r_call);
}

} // namespace ifmatch::server
