#pragma once
// The finance dashboard and the Prometheus endpoint served by paybridged (design.md §6, issue 5).
//
// What it promises:
//  - HTTP/1.1 on the daemon's own executor (no thread of its own), bound to the configured
//    address (127.0.0.1 by default). Routes: GET /metrics (Prometheus text 0.0.4), GET
//    /api/status (the JSON snapshot), GET /healthz ("ok"), GET / (one self-contained HTML page,
//    tables rendered on the server, refreshed from /api/status every 5 s by an inline script).
//    Any other path is 404, any other method 405.
//  - Every request has a read deadline and header/body size limits (431 / 413 on overflow, 408
//    on a request that does not arrive in time); at most `max_connections` are open at once,
//    the next one gets 503 and is closed.
//  - Nothing that looks like a full card number (13-19 digits passing the Luhn check) leaves
//    it: such digit runs in the snapshot are masked before they are rendered or served.
//  - The source's functions run on the executor, one request at a time per connection; a
//    source that throws gives 500 and the daemon goes on.
//
// Threads: start, stop and the destructor run on the executor's thread (or while it is not
// running). Beast stays inside dashboard.cpp: this header pulls in only the executor type.

#include <boost/asio/any_io_executor.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "daemon/config.hpp"
#include "protocol/core/expected.hpp"

namespace pb::daemon {

/// Where the dashboard's content comes from; both are called on the executor per request.
struct DashboardSource {
    /// Prometheus text exposition (Metrics::expose()).
    std::function<std::string()> metrics_text;
    /// {"generated_at", "business_date", "terminals": [...], "takings": [...],
    ///  "takings_totals": [...], "interim": [...]} -- see dashboard_snapshot.hpp.
    std::function<boost::json::value()> snapshot;
};

struct DashboardLimits {
    std::chrono::milliseconds read_timeout{10000};   // whole request (header and body)
    std::chrono::milliseconds write_timeout{10000};
    std::size_t header_limit = 8 * 1024;
    std::size_t body_limit = 4 * 1024;  // GET needs none; a little is tolerated
    std::size_t max_connections = 64;
};

class Dashboard {
public:
    /// Binds and starts accepting; the error names the address that could not be bound.
    /// Port 0 binds an ephemeral port (tests): port() tells which.
    static Expected<std::unique_ptr<Dashboard>, std::string> start(boost::asio::any_io_executor executor,
                                                                   const HttpConfig& http, DashboardSource source,
                                                                   DashboardLimits limits = {});
    ~Dashboard();  // stop()
    Dashboard(const Dashboard&) = delete;
    Dashboard& operator=(const Dashboard&) = delete;

    /// Stops accepting and closes every open connection. Idempotent.
    void stop();
    std::uint16_t port() const;
    /// Connections open now (any thread may read it).
    std::size_t connections() const;

    struct Impl;

private:
    explicit Dashboard(std::shared_ptr<Impl> impl);
    std::shared_ptr<Impl> impl_;
};

}  // namespace pb::daemon
