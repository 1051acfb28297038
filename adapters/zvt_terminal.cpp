#include "adapters/zvt_terminal.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <deque>
#include <utility>

#include "adapters/crash_point.hpp"
#include "adapters/serial_link.hpp"
#include "adapters/tcp_link.hpp"
#include "adapters/zvt_channel.hpp"

namespace pb::adapters {

std::string_view terminal_state_name(TerminalState s) {
    switch (s) {
        case TerminalState::offline: return "offline";
        case TerminalState::registering: return "registering";
        case TerminalState::ready: return "ready";
        case TerminalState::busy: return "busy";
    }
    return "unknown";
}

namespace {

using std::chrono::milliseconds;

// All state lives here. Every asynchronous handler holds a weak_ptr to it, so the public
// handle can be destroyed at any moment (also from inside a callback): the handle's
// destructor silences the core and drops the only strong reference.
class Core : public std::enable_shared_from_this<Core> {
public:
    Core(asio::any_io_executor ex, ZvtTerminalOptions o, ZvtTerminalCallbacks cb)
        : ex_(std::move(ex)), opt_(std::move(o)), cb_(std::move(cb)), session_(opt_.ecr),
          t3_(ex_), t4_(ex_), reconnect_timer_(ex_), poll_timer_(ex_), backoff_(opt_.backoff_min) {}

    void start() {
        if (running_ || dead_) return;
        running_ = true;
        stopped_quiet_ = false;
        backoff_ = opt_.backoff_min;
        connect();
    }

    void stop() {
        if (!running_) return;
        running_ = false;
        ++connect_gen_;  // a connect still under way is discarded when it completes
        reconnect_timer_.cancel();
        poll_timer_.cancel();
        if (channel_) {
            close_channel();
            // Finishes a running operation (unknown before the commit point) -> on_finished.
            feed(zvt::LinkLost{});
        }
        set_state(TerminalState::offline, "stopped");
        // "No callbacks after stop() returns except that on_finished" (header).
        stopped_quiet_ = true;
    }

    // The handle is gone: no callback of any kind from here on.
    void shutdown() {
        dead_ = true;
        running_ = false;
        ++connect_gen_;
        reconnect_timer_.cancel();
        poll_timer_.cancel();
        cancel_timer(zvt::Timer::t3);
        cancel_timer(zvt::Timer::t4);
        if (channel_) close_channel();
        cb_ = {};
        queue_.clear();
    }

    bool begin(const zvt::OperationRequest& request) {
        if (dead_ || !running_ || state_ != TerminalState::ready || !channel_ || op_ != OpKind::none) return false;
        op_ = OpKind::user;
        ++op_seq_;
        crash_prefix_ = crash_prefix(request.op);
        command_sent_ = false;
        last_was_status_ = false;
        acked_status_ = false;
        poll_timer_.cancel();
        set_state(TerminalState::busy, std::string(zvt::operation_name(request.op)));
        feed(zvt::StartRequested{request});
        return true;
    }

    void abort() {
        if (op_ == OpKind::user) feed(zvt::AbortRequested{});
    }

    TerminalState state() const { return state_; }
    const std::string& id() const { return opt_.id; }
    std::optional<std::uint32_t> tid() const { return tid_; }
    std::optional<std::uint8_t> terminal_status() const { return terminal_status_; }

private:
    enum class OpKind : std::uint8_t { none, registration, user, poll };

    // ---- connection ---------------------------------------------------------------------

    void connect() {
        if (!running_ || dead_) return;
        set_state(TerminalState::offline, "connecting");
        const std::uint64_t gen = ++connect_gen_;
        std::weak_ptr<Core> weak = weak_from_this();
        if (opt_.tcp_host) {
            async_connect_tcp(ex_, *opt_.tcp_host, opt_.tcp_port, opt_.connect_timeout,
                              [weak, gen](error_code ec, LinkPtr link) {
                                  auto self = weak.lock();
                                  if (!self || self->connect_gen_ != gen || !self->running_) return;
                                  if (ec) return self->schedule_reconnect("connect: " + ec.message());
                                  self->attach(std::move(link));
                              });
        } else if (opt_.serial_device) {
            // Opening a tty does not block; posted anyway so that start() never calls back.
            asio::post(ex_, [weak, gen] {
                auto self = weak.lock();
                if (!self || self->connect_gen_ != gen || !self->running_) return;
                SerialSettings s;
                s.device = *self->opt_.serial_device;
                s.baud = self->opt_.baud;
                s.stop_bits = self->opt_.stop_bits;
                auto link = open_serial_link(self->ex_, s);
                if (!link) return self->schedule_reconnect("open " + s.to_string() + ": " + link.error().message());
                self->attach(std::move(*link));
            });
        } else {
            set_state(TerminalState::offline, "no transport configured");
            running_ = false;
        }
    }

    void attach(LinkPtr link) {
        if (opt_.tcp_host) {
            channel_ = make_tcp_apdu_channel(std::move(link));
        } else {
            SerialChannelOptions so;
            so.transport.t1_ms = static_cast<std::uint32_t>(opt_.t1.count());
            so.transport.t2_ms = static_cast<std::uint32_t>(opt_.t2.count());
            so.baud = opt_.baud;
            channel_ = make_serial_apdu_channel(std::move(link), so);
        }
        const std::uint64_t gen = ++link_gen_;
        std::weak_ptr<Core> weak = weak_from_this();
        channel_->on_apdu([weak, gen](zvt::Apdu apdu) {
            auto self = weak.lock();
            if (!self || self->link_gen_ != gen || !self->channel_) return;
            self->received(std::move(apdu));
        });
        channel_->on_error([weak, gen](error_code ec, const std::string& detail) {
            auto self = weak.lock();
            if (!self || self->link_gen_ != gen || !self->channel_) return;
            self->link_down(detail.empty() ? ec.message() : detail);
        });
        channel_->start();
        // PA00P015 §2.1: the ECR registers after every connect, before any other command.
        op_ = OpKind::registration;
        set_state(TerminalState::registering, channel_->description());
        zvt::OperationRequest reg;
        reg.op = zvt::Operation::registration;
        feed(zvt::StartRequested{reg});
    }

    void close_channel() {
        if (!channel_) return;
        ++link_gen_;
        std::shared_ptr<ApduChannel> dead(std::move(channel_));
        dead->close();
        // We may be inside one of the channel's own callbacks: destroy it later.
        asio::post(ex_, [dead] {});
    }

    // The link failed under us (read/write error, send failure, persist failure).
    void link_down(const std::string& reason) {
        if (!channel_) return;
        close_channel();
        feed(zvt::LinkLost{});
        schedule_reconnect(reason);
    }

    void schedule_reconnect(const std::string& reason) {
        if (!running_ || dead_ || reconnect_pending_) return;
        if (channel_) close_channel();
        reconnect_pending_ = true;
        set_state(TerminalState::offline, reason);
        const milliseconds wait = backoff_;
        backoff_ = std::min(backoff_ * 2, opt_.backoff_max);
        reconnect_timer_.expires_after(wait);
        reconnect_timer_.async_wait([weak = weak_from_this()](error_code ec) {
            auto self = weak.lock();
            if (!self) return;
            self->reconnect_pending_ = false;
            if (ec || !self->running_) return;
            self->connect();
        });
    }

    // ---- the session --------------------------------------------------------------------

    // Actions are carried out in order. A callback that feeds another event (begin() from
    // on_finished, done() from inside on_persist) appends to the queue instead of nesting,
    // so one event's actions are never interleaved with another's.
    void feed(const zvt::EcrEvent& event) {
        auto actions = session_.step(event);
        for (auto& a : actions) queue_.push_back(std::move(a));
        if (draining_) return;
        draining_ = true;
        auto keep = shared_from_this();  // a callback may destroy the handle
        while (!queue_.empty() && !dead_) {
            zvt::EcrAction a = std::move(queue_.front());
            queue_.pop_front();
            std::visit([this](auto& x) { act(x); }, a);
        }
        draining_ = false;
    }

    void received(zvt::Apdu apdu) {
        const auto c = static_cast<zvt::Command>(apdu.control());
        if (op_ == OpKind::user) {
            // Crash points (adapters/crash_point.hpp): the message has arrived, nothing of it
            // is acted on yet.
            if (c == zvt::Command::intermediate_status) PB_CRASH_POINT_OF(crash_prefix_, crash::kIntermediateStatus);
            if (c == zvt::Command::status_information) {
                PB_CRASH_POINT_OF(crash_prefix_, crash::kStatusInformation);
                last_was_status_ = true;
            } else if (c != zvt::Command::positive_ack) {
                last_was_status_ = false;
            }
            if (c == zvt::Command::completion) PB_CRASH_POINT_OF(crash_prefix_, crash::kCompletion);
        }
        feed(zvt::ApduReceived{std::move(apdu)});
    }

    void act(zvt::SendApdu& a) {
        if (!channel_) return;  // the link is gone; the session has been (or is being) told
        const std::uint64_t gen = link_gen_;
        // Which crash point the completed write passes: the operation's command, or our
        // acknowledgement of its Status-Information (the commit point, PA00P015 §2.2.8).
        std::string_view point;
        if (op_ == OpKind::user) {
            const auto c = static_cast<zvt::Command>(a.apdu.control());
            if (c == zvt::Command::positive_ack && last_was_status_ && !acked_status_) {
                point = crash::kAckSent;
                acked_status_ = true;
            } else if (c != zvt::Command::positive_ack && c != zvt::Command::abort && a.apdu.cls == 0x06 &&
                       !command_sent_) {
                point = crash::kCommandSent;
            }
            if (point == crash::kCommandSent) command_sent_ = true;
        }
        channel_->send(zvt::encode_apdu(a.apdu), [weak = weak_from_this(), gen, point](error_code ec) {
            auto self = weak.lock();
            if (!ec) {
                if (self && point == crash::kCommandSent) PB_CRASH_POINT_OF(self->crash_prefix_, crash::kCommandSent);
                if (self && point == crash::kAckSent) PB_CRASH_POINT_OF(self->crash_prefix_, crash::kAckSent);
                return;
            }
            if (!self || self->link_gen_ != gen) return;
            self->link_down("send: " + ec.message());
        });
    }

    void act(zvt::ArmTimer& a) {
        auto [timer, gen] = timer_of(a.timer);
        const std::uint64_t g = ++gen;
        timer.expires_after(milliseconds(a.ms));
        timer.async_wait([weak = weak_from_this(), which = a.timer, g](error_code ec) {
            if (ec) return;
            auto self = weak.lock();
            if (!self || self->timer_of(which).second != g) return;  // re-armed or cancelled since
            self->feed(zvt::TimerExpired{which});
        });
    }

    void act(zvt::CancelTimer& a) { cancel_timer(a.timer); }

    void act(zvt::Progress& p) {
        if (op_ == OpKind::user && cb_.on_progress && !stopped_quiet_) cb_.on_progress(p);
    }

    void act(zvt::ReceiptText& r) {
        if (op_ == OpKind::user && cb_.on_receipt && !stopped_quiet_) cb_.on_receipt(r);
    }

    void act(zvt::PersistResult& p) {
        if (!cb_.on_persist || op_ != OpKind::user) {
            // Nobody to make it durable (a non-financial internal operation, or no ledger
            // wired): acknowledge as the session would after the ledger.
            feed(zvt::ResultPersisted{});
            return;
        }
        auto called = std::make_shared<bool>(false);
        const std::uint64_t seq = op_seq_;
        auto done = [weak = weak_from_this(), seq, called](bool ok) {
            if (*called) return;
            *called = true;
            auto self = weak.lock();
            // A late answer for an operation that already ended (link lost, stop()) changes
            // nothing: the session is idle or busy with another operation.
            if (!self || self->dead_ || self->op_seq_ != seq || self->op_ != OpKind::user) return;
            if (ok) {
                self->feed(zvt::ResultPersisted{});
            } else {
                // §2.2.8: no acknowledgement -> the PT reverses. Dropping the link makes sure
                // nothing we might still send can be taken for one.
                self->link_down("result could not be stored; acknowledgement withheld");
            }
        };
        cb_.on_persist(p, std::move(done));
    }

    void act(zvt::Finished& f) {
        if (f.terminal_status) terminal_status_ = f.terminal_status;
        if (f.tid) tid_ = f.tid;
        const OpKind kind = std::exchange(op_, OpKind::none);
        switch (kind) {
            case OpKind::registration:
                if (f.outcome == zvt::Outcome::done) {
                    backoff_ = opt_.backoff_min;
                    enter_ready("registered");
                } else {
                    schedule_reconnect("registration failed: " + f.reason);
                }
                return;
            case OpKind::user:
                if (channel_) enter_ready(f.reason);
                else set_state(TerminalState::offline, f.reason);
                if (cb_.on_finished) {
                    auto cb = cb_.on_finished;  // the callback may destroy us
                    cb(f);
                }
                return;
            case OpKind::poll:
                if (channel_) enter_ready("status " + f.reason);
                return;
            case OpKind::none:
                return;
        }
    }

    void act(zvt::CloseLink& c) {
        // The session has already decided the operation (it follows with LinkLost itself).
        close_channel();
        schedule_reconnect(c.reason);
    }

    // ---- helpers ------------------------------------------------------------------------

    void enter_ready(const std::string& detail) {
        if (!running_) return;
        set_state(TerminalState::ready, detail);
        arm_poll();
    }

    // [ZVT-CMD] §2.56: the ECR "should send Status-Enquiries as often as possible (every
    // minute or more frequently)" so that the PT can run its time-controlled events.
    void arm_poll() {
        if (opt_.status_poll_interval.count() <= 0) return;
        poll_timer_.expires_after(opt_.status_poll_interval);
        poll_timer_.async_wait([weak = weak_from_this()](error_code ec) {
            if (ec) return;
            auto self = weak.lock();
            if (!self || !self->running_ || self->state_ != TerminalState::ready || !self->channel_ ||
                self->op_ != OpKind::none)
                return;
            self->op_ = OpKind::poll;
            self->set_state(TerminalState::busy, "status enquiry");
            zvt::OperationRequest r;
            r.op = zvt::Operation::status_enquiry;
            self->feed(zvt::StartRequested{r});
        });
    }

    std::pair<asio::steady_timer&, std::uint64_t&> timer_of(zvt::Timer t) {
        if (t == zvt::Timer::t3) return {t3_, t3_gen_};
        return {t4_, t4_gen_};
    }

    void cancel_timer(zvt::Timer t) {
        auto [timer, gen] = timer_of(t);
        ++gen;
        timer.cancel();
    }

    void set_state(TerminalState s, const std::string& detail) {
        const bool changed = s != state_;
        state_ = s;
        if (changed && cb_.on_state && !stopped_quiet_ && !dead_) {
            auto cb = cb_.on_state;
            cb(s, detail);
        }
    }

    asio::any_io_executor ex_;
    ZvtTerminalOptions opt_;
    ZvtTerminalCallbacks cb_;
    zvt::EcrSession session_;
    std::unique_ptr<ApduChannel> channel_;

    asio::steady_timer t3_;
    asio::steady_timer t4_;
    std::uint64_t t3_gen_ = 0;
    std::uint64_t t4_gen_ = 0;
    asio::steady_timer reconnect_timer_;
    asio::steady_timer poll_timer_;
    milliseconds backoff_;
    bool reconnect_pending_ = false;

    std::uint64_t connect_gen_ = 0;
    std::uint64_t link_gen_ = 0;
    std::uint64_t op_seq_ = 0;
    OpKind op_ = OpKind::none;
    TerminalState state_ = TerminalState::offline;
    bool running_ = false;
    bool dead_ = false;
    bool stopped_quiet_ = false;
    bool draining_ = false;
    std::deque<zvt::EcrAction> queue_;

    std::optional<std::uint32_t> tid_;
    std::optional<std::uint8_t> terminal_status_;

    // Crash points of the running user operation (empty prefix: none).
    static std::string_view crash_prefix(zvt::Operation op) {
        switch (op) {
            case zvt::Operation::authorisation: return crash::flow_prefix(crash::Flow::sale);
            case zvt::Operation::refund: return crash::flow_prefix(crash::Flow::refund);
            case zvt::Operation::reversal: return crash::flow_prefix(crash::Flow::reversal);
            case zvt::Operation::end_of_day: return crash::flow_prefix(crash::Flow::day_close);
            case zvt::Operation::repeat_receipt: return crash::flow_prefix(crash::Flow::recovery);
            default: return {};
        }
    }
    std::string_view crash_prefix_;
    bool command_sent_ = false;     // the operation's command has been handed to the link
    bool last_was_status_ = false;  // the last PT message was a 04 0F (an 80 00 now acks it)
    bool acked_status_ = false;     // that 80 00 has been sent
};

class Terminal final : public ZvtTerminal {
public:
    Terminal(asio::any_io_executor ex, ZvtTerminalOptions o, ZvtTerminalCallbacks cb)
        : core_(std::make_shared<Core>(std::move(ex), std::move(o), std::move(cb))) {}
    ~Terminal() override { core_->shutdown(); }

    void start() override {
        auto keep = core_;
        keep->start();
    }
    void stop() override {
        auto keep = core_;
        keep->stop();
    }
    bool begin(const zvt::OperationRequest& request) override {
        auto keep = core_;
        return keep->begin(request);
    }
    void abort() override {
        auto keep = core_;
        keep->abort();
    }
    TerminalState state() const override { return core_->state(); }
    const std::string& id() const override { return core_->id(); }
    std::optional<std::uint32_t> tid() const override { return core_->tid(); }
    std::optional<std::uint8_t> terminal_status() const override { return core_->terminal_status(); }

private:
    std::shared_ptr<Core> core_;
};

}  // namespace

std::unique_ptr<ZvtTerminal> ZvtTerminal::create(asio::any_io_executor ex, ZvtTerminalOptions options,
                                                 ZvtTerminalCallbacks callbacks) {
    return std::make_unique<Terminal>(std::move(ex), std::move(options), std::move(callbacks));
}

}  // namespace pb::adapters
