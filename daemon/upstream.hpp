#pragma once
// The upstream side of paybridged (issue 7): one HTTPS/JSON client per configured service,
// the outbox sender, and the flows that use them (commitment cards today; e-receipts and
// benefit payments plug in the same way: a flow gets its client, the ERP port and the outbox).
// A service without a config section is not configured: its requests are 2014.

#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>

#include "daemon/config.hpp"
#include "daemon/erp_port.hpp"
#include "daemon/metrics.hpp"
#include "ledger/ledger.hpp"
#include "protocol/core/expected.hpp"

namespace pb::daemon {

class Upstream {
public:
    /// Fails (start-up error) if a configured service's TLS material cannot be loaded.
    static Expected<std::unique_ptr<Upstream>, std::string> create(boost::asio::any_io_executor executor,
                                                                   ledger::Ledger& ledger, const Config& config,
                                                                   ErpPort& port, Metrics* metrics = nullptr);
    ~Upstream();
    /// Recovers unanswered real-time operations and starts delivering the outbox.
    void start();
    void stop();
    /// An ERP request of the upstream flows; false if no configured flow takes it.
    bool handle(const std::string& client, const erp::Request& request);
    /// Every event the daemon publishes (the e-receipt flow keeps slips and starts timers).
    void observe(const erp::EventBody& event);

    struct Impl;

private:
    explicit Upstream(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace pb::daemon
