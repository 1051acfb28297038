// paybridged: the daemon between the ERP and the card terminals (design.md §1).
#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>

#include <iostream>

#include "daemon/config.hpp"
#include "daemon/log.hpp"
#include "daemon/erp_front.hpp"
#include "daemon/payment_service.hpp"
#include "daemon/service.hpp"
#include "daemon/terminal_factory.hpp"
#include "daemon/upstream.hpp"
#include "ledger/ledger.hpp"

#include <chrono>

namespace {

std::int64_t utc_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

int check_config(const std::string& path) {
    auto config = pb::daemon::load_config(path);
    if (!config) {
        for (const auto& e : config.error()) std::cerr << path << ": " << e.to_string() << "\n";
        std::cerr << "config INVALID: " << config.error().size() << (config.error().size() == 1 ? " error" : " errors")
                  << "\n";
        return 1;
    }
    std::cout << "config OK: " << pb::daemon::summary(*config) << "\n";
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"paybridged: connects the ERP (ZeroMQ) with card terminals (ZVT)"};
    std::string config_path;
    std::string check_path;
    bool foreground = false;
    auto* config_opt = app.add_option("--config,-c", config_path, "configuration file (TOML)");
    app.add_option("--check-config", check_path, "validate FILE, print every error, exit 0 (valid) or 1");
    // paybridged never forks (systemd Type=notify); accepted so scripts can say what they mean.
    app.add_flag("--foreground,-f", foreground, "run in the foreground (always the case)");
    CLI11_PARSE(app, argc, argv);
    (void)foreground;

    if (!check_path.empty()) return check_config(check_path);
    if (!*config_opt) {
        std::cerr << "paybridged: --config FILE is required (or --check-config FILE)\n";
        return 2;
    }

    auto config = pb::daemon::load_config(config_path);
    if (!config) {
        pb::daemon::log::init(pb::daemon::log::choose_target({}), pb::daemon::LogLevel::info);
        for (const auto& e : config.error())
            pb::daemon::log::error("PB_CONFIG_ERROR", config_path + ": " + e.to_string());
        pb::daemon::log::error("PB_START_FAILED", "invalid configuration; not starting");
        return 1;
    }
    pb::daemon::log::init(pb::daemon::log::choose_target(config->log), config->log.level);
    pb::daemon::log::info("PB_CONFIG_LOADED", "configuration " + config_path + ": " + pb::daemon::summary(*config));
    std::string dump = pb::daemon::redacted_dump(*config);
    for (std::size_t start = 0, nl; (nl = dump.find('\n', start)) != std::string::npos; start = nl + 1)
        pb::daemon::log::debug("PB_CONFIG_VALUE", dump.substr(start, nl - start));

    // The ledger opens (and migrates) before anything is announced ready.
    pb::ledger::Options ledger_options;
    ledger_options.storage = pb::ledger::Storage::file;
    ledger_options.path = config->ledger.path;
    ledger_options.clock = utc_ms;
    auto ledger = pb::ledger::Ledger::open(std::move(ledger_options));
    if (!ledger) {
        pb::daemon::log::error("PB_START_FAILED", "ledger " + config->ledger.path + ": " + ledger.error().message);
        return 1;
    }
    if (auto seeded = pb::daemon::seed_ledger(**ledger, *config); !seeded) {
        pb::daemon::log::error("PB_START_FAILED", "seeding the ledger from config: " + seeded.error().message);
        return 1;
    }

    boost::asio::io_context io(1);
    pb::daemon::Service service(io, *config);
    if (auto started = service.start(); !started) {
        pb::daemon::log::error("PB_START_FAILED", started.error());
        return 1;
    }

    pb::daemon::PaymentServiceDeps deps;
    deps.executor = io.get_executor();
    deps.ledger = ledger->get();
    deps.reply = [&service](const std::string& client, std::string json) { service.erp().reply(client, json); };
    deps.publish = [&service](std::string topic, std::string payload) { service.erp().publish(topic, payload); };
    deps.make_terminal = [&io](const pb::daemon::TerminalConfig& tc, pb::adapters::ZvtTerminalCallbacks cb) {
        return pb::daemon::make_zvt_terminal(io.get_executor(), tc, std::move(cb));
    };
    deps.clock_ms = utc_ms;
    std::unique_ptr<pb::daemon::Upstream> upstream;
    deps.upstream = [&upstream](const std::string& client, const pb::erp::Request& r, pb::daemon::ErpPort&) {
        return upstream && upstream->handle(client, r);
    };
    pb::daemon::PaymentService payments(std::move(deps), *config);
    {
        auto up = pb::daemon::Upstream::create(io.get_executor(), **ledger, *config, payments.port(),
                                               &service.metrics());
        if (!up) {
            pb::daemon::log::error("PB_START_FAILED", up.error());
            return 1;
        }
        upstream = std::move(*up);
    }
    service.erp().on_request(
        [&payments](const pb::daemon::ClientId& client, std::string json) { payments.handle(client, json); });
    service.erp().on_oversize(
        [&payments](const pb::daemon::ClientId& client, std::size_t size) { payments.handle_oversize(client, size); });
    service.on_reload([&payments](const pb::daemon::Config&, const pb::daemon::Config& next) { payments.reload(next); });
    service.on_stop([&payments, &upstream](std::chrono::steady_clock::time_point deadline, std::function<void()> done) {
        upstream->stop();
        payments.stop(deadline, std::move(done));
    });
    payments.start();
    upstream->start();
    io.run();
    return service.exit_code();
}
