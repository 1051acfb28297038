#include "simulators/zvt/server.hpp"

#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cstring>
#include <ctime>
#include <deque>
#include <fstream>
#include <variant>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <boost/json/serialize.hpp>
#include <spdlog/spdlog.h>

#include "adapters/serial_link.hpp"
#include "adapters/tcp_link.hpp"
#include "adapters/zvt_channel.hpp"
#include "protocol/zvt/tables.hpp"
#include "simulators/zvt/engine.hpp"
#include "simulators/control_port.hpp"
#include "simulators/zvt/fault_line.hpp"
#include "simulators/zvt/persistence.hpp"

namespace pb::sim {

namespace asio = boost::asio;
namespace json = boost::json;
using asio::ip::tcp;
using boost::system::error_code;

Expected<Endpoint, std::string> parse_endpoint(const std::string& text) {
    Endpoint e;
    std::string port = text;
    if (auto colon = text.rfind(':'); colon != std::string::npos) {
        if (colon > 0) e.host = text.substr(0, colon);
        port = text.substr(colon + 1);
    }
    unsigned v = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
    if (ec != std::errc{} || end != port.data() + port.size() || v > 65535) {
        return unexpected("bad endpoint '" + text + "' (want HOST:PORT)");
    }
    e.port = static_cast<std::uint16_t>(v);
    return e;
}

namespace {

Now now() {
    Now n;
    n.mono = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now().time_since_epoch());
    std::time_t t = std::time(nullptr);
    std::tm tm{};
    ::localtime_r(&t, &tm);
    n.wall = LocalTime{tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec};
    return n;
}

struct OutClose {
    std::string reason;
};
struct OutCrash {
    FaultPoint point;
};
using OutItem = std::variant<Bytes, OutClose, OutCrash>;

class ServerImpl;

// One ECR connection (TCP) or serial session: an APDU channel and the queue of what the
// engine wants to say on it, in order, each after the previous was written (serial: ACKed).
class Conn : public std::enable_shared_from_this<Conn> {
public:
    // `owns_line`: the line ends with this connection (TCP); a serial line outlives it.
    Conn(ServerImpl& server, std::unique_ptr<adapters::ApduChannel> channel, std::shared_ptr<FaultLine> line,
         bool owns_line)
        : server_(server), channel_(std::move(channel)), line_(std::move(line)), owns_line_(owns_line),
          delay_(server_io()) {}
    void start();
    void push(OutItem item) {
        out_.push_back(std::move(item));
        pump();
    }
    void close(const std::string& why);
    bool open() const { return open_; }
    std::string description() const { return channel_->description(); }

private:
    asio::io_context& server_io();
    void pump();
    ServerImpl& server_;
    std::unique_ptr<adapters::ApduChannel> channel_;
    std::shared_ptr<FaultLine> line_;
    bool owns_line_;
    asio::steady_timer delay_;
    std::deque<OutItem> out_;
    bool sending_ = false;
    bool open_ = true;
};

class ServerImpl final : public Server {
public:
    ServerImpl(asio::io_context& io, ServerOptions options, PersistentState state)
        : io_(io), options_(std::move(options)), engine_(options_.scenario, std::move(state)), timer_(io) {}

    Expected<void, std::string> init();
    std::string ready_line() const override {
        std::string s = "READY";
        if (listener_) s += " tcp=" + options_.tcp->host + ":" + std::to_string(listener_->port());
        if (!serial_path_.empty()) s += " serial=" + serial_path_;
        if (control_) {
            s += " control=" + options_.control->host + ":" + std::to_string(control_->port());
        }
        return s;
    }

    asio::io_context& io() { return io_; }
    FaultSet& faults() { return engine_.faults(); }

    void on_apdu(const std::shared_ptr<Conn>& conn, const zvt::Apdu& apdu) {
        if (conn != active_) return;
        auto m = zvt::decode_message(apdu);
        if (!m) {
            spdlog::debug("undecodable APDU {:02x} {:02x}: {}", apdu.cls, apdu.instr, m.error().to_string());
            apply(engine_.on_decode_error(m.error().code == zvt::Error::bmp_unknown, now()));
            return;
        }
        spdlog::debug("ECR -> PT {}", zvt::command_name(m->command));
        if (options_.on_message) options_.on_message(true, *m);
        apply(engine_.on_message(*m, now()));
    }
    void on_lost(const std::shared_ptr<Conn>& conn, const std::string& why) {
        if (conn != active_) return;
        spdlog::info("link lost: {}", why);
        active_.reset();
        apply(engine_.on_link_lost(now()));
        if (serial_line_ && !serial_line_->failed()) open_serial_session();
    }
    void on_transport_fault(std::string_view name) {
        spdlog::warn("fault fired: {}", name);
        journal(json::object{{"event", "fault"}, {"fault", name}});
    }

private:
    void accept();
    void open_serial_session();
    void adopt(std::shared_ptr<Conn> conn) {
        if (active_) {
            auto old = active_;
            active_.reset();
            old->close("replaced by a new connection");
            apply(engine_.on_link_lost(now()));
        }
        active_ = std::move(conn);
        active_->start();
    }
    void apply(Actions actions) {
        for (auto& a : actions) {
            if (auto* s = std::get_if<Send>(&a)) {
                spdlog::debug("PT -> ECR {}", zvt::command_name(s->message.command));
                if (options_.on_message) options_.on_message(false, s->message);
                if (active_) active_->push(zvt::encode_apdu(zvt::encode_message(s->message)));
            } else if (auto* j = std::get_if<Journal>(&a)) {
                journal(std::move(j->record));
            } else if (std::holds_alternative<SaveState>(a)) {
                if (auto r = save_state(options_.state, engine_.state()); !r) spdlog::error("{}", r.error());
            } else if (auto* c = std::get_if<CloseLink>(&a)) {
                if (active_) active_->push(OutClose{c->reason});
            } else if (auto* crash = std::get_if<Crash>(&a)) {
                if (active_) {
                    active_->push(OutCrash{crash->point});
                } else {
                    ::_exit(3);
                }
            } else if (auto* l = std::get_if<Log>(&a)) {
                spdlog::info("{}", l->text);
            }
        }
        arm_timer();
    }
    void journal(json::object record) {
        spdlog::info("journal {}", json::serialize(record));
        if (auto r = journal_.append(std::move(record)); !r) spdlog::error("{}", r.error());
    }
    void arm_timer() {
        auto d = engine_.next_deadline();
        timer_.cancel();
        if (!d) return;
        timer_.expires_at(std::chrono::steady_clock::time_point(*d));
        timer_.async_wait([this](error_code ec) {
            if (ec) return;
            apply(engine_.on_timer(now()));
        });
    }
    // Control port: one command per line, answered by data lines and a final OK/ERR line.
    std::string control_command(const std::string& line, bool& quit);

    friend class Conn;
    asio::io_context& io_;
    ServerOptions options_;
    Engine engine_;
    asio::steady_timer timer_;
    JournalWriter journal_;
    std::unique_ptr<adapters::TcpListener> listener_;
    std::optional<adapters::Pty> pty_;
    std::shared_ptr<FaultLine> serial_line_;
    std::string serial_path_;
    std::unique_ptr<ControlPort> control_;
    std::shared_ptr<Conn> active_;
};

asio::io_context& Conn::server_io() { return server_.io(); }

void Conn::start() {
    std::weak_ptr<Conn> weak = shared_from_this();
    channel_->on_apdu([this, weak](zvt::Apdu apdu) {
        if (auto self = weak.lock()) server_.on_apdu(self, apdu);
    });
    channel_->on_error([this, weak](error_code ec, const std::string& detail) {
        auto self = weak.lock();
        if (!self) return;
        open_ = false;
        if (owns_line_) line_->close();
        server_.on_lost(self, ec.message() + (detail.empty() ? "" : ": " + detail));
    });
    channel_->start();
}

void Conn::close(const std::string& why) {
    if (!open_) return;
    open_ = false;
    spdlog::info("closing {}: {}", channel_->description(), why);
    out_.clear();
    delay_.cancel();
    channel_->close();
    if (owns_line_) line_->close();
}

void Conn::pump() {
    if (sending_ || out_.empty() || !open_) return;
    auto& item = out_.front();
    if (auto* c = std::get_if<OutClose>(&item)) {
        std::string why = c->reason;
        out_.clear();
        auto self = shared_from_this();
        close(why);
        server_.on_lost(self, why);
        return;
    }
    if (std::holds_alternative<OutCrash>(item)) {
        spdlog::critical("crash fault: exiting without a word");
        spdlog::default_logger()->flush();
        ::_exit(3);
    }
    sending_ = true;
    auto send_now = [self = shared_from_this()]() {
        if (!self->open_ || self->out_.empty()) {
            self->sending_ = false;
            return;
        }
        Bytes apdu = std::move(std::get<Bytes>(self->out_.front()));
        self->out_.pop_front();
        self->channel_->send(std::move(apdu), [self](error_code ec) {
            self->sending_ = false;
            if (ec) {
                // Serial: no ACK after the repeats ([ZVT-TP] §3.5) -- the transmission failed,
                // which the PT treats like a lost link. The line stays; a new session starts.
                if (self->open_) {
                    std::string why = "send failed: " + ec.message();
                    self->close(why);
                    self->server_.on_lost(self, why);
                }
                return;
            }
            self->pump();
        });
    };
    auto delay = server_.faults().slow_message;
    if (delay.count() > 0) {
        delay_.expires_after(delay);
        delay_.async_wait([send_now](error_code ec) {
            if (!ec) send_now();
        });
    } else {
        send_now();
    }
}

Expected<void, std::string> ServerImpl::init() {
    if (auto r = journal_.open(options_.journal); !r) return r;
    auto ex = io_.get_executor();
    auto fired = [this](std::string_view name) { on_transport_fault(name); };
    if (options_.tcp) {
        auto l = adapters::TcpListener::open(ex, options_.tcp->host, options_.tcp->port);
        if (!l) return unexpected("cannot listen on tcp " + options_.tcp->host + ":" +
                                  std::to_string(options_.tcp->port) + ": " + l.error().message());
        listener_ = std::move(*l);
        accept();
    }
    if (!options_.serial.empty()) {
        adapters::LinkPtr link;
        if (options_.serial == "pty") {
            auto p = adapters::Pty::open();
            if (!p) return unexpected("cannot create a pseudo-terminal: " + p.error().message());
            pty_.emplace(std::move(*p));
            serial_path_ = pty_->slave_path();
            if (!options_.pty_link.empty()) {
                // A stable name for the daemon's config: a restarted simulator gets a new
                // /dev/pts/N, the link follows it (symlink beside it, then rename over).
                std::string tmp = options_.pty_link + ".new";
                ::unlink(tmp.c_str());
                if (::symlink(serial_path_.c_str(), tmp.c_str()) != 0 ||
                    ::rename(tmp.c_str(), options_.pty_link.c_str()) != 0)
                    return unexpected("cannot link " + options_.pty_link + " to " + serial_path_ + ": " +
                                      std::strerror(errno));
                serial_path_ = options_.pty_link;
            }
            link = adapters::make_fd_link(ex, pty_->release_master(), "pty " + serial_path_);
        } else {
            adapters::SerialSettings base;
            base.device = options_.serial;
            base.baud = options_.baud;
            auto settings = adapters::parse_framing(options_.framing, base);
            if (!settings) return unexpected(settings.error());
            auto l = adapters::open_serial_link(ex, *settings);
            if (!l) return unexpected("cannot open " + options_.serial + ": " + l.error().message());
            link = std::move(*l);
            serial_path_ = options_.serial;
        }
        serial_line_ = FaultLine::create(std::move(link), true, engine_.faults(), fired);
        open_serial_session();
    }
    if (options_.control) {
        try {
            tcp::endpoint ep(asio::ip::make_address(options_.control->host), options_.control->port);
            control_ = std::make_unique<ControlPort>(
                io_, ep, [this](const std::string& line, bool& quit) { return control_command(line, quit); });
        } catch (const boost::system::system_error& e) {
            return unexpected("cannot listen on control port: " + std::string(e.what()));
        }
    }
    json::array faults;
    for (const auto& f : engine_.faults().active()) faults.emplace_back(f);
    journal(json::object{{"event", "started"}, {"trace", engine_.state().trace},
                         {"receipt", engine_.state().receipt}, {"batch", engine_.state().batch.size()},
                         {"faults", std::move(faults)}});
    apply(engine_.power_up());
    return {};
}

void ServerImpl::accept() {
    listener_->async_accept([this](error_code ec, adapters::LinkPtr link) {
        if (ec) {
            if (ec != asio::error::operation_aborted) spdlog::error("accept: {}", ec.message());
            return;
        }
        spdlog::info("ECR connected: {}", link->description());
        auto line = FaultLine::create(std::move(link), false, engine_.faults(),
                                      [this](std::string_view n) { on_transport_fault(n); });
        auto channel = adapters::make_tcp_apdu_channel(line->session());
        adopt(std::make_shared<Conn>(*this, std::move(channel), line, true));
        accept();
    });
}

void ServerImpl::open_serial_session() {
    adapters::SerialChannelOptions o;
    o.pace = options_.pace;
    o.baud = options_.baud;
    auto settings = adapters::parse_framing(options_.framing);
    o.bits_per_byte = settings ? settings->bits_per_byte() : 11;
    auto channel = adapters::make_serial_apdu_channel(serial_line_->session(), o);
    adopt(std::make_shared<Conn>(*this, std::move(channel), serial_line_, false));
}

std::string ServerImpl::control_command(const std::string& line, bool& quit) {
    std::vector<std::string> words = split_words(line);
    auto ok = [](const std::string& rest = {}) { return rest.empty() ? std::string("OK\n") : "OK " + rest + "\n"; };
    auto err = [](const std::string& why) { return "ERR " + why + "\n"; };
    auto apply_logged = [&](Actions actions) -> std::string {
        for (const auto& a : actions) {
            if (auto* l = std::get_if<Log>(&a)) return err(l->text);
        }
        apply(std::move(actions));
        return ok();
    };
    if (words.empty()) return err("empty command");
    const auto& cmd = words[0];
    if (cmd == "status") {
        json::array faults;
        for (const auto& f : engine_.faults().active()) faults.emplace_back(f);
        json::object o{{"phase", engine_.phase_name()},
                       {"registered", engine_.registered()},
                       {"config_byte", engine_.config_byte()},
                       {"terminal_status", engine_.terminal_status()},
                       {"trace", engine_.state().trace},
                       {"receipt", engine_.state().receipt},
                       {"batch", engine_.state().batch.size()},
                       {"connected", active_ != nullptr && active_->open()},
                       {"journal_records", journal_.count()},
                       {"faults", std::move(faults)}};
        return ok(json::serialize(o));
    }
    if (cmd == "fault" && words.size() >= 3 && words[1] == "set") {
        std::string out;
        for (std::size_t i = 2; i < words.size(); ++i) {
            out = apply_logged(engine_.set_fault(words[i]));
            if (out.rfind("ERR", 0) == 0) return out;
            spdlog::warn("fault set {}", words[i]);
        }
        return out;
    }
    if (cmd == "fault" && words.size() >= 2 && words[1] == "clear") {
        spdlog::warn("fault clear {}", words.size() > 2 ? words[2] : "all");
        return apply_logged(engine_.clear_fault(words.size() > 2 ? words[2] : ""));
    }
    if (cmd == "fault" && words.size() == 2 && words[1] == "list") {
        std::string out;
        for (auto n : fault_names()) out += std::string(n) + "\n";
        return out + ok();
    }
    if (cmd == "card" && words.size() == 3 && words[1] == "read") {
        // card read TRACK2 | card read none: the card the next Read Card (06 C0) finds.
        return apply_logged(engine_.set_read_card(words[2] == "none" ? "" : words[2]));
    }
    if (cmd == "journal") {
        std::string out;
        std::ifstream in(journal_.path());
        std::string l;
        std::size_t n = 0;
        while (std::getline(in, l)) {
            out += l + "\n";
            ++n;
        }
        return out + ok(std::to_string(n));
    }
    if (cmd == "quit" || cmd == "shutdown") {
        quit = true;
        return ok();
    }
    if (cmd == "help") {
        return std::string("status\nfault set NAME[=VALUE]...\nfault clear [NAME]\nfault list\ncard read TRACK2|none\njournal\nshutdown\n") + ok();
    }
    return err("unknown command '" + line + "' (try help)");
}

}  // namespace

Expected<std::unique_ptr<Server>, std::string> Server::start(asio::io_context& io, ServerOptions options) {
    auto state = load_state(options.state);
    if (!state) return unexpected(state.error());
    auto server = std::make_unique<ServerImpl>(io, std::move(options), std::move(*state));
    if (auto r = server->init(); !r) return unexpected(r.error());
    return std::unique_ptr<Server>(std::move(server));
}

}  // namespace pb::sim
