// paybridge-sim: simulators. `paybridge-sim zvt` plays a ZVT payment terminal,
// `paybridge-sim upstream` the upstream services (protocol/upstream/README.md).
#include <csignal>
#include <cstdio>
#include <iostream>

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "simulators/upstream/server.hpp"
#include "simulators/zvt/server.hpp"

namespace {

constexpr const char* kZvtFooter = R"(
Running it against a real paybridged (technicians):
  1. Start the simulator where the daemon can reach it, e.g.
       paybridge-sim zvt --tcp 127.0.0.1:20007 --journal sim-journal.jsonl --state sim-state.json
     or on a serial line (the daemon's side gets the printed pty path, 9600 8N2):
       paybridge-sim zvt --serial pty --print-ready
  2. Point the daemon's terminal at it (terminal address tcp 127.0.0.1:20007, or the
     serial device printed in the READY line) and run payments from the ERP side.
  3. Provoke outcomes by the amount's last two digits (51 declined 05, 52 no card -> abort
     6C, 53 wrong PIN once, 54 card left inserted, 55 declined 78 card expired, 61..67 other
     card brands); see simulators/README.md.
  4. Inject faults at run time on the control port, e.g.
       echo "fault set drop_after_status_info" | nc 127.0.0.1 <control port>
     Commands: status | fault set NAME[=VALUE] | fault clear [NAME] | fault list | journal | shutdown
  5. The journal (JSON lines) is the terminal's own record of what was really charged:
     compare it with the daemon's ledger.
)";

constexpr const char* kUpstreamFooter = R"(
The commitment, benefit and e-receipt services of protocol/upstream/README.md over HTTP,
for tests and demos:
  paybridge-sim upstream --http 127.0.0.1:20080 --state upstream.json --print-ready
Point the daemon's [upstream.commitment], [upstream.benefit] and [upstream.ereceipt] url at
http://127.0.0.1:20080; the customers' e-receipt pages are GET http://127.0.0.1:20080/r/<receipt id>.
Control port (one command per line, replies end with OK/ERR):
  activate {"card_id":"SK-1","amount":50000,"currency":"SEK","valid_until":"2026-12-31",
            "categories":["food"],"billing_reference":"SOC-118"}
  block CARD | transfer FROM TO | card CARD | debits | receipts | status
  voucher {"voucher_id":"EP-1","amount":50000,"provider_id":"EP-SHOP-1","age_seconds":120}
  vouchers | redemptions
  ereceipts | ereceipt ID | sent | clock advance SECONDS (e-receipts past delete_at are deleted)
  fault set slow=MS | http_5xx=N | reset=N | drop_reply=N | malformed=N | down
  fault clear [NAME] | fault list | shutdown
)";

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"paybridge-sim: card terminal simulators for testing Paybridge"};
    app.require_subcommand(1);
    auto* zvt = app.add_subcommand("zvt", "simulate a ZVT payment terminal (PT side of PA00P015/PA00P016)");
    zvt->footer(kZvtFooter);

    std::string tcp = "127.0.0.1:20007";
    bool no_tcp = false;
    std::string serial, pty_link;
    unsigned baud = 9600;
    std::string framing = "8N2";
    std::string pace = "on";
    std::string scenario_file, journal, state, control = "127.0.0.1:0";
    bool no_control = false, print_ready = false, verbose = false;
    zvt->add_option("--tcp", tcp, "listen for the ECR on HOST:PORT (port 0 = ephemeral)")->capture_default_str();
    zvt->add_flag("--no-tcp", no_tcp, "do not listen on TCP (serial only)");
    zvt->add_option("--serial", serial, "serial line: 'pty' (create a pseudo-terminal pair) or a device path");
    zvt->add_option("--pty-link", pty_link,
                    "with --serial pty: keep a symlink at PATH to the pseudo-terminal (stable across restarts)");
    zvt->add_option("--baud", baud, "serial speed (9600 default, 115200 optional)")->capture_default_str();
    zvt->add_option("--framing", framing, "serial framing")->capture_default_str();
    zvt->add_option("--pace", pace, "pace sent bytes at line speed on serial (on|off)")
        ->check(CLI::IsMember({"on", "off"}))
        ->capture_default_str();
    zvt->add_option("--scenario", scenario_file, "scenario file (.toml or .json): terminal, card, rules, faults");
    zvt->add_option("--journal", journal, "journal file (JSON lines, fsynced per record)");
    zvt->add_option("--state", state, "state file (trace/receipt numbers and batch across restarts)");
    zvt->add_option("--control", control, "control port HOST:PORT (port 0 = ephemeral)")->capture_default_str();
    zvt->add_flag("--no-control", no_control, "no control port");
    zvt->add_flag("--print-ready", print_ready,
                  "print 'READY tcp=H:P serial=PATH control=H:P' on stdout once listening");
    zvt->add_flag("-v,--verbose", verbose, "log every APDU");
    auto* upstream = app.add_subcommand("upstream", "simulate the upstream services (commitment cards, benefit vouchers; protocol/upstream/README.md)");
    upstream->footer(kUpstreamFooter);
    std::string http = "127.0.0.1:20080", up_control = "127.0.0.1:0", up_state, token, today;
    bool up_print_ready = false;
    upstream->add_option("--http", http, "listen for HTTP on HOST:PORT (port 0 = ephemeral)")->capture_default_str();
    upstream->add_option("--control", up_control, "control port HOST:PORT (port 0 = ephemeral)")->capture_default_str();
    upstream->add_option("--state", up_state, "state file (cards, debits, receipts, idempotency keys), rewritten on every change");
    upstream->add_option("--token", token, "require 'Authorization: Bearer TOKEN'");
    upstream->add_option("--today", today, "fix today's date (YYYY-MM-DD) for validity checks");
    upstream->add_flag("--print-ready", up_print_ready, "print 'READY http=H:P control=H:P' on stdout once listening");
    CLI11_PARSE(app, argc, argv);
    if (upstream->parsed()) {
        auto logger = spdlog::stderr_color_mt("sim");
        spdlog::set_default_logger(logger);
        pb::sim::upstream::ServerOptions uo;
        auto h = pb::sim::parse_endpoint(http);
        auto c = pb::sim::parse_endpoint(up_control);
        if (!h || !c) {
            std::cerr << (h ? c.error() : h.error()) << "\n";
            return 2;
        }
        uo.http = *h;
        uo.control = *c;
        uo.state = up_state;
        uo.token = token;
        uo.today = today;
        boost::asio::io_context io;
        auto server = pb::sim::upstream::Server::start(io, std::move(uo));
        if (!server) {
            std::cerr << "paybridge-sim: " << server.error() << "\n";
            return 1;
        }
        spdlog::info("{}", (*server)->ready_line());
        if (up_print_ready) std::cout << (*server)->ready_line() << std::endl;
        boost::asio::signal_set signals(io, SIGINT, SIGTERM);
        signals.async_wait([&](const boost::system::error_code&, int) { io.stop(); });
        io.run();
        return 0;
    }

    auto logger = spdlog::stderr_color_mt("sim");
    spdlog::set_default_logger(logger);
    spdlog::set_level(verbose ? spdlog::level::debug : spdlog::level::info);

    pb::sim::ServerOptions o;
    if (!no_tcp) {
        auto ep = pb::sim::parse_endpoint(tcp);
        if (!ep) {
            std::cerr << ep.error() << "\n";
            return 2;
        }
        o.tcp = *ep;
    }
    if (!no_control) {
        auto ep = pb::sim::parse_endpoint(control);
        if (!ep) {
            std::cerr << ep.error() << "\n";
            return 2;
        }
        o.control = *ep;
    }
    o.serial = serial;
    o.pty_link = pty_link;
    if (!pty_link.empty() && serial != "pty") {
        std::cerr << "paybridge-sim: --pty-link needs --serial pty\n";
        return 2;
    }
    o.baud = baud;
    o.framing = framing;
    o.pace = pace == "on";
    o.journal = journal;
    o.state = state;
    if (!scenario_file.empty()) {
        auto s = pb::sim::load_scenario(scenario_file);
        if (!s) {
            std::cerr << s.error() << "\n";
            return 2;
        }
        o.scenario = std::move(*s);
    }

    boost::asio::io_context io;
    auto server = pb::sim::Server::start(io, std::move(o));
    if (!server) {
        std::cerr << "paybridge-sim: " << server.error() << "\n";
        return 1;
    }
    std::string ready = (*server)->ready_line();
    spdlog::info("{}", ready);
    if (print_ready) {
        std::cout << ready << std::endl;
    }
    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code&, int) { io.stop(); });
    io.run();
    return 0;
}
