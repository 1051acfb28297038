#pragma once
// Ledger-internal: one connection plus the journal and payment-row primitives that Reader, Tx
// and verify share. Not part of the ledger's promise; extensions in ledger/*.cpp may use it.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/ledger.hpp"
#include "ledger/sqlite.hpp"

namespace pb::ledger::detail {

/// The hash an event carries: SHA-256(prev_hash | seq | kind | subject | at | body), with
/// fixed-width little-endian integers and NUL separators so fields cannot run into each other.
std::string event_hash(const std::string& prev_hash, std::int64_t seq, std::string_view kind,
                       std::string_view subject, std::int64_t at_utc_ms, std::string_view body);

class Store {
public:
    Store(const std::string& path, std::function<std::int64_t()> clock);

    Db db;
    std::int64_t now() const { return clock_(); }

    /// Appends to the chain and moves the chain head; returns the new seq.
    std::int64_t append(std::string_view kind, std::string_view subject, std::string_view body,
                        std::int64_t* at_out = nullptr);

    std::optional<Payment> load(PaymentId id);
    std::optional<Payment> load_by_key(std::string_view request_key);
    /// Payments matching a WHERE clause ("" for all) with `bind` filling its parameters.
    std::vector<Payment> select(const std::string& where, const std::function<void(Stmt&)>& bind);
    void save(const Payment& p);

    /// Appends a payment event (body from event_body) and applies it to `p`, then saves `p`.
    void record(Payment& p, std::string_view kind, const std::string& body);

private:
    std::function<std::int64_t()> clock_;
};

/// Payment events: "payment.<state>" with a JSON body holding what changed. apply() is the one
/// place that turns events into current state: used when writing and when verify replays.
std::string body_requested(const PaymentRequest& r);
std::string body_result(const TerminalData& d, std::string_view issuer_id);
std::string body_reason(std::string_view reason);
std::string body_by(std::string_view operator_id, const TerminalData& d);
std::string body_resolved(const Resolution& r);
/// Applies a payment event; false if the event is malformed or its transition not allowed.
bool apply(Payment& p, std::string_view kind, std::string_view body, std::int64_t seq, std::int64_t at);

/// Fields compared for verify's replay: every stored column.
bool same_payment(const Payment& a, const Payment& b);

/// Wraps a public entry point: internal SqliteError/std::exception become Errc::storage.
template <class F>
auto guarded(F&& f) -> decltype(f()) {
    try {
        return f();
    } catch (const std::exception& e) {
        return pb::unexpected(Error{Errc::storage, e.what()});
    }
}

}  // namespace pb::ledger::detail
