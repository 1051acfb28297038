#pragma once
// Commitment (purchase) cards, issue 7 (seeds commitment-card-sv/-fi, protocol/erp/README.md §7,
// protocol/upstream/README.md §3):
//  - commitment.check asks the service in real time: active and valid, balance, and which
//    lines' categories are blocked; the ERP gets the blocked lines, the allowed total and
//    whether the balance covers it. An unknown, blocked, expired or blank card is 2101.
//  - commitment.pay debits the allowed amount: the payment (tender commitment_card) is `sent`
//    in the ledger before the debit leaves; an answered debit is `approved` with the billing
//    reference and remaining balance, and its receipt lines go to the service through the
//    outbox in the same transaction; a refusal is `declined` with the service's reason.
//  - Never approved offline: no usable answer (deadline, reset, 5xx, malformed) is 2100
//    cannot_verify; the payment is `unknown` and a void of the debit goes through the outbox;
//    when the service acknowledges the void the payment is `declined` (nothing charged).
//    After a restart, a payment left `sent` is treated the same way.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>

#include "adapters/upstream_client.hpp"
#include "daemon/erp_port.hpp"
#include "ledger/ledger.hpp"
#include "ledger/outbox.hpp"

namespace pb::daemon {

struct CommitmentFlowDeps {
    boost::asio::any_io_executor executor;
    ledger::Ledger* ledger = nullptr;
    adapters::UpstreamClient* client = nullptr;  // the commitment service
    ErpPort* port = nullptr;                     // replies and events
    std::function<void()> outbox_poke;           // a message was enqueued
    std::function<std::int64_t()> clock_ms;      // UTC ms
    std::chrono::minutes day_starts_at{0};       // [ledger] day_starts_at (business_day.hpp)
};

class CommitmentFlow {
public:
    explicit CommitmentFlow(CommitmentFlowDeps deps);
    ~CommitmentFlow();
    CommitmentFlow(const CommitmentFlow&) = delete;
    CommitmentFlow& operator=(const CommitmentFlow&) = delete;

    /// At start: every commitment payment left `sent` or `unknown` gets its void queued.
    void recover();
    /// commitment.check / commitment.pay; false for any other request.
    bool handle(const std::string& client, const erp::Request& request);
    /// An outbox message reached its end (delivered or dead): a delivered void declines its payment.
    void on_settled(const ledger::OutboxMessage& message);

    struct Impl;

private:
    std::shared_ptr<Impl> impl_;
};

}  // namespace pb::daemon
