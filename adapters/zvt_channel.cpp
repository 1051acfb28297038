#include "adapters/zvt_channel.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <deque>
#include <map>
#include <type_traits>

#include "adapters/paced_link.hpp"

namespace pb::adapters {

namespace {

// boost::system::error_category has a protected non-virtual destructor by design.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class ChannelCategory final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "pb.channel"; }
    std::string message(int ev) const override {
        switch (static_cast<ChannelError>(ev)) {
            case ChannelError::transmission_error: return "transmission error: no ACK after all repeats";
            case ChannelError::malformed_stream: return "malformed APDU stream";
            case ChannelError::write_timeout: return "write did not finish within its deadline";
            case ChannelError::link_reset: return "link failed before the peer acknowledged";
        }
        return "unknown channel error";
    }
};
#pragma GCC diagnostic pop

// State shared by the handlers of both transports. Handlers hold a shared_ptr to it, so the
// public handle can be destroyed at any time; `closed_` stops all further callbacks.
class Core : public std::enable_shared_from_this<Core> {
public:
    Core(LinkPtr link, std::chrono::milliseconds write_timeout)
        : link_(std::move(link)), write_timer_(link_->get_executor()), write_timeout_(write_timeout) {}
    virtual ~Core() = default;

    void set_apdu_handler(ApduChannel::ApduHandler h) { on_apdu_ = std::move(h); }
    void set_error_handler(ApduChannel::ErrorHandler h) { on_error_ = std::move(h); }
    void start() {
        if (started_ || closed_) return;
        started_ = true;
        read();
    }
    void close() {
        abandoned_ = true;
        if (closed_) return;
        closed_ = true;
        on_apdu_ = nullptr;
        on_error_ = nullptr;
        link_->close();
        write_timer_.cancel();
        stop_timers();
    }
    bool is_open() const { return !closed_ && link_->is_open(); }
    std::string description() const { return link_->description(); }
    virtual ApduChannelStats stats() const { return stats_; }
    virtual void send(Bytes apdu, ApduChannel::SendHandler done) = 0;

protected:
    virtual void on_bytes(ByteView bytes) = 0;
    virtual void fail_pending(error_code ec) = 0;
    virtual void stop_timers() {}

    void send_on_closed(ApduChannel::SendHandler done) {
        if (done) asio::post(link_->get_executor(), [done] { done(asio::error::not_connected); });
    }

    void deliver(zvt::Apdu apdu) {
        ++stats_.apdus_received;
        if (on_apdu_) {
            auto h = on_apdu_;  // the callback may replace the handler or close the channel
            h(std::move(apdu));
        }
    }

    // The link or the stream is lost: pending sends fail, then on_error, then silence.
    void fail(error_code ec, const std::string& detail) {
        if (closed_) return;
        closed_ = true;
        link_->close();
        write_timer_.cancel();
        stop_timers();
        fail_pending(ec);
        auto h = std::move(on_error_);
        on_apdu_ = nullptr;
        on_error_ = nullptr;
        if (h && !abandoned_) h(ec, detail);
    }

    // Writes go out one at a time in order. An item with no bytes is a marker whose `after`
    // runs when every earlier write has finished (serial: T2 starts once the frame is out).
    struct WriteItem {
        Bytes bytes;
        std::function<void(error_code)> after;
    };
    void enqueue_write(Bytes bytes, std::function<void(error_code)> after) {
        if (closed_) return;
        writes_.push_back(WriteItem{std::move(bytes), std::move(after)});
        write_next();
    }
    // Calls the `after` of every queued write with `ec` (only once; the bytes stay until
    // the core dies because a cancelled write may still refer to them).
    void fail_writes(error_code ec) {
        for (auto& w : writes_)
            if (auto a = std::exchange(w.after, nullptr)) a(ec);
    }

    LinkPtr link_;
    ApduChannelStats stats_;
    bool closed_ = false;
    bool abandoned_ = false;  // closed by the user: no callbacks at all

private:
    void read() {
        link_->async_read_some(asio::buffer(rx_), [self = shared_from_this()](error_code ec, std::size_t n) {
            if (self->closed_) return;
            if (ec) return self->fail(ec, ec == asio::error::eof ? "peer closed the link" : "read: " + ec.message());
            self->stats_.bytes_received += n;
            self->on_bytes(ByteView(self->rx_.data(), n));
            if (!self->closed_) self->read();
        });
    }

    void write_next() {
        while (!writing_ && !closed_ && !writes_.empty()) {
            if (writes_.front().bytes.empty()) {
                auto after = std::move(writes_.front().after);
                writes_.pop_front();
                if (after) after({});
                continue;
            }
            writing_ = true;
            const std::uint64_t seq = ++write_seq_;
            write_timer_.expires_after(write_timeout_);
            write_timer_.async_wait([self = shared_from_this(), seq](error_code ec) {
                if (ec || self->closed_ || !self->writing_ || self->write_seq_ != seq) return;
                self->fail(ChannelError::write_timeout,
                           "write of " + std::to_string(self->writes_.front().bytes.size()) + " bytes timed out");
            });
            asio::async_write(*link_, asio::buffer(writes_.front().bytes),
                              [self = shared_from_this()](error_code ec, std::size_t n) {
                                  self->writing_ = false;
                                  self->write_timer_.cancel();
                                  if (self->closed_) return;
                                  if (ec) return self->fail(ec, "write: " + ec.message());
                                  self->stats_.bytes_sent += n;
                                  auto after = std::move(self->writes_.front().after);
                                  self->writes_.pop_front();
                                  if (after) after({});
                                  self->write_next();
                              });
        }
    }

    asio::steady_timer write_timer_;
    std::chrono::milliseconds write_timeout_;
    std::array<std::uint8_t, 4096> rx_{};
    std::deque<WriteItem> writes_;
    bool writing_ = false;
    bool started_ = false;
    std::uint64_t write_seq_ = 0;
    ApduChannel::ApduHandler on_apdu_;
    ApduChannel::ErrorHandler on_error_;
};

// ---- TCP ([ZVT-TP] §4) ----------------------------------------------------------------------

class TcpCore final : public Core {
public:
    TcpCore(LinkPtr link, TcpChannelOptions o) : Core(std::move(link), o.write_timeout), max_data_(o.max_apdu_data) {}

    void send(Bytes apdu, ApduChannel::SendHandler done) override {
        if (closed_) return send_on_closed(std::move(done));
        std::weak_ptr<Core> weak = weak_from_this();
        enqueue_write(std::move(apdu), [this, weak, done = std::move(done)](error_code ec) {
            auto self = weak.lock();
            if (!self) return;
            if (!ec) ++stats_.apdus_sent;
            if (done && !abandoned_) done(ec);
        });
    }

protected:
    void on_bytes(ByteView bytes) override {
        buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
        std::size_t pos = 0;
        while (!closed_) {
            zvt::TcpDecode d = zvt::decode_tcp(ByteView(buffer_).subspan(pos), max_data_);
            if (std::holds_alternative<zvt::NeedMore>(d.result)) break;
            pos += d.consumed;
            if (auto* apdu = std::get_if<zvt::Apdu>(&d.result)) {
                deliver(std::move(*apdu));
            } else {
                // No framing on TCP: after a bad header nothing that follows can be trusted.
                return fail(ChannelError::malformed_stream, std::get<zvt::DecodeError>(d.result).to_string());
            }
        }
        if (!closed_) buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(pos));
    }
    void fail_pending(error_code ec) override { fail_writes(ec); }

private:
    std::size_t max_data_;
    Bytes buffer_;  // the undecoded remainder
};

// ---- serial ([ZVT-TP] §3) -------------------------------------------------------------------

class SerialCore final : public Core {
public:
    SerialCore(LinkPtr link, SerialChannelOptions o)
        : Core(std::move(link), o.write_timeout), machine_(o.transport),
          t1_(link_->get_executor()), t2_(link_->get_executor()) {}

    void send(Bytes apdu, ApduChannel::SendHandler done) override {
        if (closed_) return send_on_closed(std::move(done));
        const std::uint64_t id = next_id_++;
        sends_.emplace(id, std::move(done));
        zvt::serial::SendApdu e{id, std::move(apdu)};
        // A callback that sends from inside run() waits until the current actions are done,
        // so the order of writes always follows the machine's order.
        if (stepping_) deferred_.push_back(std::move(e));
        else run(e);
    }

    ApduChannelStats stats() const override {
        ApduChannelStats s = stats_;
        s.serial = machine_.stats();
        return s;
    }

protected:
    void on_bytes(ByteView bytes) override { run(zvt::serial::BytesReceived{bytes}); }
    void fail_pending(error_code) override { run(zvt::serial::LinkReset{}); }
    void stop_timers() override {
        t1_.cancel();
        t2_.cancel();
        t2_wanted_ = 0;
    }

private:
    void run(const zvt::SerialEvent& event) {
        auto actions = machine_.step(event);
        const bool outer = !stepping_;
        stepping_ = true;
        for (auto& a : actions) {
            if (abandoned_) break;
            std::visit([this](auto& act) { apply(act); }, a);
        }
        if (!outer) return;
        stepping_ = false;
        while (!deferred_.empty() && !closed_) {
            zvt::serial::SendApdu e = std::move(deferred_.front());
            deferred_.pop_front();
            run(e);
        }
    }

    void apply(zvt::serial::WriteBytes& a) { enqueue_write(std::move(a.bytes), nullptr); }
    void apply(zvt::serial::StartTimer& a) {
        if (closed_) return;
        if (a.timer == zvt::SerialTimer::t1) return arm(t1_, a);
        // T2 runs from the moment the frame has left, not from when it was queued.
        t2_wanted_ = a.generation;
        std::weak_ptr<Core> weak = weak_from_this();
        enqueue_write({}, [this, weak, a](error_code ec) {
            auto self = weak.lock();
            if (!self || ec || closed_ || t2_wanted_ != a.generation) return;
            arm(t2_, a);
        });
    }
    void apply(zvt::serial::CancelTimer& a) {
        if (a.timer == zvt::SerialTimer::t1) {
            t1_.cancel();
        } else {
            t2_wanted_ = 0;
            t2_.cancel();
        }
    }
    void apply(zvt::serial::DeliverApdu& a) {
        auto apdu = zvt::decode_apdu(a.apdu);
        if (!apdu) {
            ++stats_.malformed_apdus;  // ACKed at transport level already; the session times out
            return;
        }
        deliver(std::move(*apdu));
    }
    void apply(zvt::serial::SendDone& a) {
        ++stats_.apdus_sent;
        finish(a.id, {});
    }
    void apply(zvt::serial::SendFailed& a) {
        finish(a.id, a.reason == zvt::serial::SendFailure::transmission_error ? ChannelError::transmission_error
                                                                      : ChannelError::link_reset);
    }

    void finish(std::uint64_t id, error_code ec) {
        auto it = sends_.find(id);
        if (it == sends_.end()) return;
        auto done = std::move(it->second);
        sends_.erase(it);
        if (done && !abandoned_) done(ec);
    }

    void arm(asio::steady_timer& timer, const zvt::serial::StartTimer& a) {
        timer.expires_after(std::chrono::milliseconds(a.ms));
        timer.async_wait([self = shared_from_this(), this, which = a.timer, gen = a.generation](error_code ec) {
            if (ec || closed_) return;
            run(zvt::serial::TimerExpired{which, gen});
        });
    }

    zvt::SerialTransport machine_;
    asio::steady_timer t1_, t2_;
    std::uint64_t t2_wanted_ = 0;
    std::uint64_t next_id_ = 1;
    std::map<std::uint64_t, ApduChannel::SendHandler> sends_;
    std::deque<zvt::serial::SendApdu> deferred_;
    bool stepping_ = false;
};

// The handle the user owns; dropping it closes the channel.
class Handle final : public ApduChannel {
public:
    explicit Handle(std::shared_ptr<Core> core) : core_(std::move(core)) {}
    ~Handle() override { core_->close(); }
    void on_apdu(ApduHandler h) override { core_->set_apdu_handler(std::move(h)); }
    void on_error(ErrorHandler h) override { core_->set_error_handler(std::move(h)); }
    void start() override { core_->start(); }
    void send(Bytes apdu, SendHandler done) override { core_->send(std::move(apdu), std::move(done)); }
    void close() override { core_->close(); }
    bool is_open() const override { return core_->is_open(); }
    std::string description() const override { return core_->description(); }
    ApduChannelStats stats() const override { return core_->stats(); }

private:
    std::shared_ptr<Core> core_;
};

}  // namespace

const boost::system::error_category& channel_category() {
    static const ChannelCategory c;
    return c;
}

error_code make_error_code(ChannelError e) { return {static_cast<int>(e), channel_category()}; }

std::unique_ptr<ApduChannel> make_tcp_apdu_channel(LinkPtr link, TcpChannelOptions options) {
    return std::make_unique<Handle>(std::make_shared<TcpCore>(std::move(link), options));
}

std::unique_ptr<ApduChannel> make_serial_apdu_channel(LinkPtr link, SerialChannelOptions options) {
    if (options.pace) link = make_paced_link(std::move(link), options.baud, options.bits_per_byte);
    return std::make_unique<Handle>(std::make_shared<SerialCore>(std::move(link), options));
}

}  // namespace pb::adapters
