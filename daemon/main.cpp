// paybridged: the daemon between the ERP and the card terminals (design.md §1).
#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>

#include <iostream>

#include "daemon/config.hpp"
#include "daemon/log.hpp"
#include "daemon/service.hpp"

namespace {

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

    boost::asio::io_context io(1);
    pb::daemon::Service service(io, std::move(*config));
    if (auto started = service.start(); !started) {
        pb::daemon::log::error("PB_START_FAILED", started.error());
        return 1;
    }
    io.run();
    return service.exit_code();
}
