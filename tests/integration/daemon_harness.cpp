#include "tests/integration/daemon_harness.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include "protocol/erp/event.hpp"
#include "protocol/erp/reply.hpp"

extern char** environ;

namespace pb::daemontest {

namespace {

int remaining_ms(Clock::time_point until) {
    auto left = std::chrono::duration_cast<milliseconds>(until - Clock::now()).count();
    return left < 0 ? 0 : static_cast<int>(left);
}

std::string terminal_toml(const TerminalSpec& t) {
    std::ostringstream o;
    o << "[[terminal]]\nid = \"" << t.id << "\"\nprotocol = \"zvt\"\n";
    if (t.device.empty())
        o << "transport = \"tcp\"\nhost = \"127.0.0.1\"\nport = " << t.tcp_port << "\n";
    else
        o << "transport = \"serial\"\ndevice = \"" << t.device << "\"\nbaud = 9600\nframing = \"8N2\"\n";
    o << "password = \"000000\"\ncurrency = \"" << t.currency << "\"\nregister = \"" << t.register_id
      << "\"\nreceipt_printing = \"ecr\"\n"
      << "t3_ms = " << t.t3_ms << "\nt4_ms = " << t.t4_ms << "\n"
      << "reconnect_initial_ms = 50\nreconnect_max_ms = 200\n\n";
    return o.str();
}

}  // namespace

std::string daemon_config(const TempDir& dir, const std::vector<TerminalSpec>& terminals) {
    std::ostringstream o;
    o << "[erp]\nrouter = \"tcp://127.0.0.1:*\"\npub = \"tcp://127.0.0.1:*\"\nmax_message_bytes = 65536\n\n"
      << "[ledger]\npath = \"" << dir.file("ledger.sqlite") << "\"\ntimezone = \"UTC\"\n\n"
      << "[log]\nlevel = \"debug\"\njournald = false\n\n"
      << "[http]\nenabled = false\n\n";
    for (const auto& t : terminals) o << terminal_toml(t);
    o << "[[operator]]\nid = \"anna\"\nname = \"Anna\"\nrights = [\"take_card\"]\n\n"
      << "[[operator]]\nid = \"carl\"\nname = \"Carl\"\nrights = [\"take_card\", \"take_cash\"]\n\n"
      << "[[operator]]\nid = \"erik\"\nname = \"Erik\"\nrights = [\"take_card\", \"refund\"]\n\n"
      << "[[operator]]\nid = \"lena\"\nname = \"Lena\"\n"
         "rights = [\"close_day\", \"resolve_interim\", \"take_cash\"]\n";
    return o.str();
}

std::string write_scenario(const TempDir& dir, const std::string& name, int card_timeout_ms, int card_delay_ms,
                           int ack_timeout_ms) {
    std::string path = dir.file(name + ".toml");
    std::ofstream(path) << "[terminal]\ncurrency = \"SEK\"\n[timing]\ncard_delay_ms = " << card_delay_ms
                        << "\ncard_timeout_ms = " << card_timeout_ms << "\nack_timeout_ms = " << ack_timeout_ms
                        << "\nstatus_repeat_ms = 200\n";
    return path;
}

// ---- DaemonProcess ----

DaemonProcess::DaemonProcess(const TempDir& dir, std::string config_toml, std::vector<std::string> extra_env)
    : env(std::move(extra_env)) {
    config_path = dir.file("paybridged.toml");
    ledger_path = dir.file("ledger.sqlite");
    log_path_ = dir.file("daemon.log");
    std::ofstream(config_path) << config_toml;
    start();
}

DaemonProcess::~DaemonProcess() {
    if (pid_ > 0) {
        // A clean stop first: it is part of what the daemon promises (exit 0 on SIGTERM).
        auto rc = stop(10s);
        if (!rc) {
            ADD_FAILURE() << "paybridged did not stop within 10 s of SIGTERM";
            kill9();
        } else {
            EXPECT_EQ(*rc, 0) << "paybridged exit status after SIGTERM";
        }
    }
    join_reader();
    // The log tail explains a failure; PB_IT_LOG=1 shows it always.
    if (::testing::Test::HasFailure() || std::getenv("PB_IT_LOG")) {
        std::lock_guard lock(mu_);
        std::size_t from = log_.size() > 12000 ? log_.size() - 12000 : 0;
        std::cout << "---- paybridged log (tail) ----\n" << log_.substr(from) << "---- end ----\n";
    }
}

void DaemonProcess::start() {
    join_reader();
    {
        std::lock_guard lock(mu_);
        log_start_ = log_.size();
        reader_done_ = false;
    }
    std::vector<std::string> args = {PB_PAYBRIDGED_BINARY, "--config", config_path};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int err[2];
    ASSERT_EQ(::pipe2(err, O_CLOEXEC), 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, err[1], 2);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    std::vector<char*> envp;
    for (char** e = environ; *e; ++e) {
        std::string_view var = *e;
        bool overridden = false;  // ours win over the test runner's
        for (auto& x : env) overridden |= var.substr(0, var.find('=') + 1) == std::string_view(x).substr(0, x.find('=') + 1);
        if (!overridden) envp.push_back(*e);
    }
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    int rc = ::posix_spawn(&pid_, PB_PAYBRIDGED_BINARY, &fa, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    ::close(err[1]);
    if (rc != 0) {
        ::close(err[0]);
        pid_ = -1;
        FAIL() << "cannot start " << PB_PAYBRIDGED_BINARY;
    }
    reader_ = std::thread([this, fd = err[0]] { reader_loop(fd); });

    // "PB_STARTED ready: ...; ERP bound at tcp://127.0.0.1:P, events at tcp://127.0.0.1:Q"
    ASSERT_TRUE(wait_log("PB_STARTED", 10s)) << "paybridged did not start:\n" << log();
    static const std::regex bound(R"(ERP bound at (tcp://[0-9.]+:[0-9]+), events at (tcp://[0-9.]+:[0-9]+))");
    std::smatch m;
    std::string text = log();
    ASSERT_TRUE(std::regex_search(text, m, bound)) << text;
    router = m[1];
    pub = m[2];
}

void DaemonProcess::reader_loop(int fd) {
    std::ofstream file(log_path_, std::ios::app);
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        file.write(buf, n);
        file.flush();
        std::lock_guard lock(mu_);
        log_.append(buf, static_cast<std::size_t>(n));
        cv_.notify_all();
    }
    ::close(fd);
    std::lock_guard lock(mu_);
    reader_done_ = true;
    cv_.notify_all();
}

void DaemonProcess::join_reader() {
    if (reader_.joinable()) reader_.join();
}

bool DaemonProcess::wait_log(const std::string& needle, milliseconds deadline) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, deadline, [&] {
        return log_.find(needle, log_start_) != std::string::npos || reader_done_;
    }) && log_.find(needle, log_start_) != std::string::npos;
}

std::string DaemonProcess::log() const {
    std::lock_guard lock(mu_);
    return log_.substr(log_start_);
}

void DaemonProcess::kill9() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    join_reader();  // the pipe closes with the process
}

std::optional<int> DaemonProcess::stop(milliseconds deadline) {
    if (pid_ <= 0) return std::nullopt;
    ::kill(pid_, SIGTERM);
    return wait_exit(deadline);
}

std::optional<int> DaemonProcess::wait_exit(milliseconds deadline) {
    if (pid_ <= 0) return std::nullopt;
    int pfd = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
    if (pfd >= 0) {
        pollfd p{pfd, POLLIN, 0};
        ::poll(&p, 1, static_cast<int>(deadline.count()));
        ::close(pfd);
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) != pid_) return std::nullopt;
    pid_ = -1;
    join_reader();
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// ---- ErpClient ----

ErpClient::ErpClient(const std::string& router, const std::string& pub)
    : ctx_(1), dealer_(ctx_, zmq::socket_type::dealer), sub_(ctx_, zmq::socket_type::sub) {
    dealer_.set(zmq::sockopt::linger, 0);
    sub_.set(zmq::sockopt::linger, 0);
    sub_.set(zmq::sockopt::subscribe, "");
    // A new SUB connection receives nothing until its subscription reached the PUB (README
    // §1): watch our side's handshake, then make one request round trip to the daemon, so the
    // subscription (sent right after the handshake) is in before the test starts anything.
    static int monitor_count = 0;
    std::string mon = "inproc://sub-monitor-" + std::to_string(++monitor_count);
    EXPECT_EQ(::zmq_socket_monitor(sub_.handle(), mon.c_str(), ZMQ_EVENT_HANDSHAKE_SUCCEEDED), 0);
    zmq::socket_t pair(ctx_, zmq::socket_type::pair);
    pair.connect(mon);
    sub_.connect(pub);
    dealer_.connect(router);
    zmq::message_t ev;
    pair.set(zmq::sockopt::rcvtimeo, 5000);
    EXPECT_TRUE(pair.recv(ev)) << "no handshake with the event socket " << pub;
    zmq::message_t addr;
    if (ev.more()) (void)pair.recv(addr);
    ::zmq_socket_monitor(sub_.handle(), nullptr, 0);
    auto pong = request({{"type", "ping"}}, 5s);
    EXPECT_EQ(pong["ok"], json::value(true)) << dump(pong);
}

ErpClient::~ErpClient() = default;

bool ErpClient::pump(milliseconds timeout) {
    zmq::pollitem_t items[] = {{dealer_.handle(), 0, ZMQ_POLLIN, 0}, {sub_.handle(), 0, ZMQ_POLLIN, 0}};
    zmq::poll(items, 2, timeout);
    bool any = false;
    if (items[0].revents & ZMQ_POLLIN) {
        std::vector<zmq::message_t> frames;
        while (true) {
            zmq::message_t m;
            if (!dealer_.recv(m, zmq::recv_flags::dontwait)) break;
            bool more = m.more();
            frames.push_back(std::move(m));
            if (!more) {
                // ["", json] (we always send the delimiter, the reply mirrors it).
                EXPECT_EQ(frames.size(), 2u) << "reply envelope";
                std::string raw = frames.back().to_string();
                auto parsed = erp::parse_reply(raw);
                EXPECT_TRUE(parsed.has_value()) << "reply the codec cannot read: " << raw;
                json::object o;
                try {
                    o = json::parse(raw).as_object();
                } catch (const std::exception& e) {
                    ADD_FAILURE() << "reply not a JSON object: " << raw;
                }
                std::string id = o.contains("id") && o.at("id").is_string() ? std::string(o.at("id").as_string()) : "";
                replies_[id] = std::move(o);
                frames.clear();
                any = true;
            }
        }
    }
    if (items[1].revents & ZMQ_POLLIN) {
        while (true) {
            zmq::message_t topic;
            if (!sub_.recv(topic, zmq::recv_flags::dontwait)) break;
            zmq::message_t body;
            EXPECT_TRUE(topic.more()) << "event without a body frame";
            if (!topic.more() || !sub_.recv(body)) continue;
            std::string raw = body.to_string();
            auto parsed = erp::parse_event(raw);
            EXPECT_TRUE(parsed.has_value()) << "event the codec cannot read: " << raw;
            ReceivedEvent e{topic.to_string(), json::parse(raw).as_object()};
            EXPECT_EQ(e.topic.rfind(str(e.body, "type") + ".", 0), 0u) << "topic " << e.topic << " of " << raw;
            auto seq = static_cast<std::uint64_t>(num(e.body, "seq"));
            if (last_seq_ && seq != *last_seq_ + 1) ++seq_gaps_;
            last_seq_ = seq;
            events_.push_back(std::move(e));
            taken_.push_back(false);
            any = true;
        }
    }
    return any;
}

json::object ErpClient::request(json::object req, milliseconds deadline) {
    auto frame_id = send(req);
    auto until = Clock::now() + deadline;
    return wait_reply(frame_id, json::serialize(req), until);
}

std::string ErpClient::send(json::object& req) {
    if (!req.contains("v")) req["v"] = 1;
    if (!req.contains("id")) req["id"] = "t-" + std::to_string(next_id_++);
    std::string frame = json::serialize(req);
    dealer_.send(zmq::message_t(), zmq::send_flags::sndmore);
    dealer_.send(zmq::buffer(frame), zmq::send_flags::none);
    return std::string(req.at("id").as_string());
}

json::object ErpClient::request_raw(const std::string& frame, const std::string& id, milliseconds deadline) {
    dealer_.send(zmq::message_t(), zmq::send_flags::sndmore);
    dealer_.send(zmq::buffer(frame), zmq::send_flags::none);
    return wait_reply(id, frame, Clock::now() + deadline);
}

json::object ErpClient::wait_reply(const std::string& id, const std::string& frame, Clock::time_point until) {
    const auto deadline = std::chrono::duration_cast<milliseconds>(until - Clock::now());
    for (;;) {
        auto take = [&](const std::string& key) -> std::optional<json::object> {
            auto it = replies_.find(key);
            if (it == replies_.end()) return std::nullopt;
            json::object o = std::move(it->second);
            replies_.erase(it);
            return o;
        };
        if (auto r = take(id)) return *r;
        if (!id.empty())
            if (auto r = take("")) return *r;  // the daemon could not read our id
        if (Clock::now() >= until) break;
        pump(milliseconds(remaining_ms(until)));
    }
    ADD_FAILURE() << "no reply within " << deadline.count() << " ms to " << frame.substr(0, 300);
    return {};
}

const std::vector<ReceivedEvent>& ErpClient::events() {
    while (pump(0ms)) {
    }
    return events_;
}

std::optional<ReceivedEvent> ErpClient::wait_event(const std::function<bool(const ReceivedEvent&)>& pred,
                                                   milliseconds deadline) {
    auto until = Clock::now() + deadline;
    std::size_t checked = 0;
    for (;;) {
        for (; checked < events_.size(); ++checked) {
            if (!taken_[checked] && pred(events_[checked])) {
                taken_[checked] = true;
                return events_[checked];
            }
        }
        if (Clock::now() >= until) return std::nullopt;
        pump(milliseconds(remaining_ms(until)));
    }
}

std::optional<json::object> ErpClient::wait_result(const std::string& payment_id, milliseconds deadline,
                                                   bool accept_unknown) {
    auto e = wait_event(
        [&](const ReceivedEvent& ev) {
            if (str(ev.body, "type") != "payment.result" || str(ev.body, "payment_id") != payment_id) return false;
            auto state = str(ev.body, "state");
            return accept_unknown || (state != "unknown" && state != "sent" && state != "requested");
        },
        deadline);
    if (!e) return std::nullopt;
    return e->body;
}

bool ErpClient::wait_online(const std::string& terminal, milliseconds deadline) {
    auto until = Clock::now() + deadline;
    while (Clock::now() < until) {
        auto r = request({{"type", "terminal.status"}, {"terminal", terminal}},
                         std::max<milliseconds>(milliseconds(remaining_ms(until)), 100ms));
        if (r["ok"] == json::value(true)) {
            auto& list = r["result"].as_object()["terminals"].as_array();
            if (!list.empty() && list[0].as_object()["online"] == json::value(true) &&
                list[0].as_object()["busy"] != json::value(true))
                return true;
        }
        // Not yet: the next terminal.online (or anything) wakes us; bounded so a missed
        // event costs at most 200 ms before the status is asked again.
        wait_event(
            [&](const ReceivedEvent& ev) {
                return str(ev.body, "type") == "terminal.online" && str(ev.body, "terminal") == terminal;
            },
            std::min<milliseconds>(200ms, milliseconds(remaining_ms(until))));
    }
    return false;
}

json::object ErpClient::get_payment(const std::string& payment_id) {
    auto r = request({{"type", "payment.get"}, {"payment_id", payment_id}});
    EXPECT_EQ(r["ok"], json::value(true)) << dump(r);
    if (r["ok"] != json::value(true) || !r["result"].is_object()) return {};
    return r["result"].as_object();
}

// ---- helpers ----

json::object payment_start(const std::string& order, std::int64_t total, const std::string& terminal,
                           const std::string& register_id, const std::string& operator_id) {
    return {{"type", "payment.start"}, {"order_id", order},      {"request_key", order + "#1"},
            {"total", total},          {"currency", "SEK"},      {"register", register_id},
            {"terminal", terminal},    {"operator", operator_id}};
}

std::int64_t Charged::total() const {
    std::int64_t t = 0;
    for (auto& [receipt, r] : sales) t += num(r, "amount");
    return t;
}

Charged charged_by(const SimProcess& sim) {
    Charged c;
    for (auto& r : sim.journal()) {
        auto ev = str(r, "event");
        if (ev == "approved" || ev == "booked") c.sales[num(r, "receipt")] = r;
        if (ev == "reversed") c.sales.erase(num(r, "ref_receipt"));
        if (ev == "implicit_reversed") c.sales.erase(num(r, "receipt"));
        if (ev == "refunded") c.refunds.push_back(r);
    }
    return c;
}

std::string str(const json::object& o, std::string_view key) {
    auto it = o.find(key);
    if (it == o.end() || !it->value().is_string()) return "";
    return std::string(it->value().as_string());
}

std::int64_t num(const json::object& o, std::string_view key) {
    auto it = o.find(key);
    if (it == o.end()) return -1;
    if (it->value().is_int64()) return it->value().as_int64();
    if (it->value().is_uint64()) return static_cast<std::int64_t>(it->value().as_uint64());
    return -1;
}

std::string dump(const json::value& v) { return json::serialize(v); }

HttpReply http_get(std::uint16_t port, const std::string& path, milliseconds deadline) {
    HttpReply out;
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(fd);
        return out;
    }
    std::string req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
        ::close(fd);
        return out;
    }
    std::string raw;
    const auto until = Clock::now() + deadline;
    for (;;) {
        auto left = std::chrono::duration_cast<milliseconds>(until - Clock::now()).count();
        pollfd p{fd, POLLIN, 0};
        if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) <= 0) break;
        char buf[4096];
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) break;
        raw.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    if (raw.rfind("HTTP/1.1 ", 0) == 0) out.status = std::atoi(raw.c_str() + 9);
    if (auto body = raw.find("\r\n\r\n"); body != std::string::npos) {
        out.headers = raw.substr(0, body);
        out.body = raw.substr(body + 4);
    }
    return out;
}

}  // namespace pb::daemontest
