#include "simulators/upstream/server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>

#include "simulators/control_port.hpp"
#include "simulators/upstream/service.hpp"

namespace pb::sim::upstream {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using asio::ip::tcp;
using boost::system::error_code;

// ---- faults --------------------------------------------------------------------------------

Expected<void, std::string> Faults::set(const std::string& word) {
    auto eq = word.find('=');
    std::string name = word.substr(0, eq);
    std::string value = eq == std::string::npos ? "" : word.substr(eq + 1);
    auto number = [&](std::int64_t fallback) -> std::optional<std::int64_t> {
        if (value.empty()) return fallback;
        std::int64_t n = 0;
        for (char c : value) {
            if (c < '0' || c > '9' || n > 100'000'000) return std::nullopt;
            n = n * 10 + (c - '0');
        }
        return n;
    };
    auto bad = [&] { return unexpected("fault " + name + ": value must be a non-negative integer, got '" + value + "'"); };
    if (name == "slow") {
        auto n = number(-1);
        if (!n || *n < 0) return unexpected(std::string("fault slow needs =MS"));
        slow_ms = *n;
    } else if (name == "http_5xx" || name == "reset" || name == "drop_reply" || name == "malformed") {
        auto n = number(1);
        if (!n) return bad();
        int v = static_cast<int>(*n);
        (name == "http_5xx" ? http_5xx : name == "reset" ? reset : name == "drop_reply" ? drop_reply : malformed) = v;
    } else if (name == "down") {
        down = true;
    } else if (name == "path") {
        if (value.empty() || value.front() != '/') return unexpected(std::string("fault path needs =/PREFIX"));
        path = value;
    } else {
        return unexpected("unknown fault '" + name + "' (slow=MS, http_5xx=N, reset=N, drop_reply=N, malformed=N, down, path=/PREFIX)");
    }
    return {};
}

Expected<void, std::string> Faults::clear(const std::string& name) {
    if (name.empty()) {
        *this = Faults{};
        return {};
    }
    if (name == "slow") slow_ms = 0;
    else if (name == "http_5xx") http_5xx = 0;
    else if (name == "reset") reset = 0;
    else if (name == "drop_reply") drop_reply = 0;
    else if (name == "malformed") malformed = 0;
    else if (name == "down") down = false;
    else if (name == "path") path.clear();
    else return unexpected("unknown fault '" + name + "'");
    return {};
}

std::string Faults::describe() const {
    std::ostringstream o;
    if (slow_ms) o << "slow=" << slow_ms << " ";
    if (http_5xx) o << "http_5xx=" << http_5xx << " ";
    if (reset) o << "reset=" << reset << " ";
    if (drop_reply) o << "drop_reply=" << drop_reply << " ";
    if (malformed) o << "malformed=" << malformed << " ";
    if (down) o << "down ";
    if (!path.empty()) o << "path=" << path << " ";
    std::string s = o.str();
    if (!s.empty()) s.pop_back();
    return s;
}

namespace {

std::string utc_today() {
    std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[16];
    std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
    return buf;
}

bool take(int& counter) {
    if (counter <= 0) return false;
    --counter;
    return true;
}

class ServerImpl final : public Server {
public:
    ServerImpl(asio::io_context& io, ServerOptions o) : io_(io), options_(std::move(o)), acceptor_(io) {}

    Expected<void, std::string> init() {
        if (!options_.state.empty()) {
            std::ifstream in(options_.state);
            if (in) {
                std::stringstream ss;
                ss << in.rdbuf();
                if (!ss.str().empty()) {
                    error_code ec;
                    auto v = json::parse(ss.str(), ec);
                    if (ec) return unexpected("state file " + options_.state + ": not JSON: " + ec.message());
                    if (auto r = services_.from_json(v); !r) return unexpected("state file " + options_.state + ": " + r.error());
                }
            }
        }
        try {
            tcp::endpoint ep(asio::ip::make_address(options_.http.host), options_.http.port);
            acceptor_.open(ep.protocol());
            acceptor_.set_option(tcp::acceptor::reuse_address(true));
            acceptor_.bind(ep);
            acceptor_.listen();
        } catch (const std::exception& e) {
            return unexpected("cannot listen for HTTP on " + options_.http.host + ":" + std::to_string(options_.http.port) +
                              ": " + e.what());
        }
        if (options_.control) {
            try {
                tcp::endpoint ep(asio::ip::make_address(options_.control->host), options_.control->port);
                control_ = std::make_unique<ControlPort>(io_, ep, [this](const std::string& line, bool& quit) {
                    return command(line, quit);
                });
            } catch (const std::exception& e) {
                return unexpected("cannot listen on control port: " + std::string(e.what()));
            }
        }
        asio::co_spawn(io_, accept_loop(), asio::detached);
        return {};
    }

    std::string ready_line() const override {
        std::string s = "READY http=" + options_.http.host + ":" + std::to_string(acceptor_.local_endpoint().port());
        if (control_) s += " control=" + options_.control->host + ":" + std::to_string(control_->port());
        return s;
    }

private:
    asio::awaitable<void> accept_loop() {
        for (;;) {
            error_code ec;
            tcp::socket sock = co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
            if (ec) {
                if (ec == asio::error::operation_aborted) co_return;
                continue;
            }
            asio::co_spawn(io_, serve(std::move(sock)), asio::detached);
        }
    }

    // Closes the connection with a TCP reset, as a crashed or overloaded peer would.
    static void reset_connection(beast::tcp_stream& stream) {
        error_code ec;
        stream.socket().set_option(asio::socket_base::linger(true, 0), ec);
        stream.socket().close(ec);
    }

    asio::awaitable<void> serve(tcp::socket sock) {
        beast::tcp_stream stream(std::move(sock));
        beast::flat_buffer buf;
        if (faults_.down) {
            spdlog::warn("fault down: connection reset");
            reset_connection(stream);
            co_return;
        }
        for (;;) {
            error_code ec;
            http::request_parser<http::string_body> parser;
            parser.body_limit(1 << 20);
            stream.expires_after(std::chrono::seconds(30));
            co_await http::async_read(stream, buf, parser, asio::redirect_error(asio::use_awaitable, ec));
            if (ec) co_return;
            auto req = parser.release();
            const std::string path(req.target().substr(0, req.target().find('?')));
            const bool hit = faults_.applies(path);
            if (hit && take(faults_.reset)) {
                spdlog::warn("fault reset: {} closed unanswered, nothing done", path);
                reset_connection(stream);
                co_return;
            }
            if (hit && faults_.slow_ms > 0) {
                asio::steady_timer t(io_, std::chrono::milliseconds(faults_.slow_ms));
                co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
            }
            http::response<http::string_body> res;
            res.version(11);
            res.keep_alive(req.keep_alive());
            res.set(http::field::content_type, "application/json");
            bool drop = false;
            if (faults_.down) {
                reset_connection(stream);
                co_return;
            }
            if (hit && take(faults_.http_5xx)) {
                res.result(503);
                res.body() = R"({"error":{"code":"unavailable","message":"fault http_5xx"}})";
            } else if (hit && take(faults_.malformed)) {
                res.result(200);
                res.body() = R"({"status": 7, "balance": "lots"})";  // JSON, but not the contract
            } else if (!authorised(req)) {
                res.result(401);
                res.body() = R"({"error":{"code":"unauthorized","message":"bearer token missing or wrong"}})";
            } else {
                Request r;
                r.method = std::string(req.method_string());
                r.path = path;
                r.body = req.body();
                r.idempotency_key = std::string(req["Idempotency-Key"]);
                r.today = options_.today.empty() ? utc_today() : options_.today;
                r.now_utc_ms = now_ms();
                r.now_ms = r.now_utc_ms;  // one clock for vouchers and receipts ('clock advance')
                Answer a = services_.handle(r);
                save();
                spdlog::info("{} {} key={} -> {}", r.method, r.path, r.idempotency_key, a.status);
                res.result(a.status);
                res.set(http::field::content_type, a.content_type);
                res.body() = std::move(a.body);
                drop = hit && take(faults_.drop_reply);
            }
            if (drop) {
                spdlog::warn("fault: reply dropped after the request was done");
                reset_connection(stream);
                co_return;
            }
            res.prepare_payload();
            co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
            if (ec || !res.keep_alive()) {
                stream.socket().shutdown(tcp::socket::shutdown_send, ec);
                co_return;
            }
        }
    }

    /// The service's clock: the system's plus what `clock advance` added (deletion tests).
    std::int64_t now_ms() const {
        using namespace std::chrono;
        return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count() + clock_offset_ms_;
    }

    bool authorised(const http::request<http::string_body>& req) const {
        if (options_.token.empty()) return true;
        return req[http::field::authorization] == "Bearer " + options_.token;
    }

    void save() {
        if (options_.state.empty()) return;
        std::string tmp = options_.state + ".tmp";
        {
            std::ofstream out(tmp, std::ios::trunc);
            out << json::serialize(services_.to_json());
            out.flush();
            if (!out) {
                spdlog::error("cannot write state file {}", tmp);
                return;
            }
        }
        std::rename(tmp.c_str(), options_.state.c_str());
    }

    std::string command(const std::string& line, bool& quit) {
        auto words = split_words(line);
        auto ok = [](const std::string& rest = {}) { return rest.empty() ? std::string("OK\n") : "OK " + rest + "\n"; };
        auto err = [](const std::string& why) { return "ERR " + why + "\n"; };
        auto done = [&](Expected<void, std::string> r) {
            if (!r) return err(r.error());
            save();
            return ok();
        };
        if (words.empty()) return err("empty command");
        const auto& cmd = words[0];
        if (cmd == "status") {
            json::object o{{"requests", services_.requests_seen()},
                           {"duplicates", services_.duplicates_seen()},
                           {"debits", services_.debits().size()},
                           {"receipts", services_.receipts().size()},
                           {"faults", faults_.describe()}};
            return ok(json::serialize(o));
        }
        if (cmd == "fault" && words.size() >= 3 && words[1] == "set") {
            for (std::size_t i = 2; i < words.size(); ++i) {
                if (auto r = faults_.set(words[i]); !r) return err(r.error());
                spdlog::warn("fault set {}", words[i]);
            }
            return ok(faults_.describe());
        }
        if (cmd == "fault" && words.size() <= 3 && words.size() >= 2 && words[1] == "clear") {
            if (auto r = faults_.clear(words.size() > 2 ? words[2] : ""); !r) return err(r.error());
            return ok(faults_.describe());
        }
        if (cmd == "fault" && words.size() == 2 && words[1] == "list")
            return "slow=MS\nhttp_5xx=N\nreset=N\ndrop_reply=N\nmalformed=N\ndown\npath=/PREFIX\n" + ok();
        if (cmd == "activate") {
            error_code ec;
            auto v = json::parse(line.substr(line.find(' ') == std::string::npos ? line.size() : line.find(' ') + 1), ec);
            if (ec || !v.is_object()) return err("activate needs a JSON object: activate {\"card_id\":...}");
            return done(services_.activate(v.as_object()));
        }
        if (cmd == "voucher") {  // the benefit provider: a customer's purchase in the app (README §5)
            error_code ec;
            auto v = json::parse(line.substr(line.find(' ') == std::string::npos ? line.size() : line.find(' ') + 1), ec);
            if (ec || !v.is_object()) return err("voucher needs a JSON object: voucher {\"voucher_id\":...}");
            return done(services_.benefit().issue(v.as_object(), now_ms()));
        }
        if (cmd == "vouchers" || cmd == "redemptions") {
            auto state = services_.benefit().to_json();
            return ok(json::serialize(state.at(cmd)));
        }
        if (cmd == "block" && words.size() == 2) return done(services_.block(words[1]));
        if (cmd == "transfer" && words.size() == 3) return done(services_.transfer(words[1], words[2]));
        if (cmd == "card" && words.size() == 2) {
            const Commitment* c = services_.card(words[1]);
            if (!c) return err("no card '" + words[1] + "'");
            return ok(json::serialize(json::object{{"card_id", c->card_id},
                                                   {"active", c->active},
                                                   {"blocked", c->blocked},
                                                   {"balance", c->balance},
                                                   {"currency", c->currency},
                                                   {"valid_until", c->valid_until},
                                                   {"billing_reference", c->billing_reference}}));
        }
        if (cmd == "ereceipts" || (cmd == "ereceipt" && words.size() == 2)) {
            services_.purge_receipts(now_ms());
            json::array all;
            for (const auto& [id, rec] : services_.ereceipts().receipts())
                if (cmd == "ereceipts" || id == words[1]) all.push_back(ReceiptService::describe(rec));
            if (cmd == "ereceipt") {
                if (all.empty()) return err("no e-receipt '" + words[1] + "' (never seen, or deleted)");
                return ok(json::serialize(all.front()));
            }
            return ok(json::serialize(all));
        }
        if (cmd == "sent") {
            services_.purge_receipts(now_ms());
            return ok(json::serialize(services_.ereceipts().describe_sent()));
        }
        if (cmd == "clock" && words.size() == 3 && words[1] == "advance") {
            std::int64_t seconds = 0;
            try {
                std::size_t used = 0;
                seconds = std::stoll(words[2], &used);
                if (used != words[2].size() || seconds < 0) throw std::invalid_argument("negative");
            } catch (const std::exception&) {
                return err("clock advance needs a non-negative number of seconds, got '" + words[2] + "'");
            }
            clock_offset_ms_ += seconds * 1000;
            services_.purge_receipts(now_ms());
            save();
            return ok(json::serialize(json::object{{"offset_s", clock_offset_ms_ / 1000},
                                                   {"ereceipts_deleted", services_.ereceipts().deleted()}}));
        }
        if (cmd == "debits" || cmd == "receipts") {
            auto state = services_.to_json();
            return ok(json::serialize(state.at(cmd)));
        }
        if (cmd == "quit" || cmd == "shutdown") {
            quit = true;
            return ok();
        }
        if (cmd == "help")
            return std::string(
                       "status\nfault set NAME[=VALUE]...\nfault clear [NAME]\nfault list\n"
                       "activate {json}\nblock CARD\ntransfer FROM TO\ncard CARD\ndebits\nreceipts\n"
                       "voucher {json}\nvouchers\nredemptions\nereceipts\nereceipt ID\nsent\nclock advance SECONDS\nshutdown\n") +
                   ok();
        return err("unknown command '" + line + "' (try help)");
    }

    asio::io_context& io_;
    ServerOptions options_;
    tcp::acceptor acceptor_;
    std::unique_ptr<ControlPort> control_;
    Services services_;
    Faults faults_;
    std::int64_t clock_offset_ms_ = 0;
};

}  // namespace

Expected<std::unique_ptr<Server>, std::string> Server::start(asio::io_context& io, ServerOptions options) {
    auto s = std::make_unique<ServerImpl>(io, std::move(options));
    if (auto r = s->init(); !r) return unexpected(r.error());
    return std::unique_ptr<Server>(std::move(s));
}

}  // namespace pb::sim::upstream
