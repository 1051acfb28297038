#pragma once
// The outbox: messages for upstream services that are not real time (receipt lines for a
// commitment's invoice today; e-receipts and benefit notifications next), stored in the
// ledger so that none is lost when a service is slow or down, or the daemon dies
// (protocol/upstream/README.md §6).
//
// What it promises:
//  - A message is written in the same transaction as the payment it belongs to (callers run
//    outbox_enqueue inside the same unit of work), with an idempotency key that never changes:
//    every attempt, before and after restarts, carries the same key, so the service performs
//    it once however often it arrives.
//  - A message is `pending` until a delivery is acknowledged (`delivered`), the service
//    refuses it for good, or it is older than the policy's dead_after (`dead`). Dead letters
//    stay visible and can be put back (`outbox_retry`).
//  - Failed attempts are retried with exponential backoff (backoff_ms, pure).
// Enqueue, delivery, dead letter and manual retry are journaled on the audit chain
// ("outbox.*" events, subject "outbox/<id>"); individual failed attempts are not.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/ledger.hpp"

namespace pb::ledger {

enum class OutboxState : std::uint8_t { pending, delivered, dead };
std::string_view outbox_state_id(OutboxState s);  // "pending", "delivered", "dead"
std::optional<OutboxState> outbox_state_from_id(std::string_view id);

struct OutboxNew {
    std::string idempotency_key;  // README §1: 1..128 printable ASCII
    std::string service;          // config name: "commitment", "ereceipt", "benefit"
    std::string method = "POST";
    std::string path;             // relative to the service's base URL: "/v1/commitments/receipts"
    std::string body;             // JSON text
    std::string subject;          // what it belongs to, e.g. "payment/12"
};

struct OutboxMessage {
    std::int64_t id = 0;
    std::string idempotency_key, service, method, path, body, subject;
    OutboxState state = OutboxState::pending;
    std::int64_t attempts = 0;
    std::int64_t created_utc_ms = 0;
    std::int64_t next_attempt_utc_ms = 0;
    std::optional<std::int64_t> last_attempt_utc_ms;
    std::string last_error;  // why the last attempt failed ("" after success)
    std::string reply;       // the acknowledging (or refusing) reply body
    std::optional<std::int64_t> done_utc_ms;  // delivered or dead at
    std::optional<std::int64_t> retried_utc_ms;  // last manual retry: the dead-letter age counts from here
};

struct RetryPolicy {
    std::int64_t initial_ms = 1000;             // after the first failure
    std::int64_t max_ms = 5 * 60 * 1000;        // backoff cap
    std::int64_t dead_after_ms = 72LL * 3600 * 1000;  // age (from enqueue) after which a message is dead
};

/// Delay before the next attempt after `failures` failed attempts (>= 1): initial * 2^(n-1),
/// capped at max.
std::int64_t backoff_ms(std::int64_t failures, const RetryPolicy& policy);

/// Writes a message, due at once. The same key with the same service, path and body again is
/// that message, unchanged; with anything different it is Errc::key_conflict.
Result<OutboxMessage> outbox_enqueue(Tx& tx, const OutboxNew& message);
/// Pending messages due at `now` (next attempt <= now), oldest first.
Result<std::vector<OutboxMessage>> outbox_due(Tx& tx, std::int64_t now_utc_ms, std::size_t limit);
/// The earliest next attempt of any pending message.
Result<std::optional<std::int64_t>> outbox_next_due(Tx& tx);
/// pending -> delivered with the acknowledging reply. Already delivered: unchanged.
Result<OutboxMessage> outbox_delivered(Tx& tx, std::int64_t id, std::string_view reply);
/// A failed attempt: `permanent` (the service refused the message itself) or older than
/// dead_after -> dead; otherwise pending with the next attempt after backoff_ms.
Result<OutboxMessage> outbox_failed(Tx& tx, std::int64_t id, std::string_view error, std::string_view reply,
                                    bool permanent, const RetryPolicy& policy);
struct OutboxFilter {
    std::optional<OutboxState> state;
    std::optional<std::string> service;
    std::size_t limit = 1000;
};
/// Newest first.
Result<std::vector<OutboxMessage>> outbox_list(Tx& tx, const OutboxFilter& filter);
Result<OutboxMessage> outbox_get(Tx& tx, std::int64_t id);
/// dead -> pending, due now, attempts kept (same key). `id` empty: every dead letter.
/// A message that is not dead is Errc::invalid_transition.
Result<std::vector<OutboxMessage>> outbox_retry(Tx& tx, std::optional<std::int64_t> id, std::string_view who);

}  // namespace pb::ledger
