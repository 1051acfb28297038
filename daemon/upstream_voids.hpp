#pragma once
// Real-time upstream operations are never approved offline (issue 7): an operation whose answer
// was not seen (a commitment debit, a benefit redeem) is undone -- "voided" -- through the
// outbox, and its payment is declined once the service acknowledges the void. The parts both
// flows share: finding what was left unanswered at a restart, queuing the voids in one write,
// and recognising a delivered void.

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/ledger.hpp"
#include "ledger/outbox.hpp"

namespace pb::daemon {

/// The outbox message of a void: `key`, the service's `path` and `body`, about `payment`.
ledger::OutboxNew void_message_of(std::string_view service, std::string_view path, std::string key, std::string body,
                                  ledger::PaymentId payment);

/// Payments of `tender` left `sent` or `unknown` (their operation's answer was never seen).
std::vector<ledger::Payment> unanswered_payments(const ledger::Ledger& ledger, ledger::Tender tender);

/// In one write: each `sent` payment becomes `unknown` (reason `why`) and every one gets the
/// void `void_of` makes for it. The number of voids queued.
ledger::Result<std::size_t> queue_voids(
    ledger::Tx& tx, const std::vector<ledger::Payment>& left, std::string_view why,
    const std::function<ledger::Result<ledger::OutboxNew>(ledger::Tx&, const ledger::Payment&)>& void_of);

/// The payment whose void this settled message is (service and path of the void), when it was
/// delivered; a dead void is logged under `dead_log_id` (its payment stays in the interim).
std::optional<ledger::PaymentId> delivered_void(const ledger::OutboxMessage& m, std::string_view service,
                                                std::string_view path, const char* dead_log_id);

}  // namespace pb::daemon
