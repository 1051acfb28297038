#pragma once
// Benefit payments (wellness-benefit vouchers), issue 7 (seed benefit-payment-sv,
// protocol/erp/README.md §7, protocol/upstream/README.md §5):
//  - benefit.verify asks the service in real time: the voucher must be unused, bought for this
//    shop's provider id, and within its validity (15 minutes after the purchase, configurable).
//    Never approved offline: no usable answer is 2100 cannot_verify. Refusals are 2104.
//  - benefit.redeem verifies again, then records the payment (tender benefit_voucher) `sent`
//    with the voucher, provider and purchase time before the redeem leaves; an answered redeem
//    is `approved` with the redemption id. The amount must be the voucher's (it is fixed); with
//    the order's `total` the reply says what remains to pay on the card (payment.start for the
//    same order), and a voucher worth more than the total is refused before anything happens.
//    No answer: 2100, the payment is `unknown` and the redeem is cancelled through the outbox
//    (then `declined`), as commitment.pay does.
//  - payment.reverse of a benefit payment cancels it at the service inside the cancel window
//    (1 hour from the purchase), payment.refund credits it inside the credit window (7 days);
//    outside: 2105 window_expired. Both need the refund right, as for cards.

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
#include "protocol/upstream/benefit.hpp"

namespace pb::daemon {

struct BenefitFlowDeps {
    boost::asio::any_io_executor executor;
    ledger::Ledger* ledger = nullptr;
    adapters::UpstreamClient* client = nullptr;  // the benefit service
    ErpPort* port = nullptr;
    std::function<void()> outbox_poke;
    std::function<std::int64_t()> clock_ms;  // UTC ms; the windows are measured with it
    std::chrono::minutes day_starts_at{0};
    std::string provider_id;                 // [upstream.benefit] provider_id
    upstream::BenefitWindows windows;        // valid / cancel / credit windows
};

class BenefitFlow {
public:
    explicit BenefitFlow(BenefitFlowDeps deps);
    ~BenefitFlow();
    BenefitFlow(const BenefitFlow&) = delete;
    BenefitFlow& operator=(const BenefitFlow&) = delete;

    /// At start: every benefit payment left `sent` or `unknown` gets its cancel queued.
    void recover();
    /// benefit.verify / benefit.redeem, and payment.reverse / payment.refund of a benefit
    /// payment; false for anything else.
    bool handle(const std::string& client, const erp::Request& request);
    /// A delivered void (cancel of an unanswered redeem) declines its payment.
    void on_settled(const ledger::OutboxMessage& message);

    struct Impl;

private:
    std::shared_ptr<Impl> impl_;
};

}  // namespace pb::daemon
