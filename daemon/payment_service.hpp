#pragma once
// The payment orchestration of paybridged (issue 5, design.md §4): ERP requests in, terminal
// operations and ledger writes out, events back to the ERP.
//
// The rules it exists for:
//  - checks that need no write come first; a refused request changes nothing;
//  - one outstanding transaction per terminal, reserved synchronously on the loop;
//  - `sent` is durable before the authorisation leaves (begin_payment + mark_sent in one unit);
//  - the terminal's approving result is durable (evidence event) before ZVT acknowledges it;
//  - the outcome is durable before the ERP hears of it;
//  - after a (re)connect, every sent/unknown payment of the terminal is recovered (repeat
//    receipt) before the terminal takes new work.
//
// Everything runs on one io_context; ledger completions are posted back to it.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>

#include "adapters/zvt_terminal.hpp"
#include "daemon/config.hpp"
#include "daemon/erp_port.hpp"
#include "ledger/ledger.hpp"

namespace pb::daemon {

class Metrics;

struct PaymentServiceDeps {
    boost::asio::any_io_executor executor;
    ledger::Ledger* ledger = nullptr;
    /// Sends a reply to the client that asked (ROUTER identity).
    std::function<void(const std::string& client, std::string json)> reply;
    /// Publishes an event: topic frame + payload frame.
    std::function<void(std::string topic, std::string payload)> publish;
    /// Makes the driver of one terminal; tests inject fakes.
    std::function<std::unique_ptr<adapters::ZvtTerminal>(const TerminalConfig&, adapters::ZvtTerminalCallbacks)>
        make_terminal;
    /// UTC milliseconds (injected for tests).
    std::function<std::int64_t()> clock_ms;
    /// Where payments, replies and terminal states are counted for /metrics (may be null).
    Metrics* metrics = nullptr;
    /// The upstream flows' requests (commitment.*, receipt.*, benefit.*): true when handled
    /// (answered through the port, now or later); false = 2014 not_supported.
    std::function<bool(const std::string& client, const erp::Request& request, ErpPort& port)> upstream;
    /// Sees every event before it is published (e-receipts keep the customer slip and start
    /// the no-choice window on an approved payment). May be empty.
    std::function<void(const erp::EventBody& event)> observe;
};

class PaymentService {
public:
    PaymentService(PaymentServiceDeps deps, const Config& config);
    ~PaymentService();
    PaymentService(const PaymentService&) = delete;
    PaymentService& operator=(const PaymentService&) = delete;

    /// Creates and starts one driver per configured terminal.
    void start();
    /// SIGHUP with a valid new config: added terminals start, changed ones get a new driver
    /// and removed ones stop -- each as soon as it is idle, never in the middle of a payment.
    void reload(const Config& next);
    /// One raw ERP request from `client`.
    void handle(const std::string& client, std::string_view raw);
    /// A request larger than the front accepts.
    void handle_oversize(const std::string& client, std::size_t size);
    /// Graceful stop: refuse new work, let in-flight operations finish until `deadline`,
    /// then stop the drivers (an operation still running is recorded unknown) and call done.
    void stop(std::chrono::steady_clock::time_point deadline, std::function<void()> done);

    /// For the dashboard and terminal.status: {"terminals": [...]}.
    std::string terminals_json() const;
    /// Replies and events for the flows outside the orchestration (the upstream flows).
    ErpPort& port();

    struct Impl;

private:
    std::shared_ptr<Impl> impl_;
};

/// Seeds the ledger from config: issuers (with BIN ranges) and operators with their rights.
ledger::Status seed_ledger(ledger::Ledger& ledger, const Config& config);

}  // namespace pb::daemon
