#include "daemon/service.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <csignal>
#include <vector>

#include "daemon/erp_front.hpp"
#include "daemon/log.hpp"
#include "daemon/metrics.hpp"
#include "daemon/systemd_notify.hpp"

namespace pb::daemon {

namespace asio = boost::asio;

struct Service::Impl : std::enable_shared_from_this<Service::Impl> {
    asio::io_context& io;
    Config config;
    Options options;
    SystemdNotifier notifier;
    Metrics metrics;
    std::unique_ptr<ErpFront> erp;
    asio::signal_set signals;
    asio::steady_timer watchdog_timer;
    asio::steady_timer stop_timer;
    std::chrono::microseconds watchdog_period{0};
    std::vector<ReloadHook> reload_hooks;
    std::vector<StopHook> stop_hooks;
    bool stopping = false;
    bool finished = false;
    std::size_t stops_pending = 0;
    Counter& reloads_ok;
    Counter& reloads_failed;
    Counter& watchdog_pings;

    Impl(asio::io_context& io_, Config config_, Options options_)
        : io(io_),
          config(std::move(config_)),
          options(options_),
          signals(io_),
          watchdog_timer(io_),
          stop_timer(io_),
          reloads_ok(metrics.counter("paybridge_config_reloads_total", "Configuration reloads", {{"result", "ok"}})),
          reloads_failed(metrics.counter("paybridge_config_reloads_total", "Configuration reloads",
                                         {{"result", "failed"}})),
          watchdog_pings(metrics.counter("paybridge_watchdog_pings_total", "WATCHDOG=1 keep-alives sent")) {}

    std::string status_text() const {
        return "serving " + std::to_string(config.terminals.size()) + " terminals; ERP " + config.erp.router_endpoint;
    }

    void wait_signal() {
        std::weak_ptr<Impl> weak = weak_from_this();
        signals.async_wait([weak](boost::system::error_code ec, int signo) {
            auto self = weak.lock();
            if (ec || !self) return;
            if (signo == SIGHUP) {
                log::info("PB_SIGNAL_RELOAD", "SIGHUP: reloading " + self->config.source);
                (void)self->reload();
            } else if (self->stopping) {
                log::warn("PB_SIGNAL_STOP_NOW", "second stop signal: stopping without waiting");
                self->finish();
                return;
            } else {
                log::info("PB_SIGNAL_STOP", std::string(signo == SIGTERM ? "SIGTERM" : "SIGINT") + ": stopping");
                self->stop();
            }
            if (!self->finished) self->wait_signal();
        });
    }

    void keep_watchdog() {
        // From the loop itself: a stuck loop stops the keep-alives and systemd restarts us.
        watchdog_timer.expires_after(watchdog_period);
        std::weak_ptr<Impl> weak = weak_from_this();
        watchdog_timer.async_wait([weak](boost::system::error_code ec) {
            auto self = weak.lock();
            if (ec || !self || self->finished) return;
            if (self->notifier.watchdog()) self->watchdog_pings.inc();
            self->keep_watchdog();
        });
    }

    Expected<void, std::string> start() {
        ErpFrontOptions fo;
        fo.router_endpoint = config.erp.router_endpoint;
        fo.pub_endpoint = config.erp.pub_endpoint;
        fo.max_message_bytes = config.erp.max_message_bytes;
        if (config.erp.curve)
            fo.curve = ErpFrontOptions::Curve{config.erp.curve->server_secret_key.reveal(),
                                              config.erp.curve->allowed_clients};
        auto front = ErpFront::open(io, fo);
        if (!front) return unexpected(front.error());
        erp = std::move(*front);
        if (options.handle_signals) {
            signals.add(SIGTERM);
            signals.add(SIGINT);
            signals.add(SIGHUP);
            wait_signal();
        }
        if (auto timeout = SystemdNotifier::watchdog_timeout()) {
            watchdog_period = *timeout / 2;
            notifier.watchdog();
            keep_watchdog();
        }
        log::info("PB_STARTED", "ready: " + summary(config) + "; ERP bound at " + erp->router_endpoint() +
                                    ", events at " + erp->pub_endpoint());
        notifier.ready(status_text());
        return {};
    }

    Expected<void, ConfigErrors> reload() {
        notifier.reloading();
        auto next = load_config(config.source);
        if (!next) {
            reloads_failed.inc();
            for (const auto& e : next.error()) log::error("PB_CONFIG_RELOAD_ERROR", e.to_string());
            log::error("PB_CONFIG_RELOAD_FAILED",
                       "reload of " + config.source + " failed with " + std::to_string(next.error().size()) +
                           " errors; keeping the running configuration");
            notifier.ready(status_text() + "; last reload failed");
            return unexpected(next.error());
        }
        Config fresh = std::move(*next);
        // Bound sockets and the open ledger cannot move under running work.
        auto keep = [&](bool changed, const char* what) {
            if (changed) log::warn("PB_CONFIG_NEEDS_RESTART", std::string(what) + " changed: takes effect at restart");
        };
        keep(!(fresh.erp == config.erp), "[erp]");
        fresh.erp = config.erp;
        keep(fresh.ledger.path != config.ledger.path, "ledger.path");
        fresh.ledger.path = config.ledger.path;
        keep(!(fresh.http == config.http), "[http]");
        fresh.http = config.http;
        // The upstream clients and the outbox sender hold their endpoints and credentials.
        keep(!(fresh.upstream == config.upstream), "[upstream]");
        fresh.upstream = config.upstream;
        Config old = std::exchange(config, std::move(fresh));
        log::set_level(config.log.level);
        reloads_ok.inc();
        log::info("PB_CONFIG_RELOADED", "configuration reloaded: " + summary(config));
        for (const auto& line : split_lines(redacted_dump(config))) log::debug("PB_CONFIG_VALUE", line);
        for (auto& hook : reload_hooks) hook(old, config);
        notifier.ready(status_text());
        return {};
    }

    static std::vector<std::string> split_lines(const std::string& text) {
        std::vector<std::string> out;
        std::size_t start = 0;
        for (std::size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1)
            out.push_back(text.substr(start, nl - start));
        return out;
    }

    void stop() {
        if (stopping) return;
        stopping = true;
        notifier.stopping();
        notifier.status("stopping: finishing in-flight work");
        auto deadline = std::chrono::steady_clock::now() + options.stop_grace;
        stops_pending = stop_hooks.size();
        if (stops_pending == 0) {
            asio::post(io, [weak = weak_from_this()] {
                if (auto self = weak.lock()) self->finish();
            });
            return;
        }
        stop_timer.expires_at(deadline);
        std::weak_ptr<Impl> weak = weak_from_this();
        stop_timer.async_wait([weak](boost::system::error_code ec) {
            auto self = weak.lock();
            if (ec || !self || self->finished) return;
            log::warn("PB_STOP_DEADLINE", std::to_string(self->stops_pending) +
                                              " components did not finish in time; stopping anyway");
            self->finish();
        });
        for (auto& hook : stop_hooks) {
            auto called = std::make_shared<bool>(false);
            hook(deadline, [weak, called] {
                auto self = weak.lock();
                if (!self || *called) return;
                *called = true;
                if (--self->stops_pending == 0) {
                    // Let the hook's own stack unwind before the front goes away.
                    asio::post(self->io, [weak] {
                        if (auto s = weak.lock()) s->finish();
                    });
                }
            });
        }
    }

    void finish() {
        if (finished) return;
        finished = true;
        boost::system::error_code ignored;
        signals.cancel(ignored);
        watchdog_timer.cancel();
        stop_timer.cancel();
        if (erp) erp->close();
        log::info("PB_STOPPED", "stopped");
        // Other components (terminal links) may still hold work on the loop: end it here.
        io.stop();
    }
};

Service::Service(asio::io_context& io, Config config, Options options)
    : impl_(std::make_shared<Impl>(io, std::move(config), options)) {}
Service::Service(asio::io_context& io, Config config) : Service(io, std::move(config), Options{}) {}
Service::~Service() {
    if (impl_->erp) impl_->erp->close();
    boost::system::error_code ignored;
    impl_->signals.cancel(ignored);
    impl_->signals.clear(ignored);
}

Expected<void, std::string> Service::start() { return impl_->start(); }
void Service::on_reload(ReloadHook hook) { impl_->reload_hooks.push_back(std::move(hook)); }
void Service::on_stop(StopHook hook) { impl_->stop_hooks.push_back(std::move(hook)); }
Expected<void, ConfigErrors> Service::reload() { return impl_->reload(); }
void Service::stop() { impl_->stop(); }
const Config& Service::config() const { return impl_->config; }
bool Service::stopping() const { return impl_->stopping; }
int Service::exit_code() const { return 0; }
ErpFront& Service::erp() { return *impl_->erp; }
Metrics& Service::metrics() { return impl_->metrics; }
SystemdNotifier& Service::notifier() { return impl_->notifier; }

}  // namespace pb::daemon
