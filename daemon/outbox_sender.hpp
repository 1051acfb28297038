#pragma once
// Delivers the ledger's outbox (ledger/outbox.hpp, protocol/upstream/README.md §6) on the
// daemon's executor: due messages go out one at a time through the upstream client of their
// service, each with its idempotency key; a 2xx marks it delivered, a refusal (non-transient
// 4xx) sends it to the dead letters, anything else (no answer, reset, timeout, 408/429/5xx,
// an unconfigured service) is retried with backoff. After each round it sleeps until the
// earliest next attempt or a poke (a new message), whichever comes first. Everything it
// decides is written to the ledger before the next message goes out, so a restart resumes
// with the same keys and nothing is sent twice by us without the key.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>

#include "adapters/upstream_client.hpp"
#include "daemon/metrics.hpp"
#include "ledger/ledger.hpp"
#include "ledger/outbox.hpp"

namespace pb::daemon {

struct OutboxSenderDeps {
    boost::asio::any_io_executor executor;
    ledger::Ledger* ledger = nullptr;
    ledger::RetryPolicy policy;
    /// The client for a service name ("commitment"); nullptr if not configured.
    std::function<adapters::UpstreamClient*(const std::string& service)> client_for;
    /// Called on the loop after a message is durably marked delivered (or dead).
    std::function<void(const ledger::OutboxMessage&)> on_settled;
    /// Longest sleep between rounds even without a due message (safety net).
    std::chrono::milliseconds max_idle{30000};
    /// Optional: paybridge_outbox_{delivered,failed_attempts,dead}_total{service} for /metrics.
    Metrics* metrics = nullptr;
};

class OutboxSender {
public:
    explicit OutboxSender(OutboxSenderDeps deps);
    ~OutboxSender();
    OutboxSender(const OutboxSender&) = delete;
    OutboxSender& operator=(const OutboxSender&) = delete;

    void start();
    /// A message was enqueued: deliver now instead of at the next wake-up.
    void poke();
    void stop();

    struct Counters {
        std::uint64_t delivered = 0, failed_attempts = 0, dead = 0;
    };
    Counters counters() const;

    struct Impl;

private:
    std::shared_ptr<Impl> impl_;
};

}  // namespace pb::daemon
