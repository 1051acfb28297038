#pragma once
// The operational shell of paybridged: owns the running config, the ERP front, metrics and the
// systemd conversation, on the process's one io_context. The payment orchestration plugs in
// through the front's callbacks and the reload/stop hooks; it never sees signals or sd_notify.
//
// Lifecycle: start() binds the ERP front, installs SIGTERM/SIGINT/SIGHUP handling, starts the
// watchdog keep-alive and sends READY=1. SIGHUP → reload(): a fully valid new config is swapped
// in and hooks get (old, new); otherwise the old one stays and every error is logged.
// SIGTERM/SIGINT → stop(): STOPPING=1, stopping() turns true (new work is refused by the
// orchestration), stop hooks get a deadline to finish in-flight work, then the front closes
// and io_context::run returns; a second signal stops at once.

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "daemon/config.hpp"
#include "protocol/core/expected.hpp"

namespace boost::asio {
class io_context;
}

namespace pb::daemon {

class ErpFront;
class Metrics;
class SystemdNotifier;

class Service {
public:
    using ReloadHook = std::function<void(const Config& old_config, const Config& new_config)>;
    /// Finish in-flight work by `deadline` and call `done` (from the loop); not calling it in
    /// time is allowed: the service stops at the deadline anyway.
    using StopHook = std::function<void(std::chrono::steady_clock::time_point deadline, std::function<void()> done)>;

    struct Options {
        std::chrono::milliseconds stop_grace{20000};  // below systemd's TimeoutStopSec (90 s)
        bool handle_signals = true;
    };

    Service(boost::asio::io_context& io, Config config, Options options);
    Service(boost::asio::io_context& io, Config config);
    ~Service();
    Service(const Service&) = delete;
    Service& operator=(const Service&) = delete;

    /// Binds the ERP front and announces readiness; the error says what could not start.
    Expected<void, std::string> start();

    void on_reload(ReloadHook hook);
    void on_stop(StopHook hook);

    /// Re-reads config().source. Sections that need a restart (erp, ledger.path, http, upstream) keep
    /// their running values and a warning says so.
    Expected<void, ConfigErrors> reload();
    /// Graceful stop (what SIGTERM does). Idempotent.
    void stop();

    const Config& config() const;
    bool stopping() const;
    int exit_code() const;
    ErpFront& erp();
    Metrics& metrics();
    SystemdNotifier& notifier();

    struct Impl;

private:
    std::shared_ptr<Impl> impl_;
};

}  // namespace pb::daemon
