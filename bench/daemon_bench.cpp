// daemon_bench: the real paybridged, driven through the ERP protocol against in-process
// simulated terminals, with the baselines it is compared to measured in the same run
// (issue 6, Benchmarks 1-5). Not part of ctest: it takes about a minute.
//
//   daemon_bench [--quick] [--ledger PATH] [--cases latency,throughput,serial,startup]
//
// The terminals are pb::sim::Server instances (the simulator's own engine and Asio shell, no
// journal or state file: an instantly approving terminal) on one io_context thread in this
// process; their on_message hook timestamps the authorisation's arrival with the same
// steady clock the ERP side uses, and counts the bytes exchanged on the serial line. The
// daemon is the real binary, started by the integration harness (DaemonProcess), logging at
// info as in production.
//
// Cases:
//   latency     1 terminal: ERP send -> the terminal receives 06 01 (p50/p99/p99.9), and ERP
//               send -> payment.result (p50/p99), against raw one-way ZeroMQ (half a DEALER/
//               ROUTER round trip) + one raw durable SQLite commit, both measured here.
//   throughput  1, 10 and 200 TCP terminals, each always with one payment in flight: approved
//               payments/s against raw single-row commits/s of the same disk. Resident
//               memory of the daemon with the 200 terminals connected.
//   serial      1 terminal on a 9600-baud pseudo-terminal (the simulator paces its bytes):
//               ERP send -> payment.result against the wire time of every byte both sides
//               exchanged (frames and ACKs, 10 bits per byte).
//   startup     spawn -> PB_STARTED (sd_notify READY is sent at the same point) with the
//               ledger at --ledger (e.g. finance_bench --keep's 1,000,000 payments), against
//               the same with an empty ledger.
// Prints markdown tables (bench/run collects them into BENCHMARKS.md).
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/json.hpp>
#include <spdlog/spdlog.h>
#include <zmq.hpp>

#include "bench/baseline.hpp"
#include "protocol/zvt/apdu.hpp"
#include "protocol/zvt/serial_frame.hpp"
#include "simulators/zvt/server.hpp"
#include "tests/integration/daemon_harness.hpp"

namespace {
namespace json = boost::json;
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using pb::bench::percentile;
using pb::daemontest::DaemonProcess;
using pb::daemontest::TempDir;
using pb::daemontest::TerminalSpec;

std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

[[noreturn]] void die(const std::string& why) {
    std::fprintf(stderr, "daemon_bench: %s\n", why.c_str());
    std::exit(1);
}

// ---- simulated terminals ----------------------------------------------------------------

// Terminals on one io_context thread. Serial: one terminal on a pty, paced at 9600 baud.
class TerminalPool {
public:
    TerminalPool(int tcp_terminals, bool serial) : guard_(asio::make_work_guard(io_)) {
        for (int i = 0; i < tcp_terminals + (serial ? 1 : 0); ++i) {
            pb::sim::ServerOptions o;
            if (serial) {
                o.serial = "pty";
                o.baud = 9600;
                o.pace = true;
            } else {
                o.tcp = pb::sim::Endpoint{"127.0.0.1", 0};
            }
            o.scenario.currency = 752;  // SEK, as the daemon's terminals are configured
            o.on_message = [this](bool from_ecr, const pb::zvt::Message& m) { observe(from_ecr, m); };
            auto s = pb::sim::Server::start(io_, std::move(o));
            if (!s) die("simulated terminal: " + s.error());
            // "READY tcp=127.0.0.1:P" or "READY serial=/dev/pts/N"
            const std::string ready = (*s)->ready_line();
            if (auto at = ready.find("tcp=127.0.0.1:"); at != std::string::npos)
                ports.push_back(static_cast<std::uint16_t>(std::stoi(ready.substr(at + 14))));
            if (auto at = ready.find("serial="); at != std::string::npos) serial_path = ready.substr(at + 7);
            servers_.push_back(std::move(*s));
        }
        thread_ = std::thread([this] { io_.run(); });
    }
    ~TerminalPool() {
        guard_.reset();
        asio::post(io_, [this] { servers_.clear(); });
        io_.stop();
        thread_.join();
    }

    std::vector<std::uint16_t> ports;
    std::string serial_path;
    std::atomic<std::int64_t> last_auth_ns{0};  // the latest 06 01 to arrive at any terminal
    std::atomic<std::int64_t> wire_bytes{0};    // serial: frames + the peer's ACK byte, both ways
    std::atomic<bool> completion_acked{false};  // the ECR answered a 06 0F

private:
    void observe(bool from_ecr, const pb::zvt::Message& m) {
        if (from_ecr && m.command == pb::zvt::Command::authorisation) last_auth_ns.store(now_ns());
        if (serial_path.empty()) return;
        const auto frame = pb::zvt::encode_serial_frame(pb::zvt::encode_apdu(pb::zvt::encode_message(m)));
        wire_bytes += static_cast<std::int64_t>(frame.size()) + 1;  // [ZVT-TP] §3.3: each frame is ACKed
        if (!from_ecr && m.command == pb::zvt::Command::completion) completion_sent_ = true;
        if (from_ecr && completion_sent_ && m.command == pb::zvt::Command::positive_ack) {
            completion_sent_ = false;
            completion_acked = true;
        }
    }
    asio::io_context io_;
    asio::executor_work_guard<asio::io_context::executor_type> guard_;
    std::vector<std::unique_ptr<pb::sim::Server>> servers_;
    std::thread thread_;
    bool completion_sent_ = false;  // pool thread only
};

// ---- the ERP side -----------------------------------------------------------------------

// A DEALER for requests and a SUB on "payment.result." (protocol/erp/README.md), pipelined:
// send() does not wait; pump() hands replies and results to the callbacks.
class Erp {
public:
    Erp(const std::string& router, const std::string& pub)
        : ctx_(1), dealer_(ctx_, zmq::socket_type::dealer), sub_(ctx_, zmq::socket_type::sub) {
        dealer_.set(zmq::sockopt::linger, 0);
        sub_.set(zmq::sockopt::linger, 0);
        sub_.set(zmq::sockopt::subscribe, "payment.result.");
        // The subscription must reach the PUB before the first result is published: wait for
        // the handshake, then one request round trip (as tests/integration's ErpClient does).
        const std::string mon = "inproc://bench-sub-monitor";
        ::zmq_socket_monitor(sub_.handle(), mon.c_str(), ZMQ_EVENT_HANDSHAKE_SUCCEEDED);
        zmq::socket_t pair(ctx_, zmq::socket_type::pair);
        pair.connect(mon);
        sub_.connect(pub);
        dealer_.connect(router);
        pair.set(zmq::sockopt::rcvtimeo, 5000);
        zmq::message_t ev, addr;
        if (!pair.recv(ev)) die("no handshake with the event socket " + pub);
        if (ev.more()) (void)pair.recv(addr);
        ::zmq_socket_monitor(sub_.handle(), nullptr, 0);
        if (request({{"type", "ping"}})["ok"] != json::value(true)) die("ping failed");
    }

    std::function<void(const json::object& reply)> on_reply;
    std::function<void(const json::object& result)> on_result;

    std::string send(json::object req) {
        req["v"] = 1;
        const std::string id = "b-" + std::to_string(next_id_++);
        req["id"] = id;
        const std::string frame = json::serialize(req);
        dealer_.send(zmq::message_t(), zmq::send_flags::sndmore);
        dealer_.send(zmq::buffer(frame), zmq::send_flags::none);
        return id;
    }

    /// One poll round of at most `timeout_ms`; false if nothing arrived.
    bool pump(int timeout_ms) {
        zmq::pollitem_t items[] = {{dealer_.handle(), 0, ZMQ_POLLIN, 0}, {sub_.handle(), 0, ZMQ_POLLIN, 0}};
        zmq::poll(items, 2, std::chrono::milliseconds(timeout_ms));
        bool any = false;
        zmq::message_t a, b;
        while (dealer_.recv(a, zmq::recv_flags::dontwait)) {  // ["", json]
            if (!a.more() || !dealer_.recv(b)) continue;
            auto o = json::parse(b.to_string()).as_object();
            if (awaited_ && o["id"] == json::value(*awaited_)) {
                awaited_reply_ = std::move(o);
                awaited_.reset();
            } else if (on_reply) {
                on_reply(o);
            }
            any = true;
        }
        while (sub_.recv(a, zmq::recv_flags::dontwait)) {  // [topic, json]
            if (!a.more() || !sub_.recv(b)) continue;
            if (on_result) on_result(json::parse(b.to_string()).as_object());
            any = true;
        }
        return any;
    }

    /// Sends and waits (10 s) for the reply; other traffic goes to the callbacks meanwhile.
    json::object request(json::object req) {
        awaited_ = send(std::move(req));
        awaited_reply_.clear();
        const auto until = Clock::now() + std::chrono::seconds(10);
        while (awaited_ && Clock::now() < until) pump(50);
        if (awaited_) die("no reply to " + *awaited_);
        return awaited_reply_;
    }

private:
    zmq::context_t ctx_;
    zmq::socket_t dealer_;
    zmq::socket_t sub_;
    std::uint64_t next_id_ = 1;
    std::optional<std::string> awaited_;
    json::object awaited_reply_;
};

std::string str(const json::object& o, std::string_view k) {
    auto* v = o.if_contains(k);
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

json::object payment_start(const std::string& order, int terminal) {
    const std::string n = std::to_string(terminal);
    // Amounts ending in 00 are approved at once by the simulator (simulators/README.md).
    return {{"type", "payment.start"}, {"order_id", order},     {"request_key", order + "#1"},
            {"total", 12300},          {"currency", "SEK"},     {"register", "K" + n},
            {"terminal", "T" + n},     {"operator", "anna"}};
}

// ---- the daemon -------------------------------------------------------------------------

std::vector<TerminalSpec> specs_for(const TerminalPool& pool) {
    std::vector<TerminalSpec> out;
    for (std::size_t i = 0; i < pool.ports.size(); ++i) {
        TerminalSpec t;
        t.id = "T" + std::to_string(i + 1);
        t.register_id = "K" + std::to_string(i + 1);
        t.tcp_port = pool.ports[i];
        out.push_back(t);
    }
    if (!pool.serial_path.empty()) {
        TerminalSpec t;
        t.device = pool.serial_path;
        t.t3_ms = 5000;
        t.t4_ms = 20000;
        out.push_back(t);
    }
    return out;
}

// The integration harness's config, logging at info (production's level, not the tests'
// debug) and optionally with another ledger file.
std::string config_for(const TempDir& dir, const std::vector<TerminalSpec>& terminals, const std::string& ledger = "") {
    std::string c = pb::daemontest::daemon_config(dir, terminals);
    auto replace = [&c](const std::string& from, const std::string& to) {
        if (auto at = c.find(from); at != std::string::npos) c.replace(at, from.size(), to);
    };
    replace("level = \"debug\"", "level = \"info\"");
    if (!ledger.empty()) replace("path = \"" + dir.file("ledger.sqlite") + "\"", "path = \"" + ledger + "\"");
    return c;
}

std::unique_ptr<DaemonProcess> start_daemon(const TempDir& dir, const std::string& config) {
    auto d = std::make_unique<DaemonProcess>(dir, config);
    if (!d->running() || d->router.empty()) die("paybridged did not start:\n" + d->log());
    return d;
}

void wait_all_online(Erp& erp, std::size_t n, std::chrono::seconds deadline) {
    const auto until = Clock::now() + deadline;
    for (;;) {
        auto r = erp.request({{"type", "terminal.status"}});
        std::size_t ready = 0;
        if (r["ok"] == json::value(true))
            for (const auto& t : r["result"].as_object()["terminals"].as_array())
                if (const auto& o = t.as_object();
                    o.if_contains("online") && o.at("online") == json::value(true) &&
                    !(o.if_contains("busy") && o.at("busy") == json::value(true)))
                    ++ready;
        if (ready >= n) return;
        if (Clock::now() >= until) die(std::to_string(ready) + " of " + std::to_string(n) + " terminals online");
        erp.pump(50);
    }
}

long vm_rss_kb(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
    return -1;
}

// CPU time (user + system, clock ticks) of each thread of `pid`, by "tid comm".
std::map<std::string, long> thread_ticks(pid_t pid) {
    std::map<std::string, long> out;
    const std::string base = "/proc/" + std::to_string(pid) + "/task";
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(base, ec)) {
        std::ifstream in(e.path() / "stat");
        std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        const auto open = stat.find('('), close = stat.rfind(')');
        if (open == std::string::npos || close == std::string::npos) continue;
        std::istringstream rest(stat.substr(close + 2));
        std::string field;
        long utime = 0, stime = 0;
        for (int i = 3; i <= 15 && rest >> field; ++i) {
            if (i == 14) utime = std::stol(field);
            if (i == 15) stime = std::stol(field);
        }
        out[e.path().filename().string() + " " + stat.substr(open + 1, close - open - 1)] = utime + stime;
    }
    return out;
}

// "main 85%, 2nd 40%, ...": each thread's share of one CPU between two thread_ticks samples.
std::string cpu_shares(const std::map<std::string, long>& a, const std::map<std::string, long>& b, double seconds) {
    std::string out;
    const double hz = static_cast<double>(::sysconf(_SC_CLK_TCK));
    for (const auto& [k, v] : b) {
        auto it = a.find(k);
        const double share = static_cast<double>(v - (it == a.end() ? 0 : it->second)) / hz / seconds * 100;
        if (share < 1) continue;
        if (!out.empty()) out += ", ";
        out += k.substr(k.find(' ') + 1) + "/" + k.substr(0, k.find(' ')) + " " + std::to_string(static_cast<int>(share)) + "%";
    }
    return out;
}

// ---- output -----------------------------------------------------------------------------

struct Row {
    std::string figure, measured, baseline, ratio, target;
};
std::vector<Row> rows;

std::string fmt(const char* f, double v) {
    char buf[256];
    std::snprintf(buf, sizeof buf, f, v);
    return buf;
}
std::string ms(double us) { return fmt("%.3f ms", us / 1000); }
std::string times(double r) { return fmt("%.2fx", r); }

// ---- cases ------------------------------------------------------------------------------

struct Args {
    bool quick = false;
    std::string ledger;
    std::set<std::string> cases{"latency", "throughput", "serial", "startup"};
};

// Runs one payment of `order` on terminal 1 and waits for its result; the ERP send time and
// the result's arrival, in steady ns.
std::pair<std::int64_t, std::int64_t> one_payment(Erp& erp, const std::string& order) {
    std::int64_t done = 0;
    erp.on_result = [&](const json::object& r) {
        if (str(r, "order_id") != order) return;
        if (str(r, "state") != "approved") die(order + " ended " + str(r, "state"));
        done = now_ns();
    };
    erp.on_reply = [&](const json::object& r) {
        if (r.at("ok") != json::value(true)) die("payment.start refused: " + json::serialize(r));
    };
    const std::int64_t t0 = now_ns();
    erp.send(payment_start(order, 1));
    const auto until = Clock::now() + std::chrono::seconds(30);
    while (!done && Clock::now() < until) erp.pump(100);
    if (!done) die("no result for " + order);
    return {t0, done};
}

void latency_case(const Args& a, const TempDir& dir) {
    const int n = a.quick ? 300 : 3000;
    TerminalPool pool(1, false);
    auto daemon = start_daemon(dir, config_for(dir, specs_for(pool)));
    Erp erp(daemon->router, daemon->pub);
    wait_all_online(erp, 1, std::chrono::seconds(10));
    // The baselines are sampled between the payments, one each per payment, so that they see
    // the same disk and scheduler as the payments do (a shared machine changes by the minute).
    pb::bench::RawCommitter raw(dir.file("raw-latency.db"));
    pb::bench::ZmqEcho echo;
    std::vector<double> to_terminal, end_to_end, zmq_rtt, commit_us;
    for (int i = 0; i < n + 50; ++i) {
        const auto [t0, t2] = one_payment(erp, "L-" + std::to_string(i));
        const std::int64_t t1 = pool.last_auth_ns.load();
        if (t1 < t0 || t1 > t2) die("the authorisation was not seen between send and result");
        const double rtt = echo.round_trip_us(), commit = raw.commit_us();
        if (i < 50) continue;  // warm-up: connections, caches, prepared statements
        to_terminal.push_back(static_cast<double>(t1 - t0) / 1000);
        end_to_end.push_back(static_cast<double>(t2 - t0) / 1000);
        zmq_rtt.push_back(rtt);
        commit_us.push_back(commit);
    }
    daemon.reset();
    std::printf("latency: %d payments, 1 TCP terminal\n", n);
    for (double p : {0.50, 0.99, 0.999}) {
        const double base = percentile(zmq_rtt, p) / 2 + percentile(commit_us, p);
        const double got = percentile(to_terminal, p);
        const std::string name = fmt("p%g", p * 100);
        rows.push_back({"ERP send -> terminal has 06 01, " + name, ms(got),
                        ms(base) + " (one-way ZeroMQ " + ms(percentile(zmq_rtt, p) / 2) + " + durable commit " +
                            ms(percentile(commit_us, p)) + ")",
                        times(got / base), p < 0.9 ? "" : (p < 0.995 ? "p99 < 2 ms, <= 1.5x" : "")});
    }
    for (double p : {0.50, 0.99}) {
        const double got = percentile(end_to_end, p);
        const double base = percentile(zmq_rtt, p) + percentile(commit_us, p);
        rows.push_back({fmt("end-to-end payment (instant approval), p%g", p * 100), ms(got),
                        ms(base) + " (ZeroMQ round trip + durable commit)", times(got / base), ""});
    }
}

struct Throughput {
    double per_second = 0;
    long rss_kb = 0;
};

Throughput run_throughput(const TempDir& dir, int terminals, double seconds) {
    TerminalPool pool(terminals, false);
    auto daemon = start_daemon(dir, config_for(dir, specs_for(pool)));
    Erp erp(daemon->router, daemon->pub);
    wait_all_online(erp, static_cast<std::size_t>(terminals), std::chrono::seconds(60));

    std::vector<long> next(static_cast<std::size_t>(terminals) + 1, 0);
    const std::string tag = "P" + std::to_string(terminals) + "-";
    auto start_next = [&](int t) {
        erp.send(payment_start(tag + std::to_string(t) + "-" + std::to_string(next[static_cast<std::size_t>(t)]++), t));
    };
    long approved = 0, other = 0, refused = 0;
    std::string first_problem;
    erp.on_result = [&](const json::object& r) {
        const std::string order = str(r, "order_id");
        if (order.rfind(tag, 0) != 0) return;
        if (str(r, "state") == "approved") {
            ++approved;
        } else {
            ++other;
            if (first_problem.empty()) first_problem = json::serialize(r);
        }
        const int t = std::stoi(order.substr(tag.size()));
        start_next(t);
    };
    erp.on_reply = [&](const json::object& r) {
        if (r.at("ok") == json::value(true)) return;
        ++refused;
        if (first_problem.empty()) first_problem = json::serialize(r);
    };
    for (int t = 1; t <= terminals; ++t) start_next(t);
    const auto warm_until = Clock::now() + std::chrono::duration<double>(seconds / 4);
    while (Clock::now() < warm_until) erp.pump(10);
    const long before = approved;
    const auto ticks0 = thread_ticks(daemon->pid());
    const auto t0 = Clock::now();
    const auto until = t0 + std::chrono::duration<double>(seconds);
    while (Clock::now() < until) erp.pump(10);
    Throughput out;
    out.per_second = static_cast<double>(approved - before) / std::chrono::duration<double>(Clock::now() - t0).count();
    out.rss_kb = vm_rss_kb(daemon->pid());
    std::printf("throughput %d: paybridged threads' CPU: %s\n", terminals,
                cpu_shares(ticks0, thread_ticks(daemon->pid()), std::chrono::duration<double>(Clock::now() - t0).count())
                    .c_str());
    erp.on_result = nullptr;
    erp.on_reply = nullptr;
    if (other || refused)
        std::fprintf(stderr, "throughput %d: %ld not approved, %ld refused; first: %s\n", terminals, other, refused,
                     first_problem.c_str());
    return out;
}

void throughput_case(const Args& a) {
    const double secs = a.quick ? 2.0 : 8.0;
    long rss_one = 0, rss_200 = 0;
    for (int terminals : {1, 10, 200}) {
        TempDir dir;  // a fresh ledger for each run
        const auto tp = run_throughput(dir, terminals, secs);
        const auto raw = pb::bench::raw_sqlite_commits(dir.file("raw.db"), secs / 2);
        std::printf("throughput: %d terminals %.0f payments/s, raw commits %.0f/s, rss %ld kB\n", terminals,
                    tp.per_second, raw.per_second, tp.rss_kb);
        rows.push_back({"durable payments/s, " + std::to_string(terminals) + " TCP terminal" + (terminals > 1 ? "s" : ""),
                        fmt("%.0f", tp.per_second), fmt("%.0f raw single-row commits/s", raw.per_second),
                        times(tp.per_second / raw.per_second), terminals == 200 ? ">= 3,000/s and >= 1.0x" : ""});
        if (terminals == 1) rss_one = tp.rss_kb;
        if (terminals == 200) rss_200 = tp.rss_kb;
    }
    rows.push_back({"paybridged resident memory (VmRSS), 200 terminals connected", fmt("%.1f MB", static_cast<double>(rss_200) / 1024),
                    fmt("%.1f MB with 1 terminal", static_cast<double>(rss_one) / 1024),
                    times(static_cast<double>(rss_200) / static_cast<double>(rss_one)), "< 50 MB"});
}

void serial_case(const Args& a, const TempDir& dir) {
    const int n = a.quick ? 2 : 5;
    TerminalPool pool(0, true);
    auto daemon = start_daemon(dir, config_for(dir, specs_for(pool)));
    Erp erp(daemon->router, daemon->pub);
    wait_all_online(erp, 1, std::chrono::seconds(30));
    std::vector<double> ratio, took_ms, wire_ms;
    for (int i = 0; i < n; ++i) {
        pool.wire_bytes = 0;
        pool.completion_acked = false;
        const auto [t0, t2] = one_payment(erp, "S-" + std::to_string(i));
        // The ECR's last answer (to 06 0F) may trail payment.result by a few bytes; count them.
        const auto until = Clock::now() + std::chrono::seconds(5);
        while (!pool.completion_acked && Clock::now() < until) std::this_thread::yield();
        const double wire = static_cast<double>(pool.wire_bytes.load()) * 10.0 / 9600.0 * 1000.0;
        took_ms.push_back(static_cast<double>(t2 - t0) / 1e6);
        wire_ms.push_back(wire);
        ratio.push_back(took_ms.back() / wire);
        std::printf("serial payment %d: %.1f ms, %lld bytes on the wire = %.1f ms at 9600 baud\n", i, took_ms.back(),
                    static_cast<long long>(pool.wire_bytes.load()), wire);
    }
    rows.push_back({"authorisation over a 9600-baud pty, median of " + std::to_string(n),
                    fmt("%.0f ms", percentile(took_ms, 0.5)),
                    fmt("%.0f ms wire time of all exchanged bytes (10 bits/byte)", percentile(wire_ms, 0.5)),
                    times(percentile(ratio, 0.5)), "<= 1.2x"});
}

double time_start_ms(const TempDir& dir, const std::string& config) {
    const auto t0 = Clock::now();
    auto d = start_daemon(dir, config);
    const double took = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    d.reset();
    return took;
}

void startup_case(const Args& a) {
    TempDir dir;
    TerminalPool pool(1, false);
    const auto specs = specs_for(pool);
    (void)time_start_ms(dir, config_for(dir, specs));  // creates the empty ledger
    std::vector<double> empty, big;
    for (int i = 0; i < 3; ++i) {
        empty.push_back(time_start_ms(dir, config_for(dir, specs)));
        if (!a.ledger.empty()) big.push_back(time_start_ms(dir, config_for(dir, specs, a.ledger)));
    }
    if (a.ledger.empty()) {
        rows.push_back({"start-up to ready, empty ledger (no --ledger given)", fmt("%.0f ms", percentile(empty, 0.5)),
                        "", "", "< 200 ms with 1,000,000 payments"});
        return;
    }
    std::error_code ec;
    const auto size = std::filesystem::file_size(a.ledger, ec);
    rows.push_back({fmt("start-up to ready (PB_STARTED / READY=1), ledger of %.0f MB, median of 3",
                        static_cast<double>(size) / 1e6),
                    fmt("%.0f ms", percentile(big, 0.5)), fmt("%.0f ms with an empty ledger", percentile(empty, 0.5)),
                    times(percentile(big, 0.5) / percentile(empty, 0.5)), "< 200 ms"});
}

Args parse(int argc, char** argv) {
    Args a;
    for (int i = 1; i < argc; ++i) {
        const std::string k = argv[i];
        if (k == "--quick") {
            a.quick = true;
        } else if (k == "--ledger" && i + 1 < argc) {
            a.ledger = argv[++i];
        } else if (k == "--cases" && i + 1 < argc) {
            a.cases.clear();
            std::stringstream ss(argv[++i]);
            for (std::string c; std::getline(ss, c, ',');) a.cases.insert(c);
        } else {
            std::fprintf(stderr, "usage: daemon_bench [--quick] [--ledger PATH] [--cases latency,throughput,serial,startup]\n");
            std::exit(2);
        }
    }
    return a;
}

}  // namespace

int main(int argc, char** argv) {
    const Args a = parse(argc, argv);
    spdlog::set_level(spdlog::level::warn);  // the in-process terminals
    if (a.cases.count("latency")) {
        TempDir dir;
        latency_case(a, dir);
    }
    if (a.cases.count("throughput")) throughput_case(a);
    if (a.cases.count("serial")) {
        TempDir dir;
        serial_case(a, dir);
    }
    if (a.cases.count("startup")) startup_case(a);

    std::printf("\n| figure | measured | baseline (same run) | ratio | target |\n|---|---|---|---|---|\n");
    for (const auto& r : rows)
        std::printf("| %s | %s | %s | %s | %s |\n", r.figure.c_str(), r.measured.c_str(), r.baseline.c_str(),
                    r.ratio.c_str(), r.target.c_str());
    return 0;
}
