#pragma once
// E-receipts, issue 7 (seed e-receipt-sv, protocol/erp/README.md §7, protocol/upstream/README.md §5):
//  - receipt.start at the sale's first line: the receipt's unguessable URL (128 random bits),
//    its QR code (SVG and text) and display_until (first line + qr_display); the e-receipt
//    service is told through the outbox so that the page waits for the receipt.
//  - receipt.deliver after the payment: print (the lines come back), sms, email (PDF attached
//    or a link, per config), waste_basket (a discarded original; 2106 where the jurisdiction
//    forbids it: Norway), qr. The document (PDF, the paper receipt's lines) goes to the service
//    through the outbox with the deletion date. `remember` keeps the customer's choice;
//    receipt.start with that customer_id suggests it next time.
//  - No choice within choice_timeout after the payment of a started receipt: a QR receipt.
//  - receipt.copy by print, sms or email (never the waste-basket), stating how the original went.
//  - Receipts are deleted for good after retention_days, at start and daily (receipts_purge).

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include "daemon/config.hpp"
#include "daemon/erp_port.hpp"
#include "ledger/ledger.hpp"

namespace pb::daemon {

struct ReceiptFlowDeps {
    boost::asio::any_io_executor executor;
    ledger::Ledger* ledger = nullptr;
    ErpPort* port = nullptr;
    std::function<void()> outbox_poke;
    std::function<std::int64_t()> clock_ms;  // UTC ms
    EreceiptConfig config;
    std::function<std::string()> new_id;  // default: random_receipt_id()
};

class ReceiptFlow {
public:
    explicit ReceiptFlow(ReceiptFlowDeps deps);
    ~ReceiptFlow();
    ReceiptFlow(const ReceiptFlow&) = delete;
    ReceiptFlow& operator=(const ReceiptFlow&) = delete;

    /// Open receipts whose payment is approved get their no-choice window again; the first
    /// deletion round runs; the timer starts.
    void start();
    void stop();
    /// receipt.start / receipt.deliver / receipt.copy; false for any other request.
    bool handle(const std::string& client, const erp::Request& request);
    /// Every event the daemon publishes: customer slips are kept, approved payments start the
    /// no-choice window of their order's receipt.
    void observe(const erp::EventBody& event);

    struct Impl;

private:
    std::shared_ptr<Impl> impl_;
};

/// The receipt's lines (what `print` returns and the PDF shows) from the order's approved
/// payments and the terminal's customer slips; 40 columns.
struct ReceiptTender {
    ledger::Payment payment;
    std::vector<std::string> slip;
};
std::vector<std::string> receipt_lines(const std::string& shop_name, const std::string& order_id,
                                       const std::string& register_id, const std::vector<ReceiptTender>& tenders);
/// A copy: "COPY — original delivered by SMS" on top of the original's lines.
std::vector<std::string> copy_lines(const std::vector<std::string>& original, const std::string& original_channel);

}  // namespace pb::daemon
