#include "simulators/zvt/fault_line.hpp"

#include <algorithm>
#include <cstring>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include "protocol/zvt/serial_frame.hpp"

namespace pb::sim {

namespace asio = boost::asio;
using adapters::error_code;
using adapters::IoHandler;

// Bytes that are none of DLE, STX, ETX, ACK, NAK: a receiver must skip them ([ZVT-TP] §3.2).
static constexpr std::uint8_t kGarbage[] = {0xFF, 0x00, 0x55, 0xAA, 0x7E};

struct FaultLine::SessionState {
    bool open = true;
    asio::mutable_buffer pending_buf;
    std::optional<IoHandler> pending_read;
};

class FaultLine::Session : public adapters::Link {
public:
    Session(std::shared_ptr<FaultLine> line, std::shared_ptr<SessionState> state)
        : line_(std::move(line)), state_(std::move(state)) {}
    ~Session() override { close(); }

    executor_type get_executor() override { return line_->inner_->get_executor(); }
    void close() override {
        if (!state_->open) return;
        state_->open = false;
        if (state_->pending_read) {
            auto h = std::move(*state_->pending_read);
            state_->pending_read.reset();
            asio::post(get_executor(), [h = std::move(h)]() mutable {
                std::move(h)(asio::error::operation_aborted, 0);
            });
        }
    }
    bool is_open() const override { return state_->open; }
    std::string description() const override { return line_->description(); }

protected:
    void do_read_some(asio::mutable_buffer b, IoHandler h) override {
        if (!state_->open) {
            asio::post(get_executor(), [h = std::move(h)]() mutable { std::move(h)(asio::error::bad_descriptor, 0); });
            return;
        }
        state_->pending_buf = b;
        state_->pending_read = std::move(h);
        asio::post(get_executor(), [line = line_]() { line->deliver(); });
    }
    void do_write_some(asio::const_buffer b, IoHandler h) override {
        if (!state_->open) {
            asio::post(get_executor(), [h = std::move(h)]() mutable { std::move(h)(asio::error::bad_descriptor, 0); });
            return;
        }
        line_->write(state_, b, std::move(h));
    }

private:
    std::shared_ptr<FaultLine> line_;
    std::shared_ptr<SessionState> state_;
};

std::shared_ptr<FaultLine> FaultLine::create(adapters::LinkPtr inner, bool serial, FaultSet& faults,
                                             std::function<void(std::string_view)> fired) {
    std::shared_ptr<FaultLine> line(new FaultLine(std::move(inner), serial, faults, std::move(fired)));
    line->read_loop();
    return line;
}

FaultLine::FaultLine(adapters::LinkPtr inner, bool serial, FaultSet& faults,
                     std::function<void(std::string_view)> fired)
    : inner_(std::move(inner)), serial_(serial), faults_(faults), fired_(std::move(fired)) {}

FaultLine::~FaultLine() = default;

std::string FaultLine::description() const { return inner_->description(); }

void FaultLine::close() {
    if (current_) current_->open = false;
    inner_->close();
}

adapters::LinkPtr FaultLine::session() {
    if (current_ && current_->open) {
        current_->open = false;
        if (current_->pending_read) {
            auto h = std::move(*current_->pending_read);
            current_->pending_read.reset();
            asio::post(inner_->get_executor(),
                       [h = std::move(h)]() mutable { std::move(h)(asio::error::operation_aborted, 0); });
        }
    }
    current_ = std::make_shared<SessionState>();
    return std::make_unique<Session>(shared_from_this(), current_);
}

void FaultLine::read_loop() {
    inner_->async_read_some(asio::buffer(read_buf_), [self = shared_from_this()](error_code ec, std::size_t n) {
        if (ec) {
            self->error_ = ec;
            self->deliver();
            return;
        }
        self->spoil_incoming(self->read_buf_, n);
        self->rx_.insert(self->rx_.end(), self->read_buf_, self->read_buf_ + n);
        self->deliver();
        self->read_loop();
    });
}

void FaultLine::deliver() {
    auto s = current_;
    if (!s || !s->open || !s->pending_read) return;
    if (!rx_.empty()) {
        std::size_t n = std::min(rx_.size(), s->pending_buf.size());
        auto* out = static_cast<std::uint8_t*>(s->pending_buf.data());
        std::copy_n(rx_.begin(), n, out);
        rx_.erase(rx_.begin(), rx_.begin() + static_cast<std::ptrdiff_t>(n));
        auto h = std::move(*s->pending_read);
        s->pending_read.reset();
        std::move(h)(error_code{}, n);
        return;
    }
    if (error_) {
        auto h = std::move(*s->pending_read);
        s->pending_read.reset();
        std::move(h)(error_, 0);
    }
}

// The nak fault: flip the second CRC byte of the next N incoming frames, so the serial
// transport finds a CRC mismatch and NAKs the frame itself ([ZVT-TP] §3.2).
void FaultLine::spoil_incoming(std::uint8_t* data, std::size_t n) {
    if (!serial_) return;
    for (std::size_t i = 0; i < n; ++i) {
        std::uint8_t b = data[i];
        switch (scan_) {
            case Scan::outside:
                if (b == zvt::DLE) scan_ = Scan::dle_outside;
                break;
            case Scan::dle_outside:
                if (b == zvt::STX) {
                    scan_ = Scan::inside;
                    spoil_this_frame_ = FaultSet::take(faults_.nak);
                    if (spoil_this_frame_) fired_("nak");
                } else {
                    scan_ = b == zvt::DLE ? Scan::dle_outside : Scan::outside;
                }
                break;
            case Scan::inside:
                if (b == zvt::DLE) scan_ = Scan::dle_inside;
                break;
            case Scan::dle_inside:
                scan_ = b == zvt::ETX ? Scan::crc1 : Scan::inside;
                break;
            case Scan::crc1:
                scan_ = Scan::crc2;
                break;
            case Scan::crc2:
                if (spoil_this_frame_) data[i] ^= 0x5A;
                spoil_this_frame_ = false;
                scan_ = Scan::outside;
                break;
        }
    }
}

void FaultLine::write(std::shared_ptr<SessionState> s, asio::const_buffer b, IoHandler h) {
    const auto* p = static_cast<const std::uint8_t*>(b.data());
    std::size_t n = b.size();
    bool frame_start = serial_ ? (n >= 2 && p[0] == zvt::DLE && p[1] == zvt::STX) : n >= 3;
    auto out = std::make_shared<Bytes>();
    if (frame_start && FaultSet::take(faults_.garbage)) {
        fired_("garbage");
        out->insert(out->end(), std::begin(kGarbage), std::end(kGarbage));
    }
    std::size_t body_start = out->size();
    out->insert(out->end(), p, p + n);
    if (serial_ && frame_start && n >= 6 && FaultSet::take(faults_.corrupt_crc)) {
        fired_("corrupt_crc");
        out->back() ^= 0xA5;  // CRC high byte, sent last and never stuffed ([ZVT-TP] §3.3)
    }
    (void)body_start;
    auto delay = faults_.slow_byte;
    auto ex = inner_->get_executor();
    auto finish = [s, h = std::move(h), n](error_code ec) mutable {
        if (!s->open && !ec) ec = asio::error::operation_aborted;
        std::move(h)(ec, ec ? 0 : n);
    };
    if (delay.count() <= 0) {
        asio::async_write(*inner_, asio::buffer(*out),
                          [out, finish = std::move(finish)](error_code ec, std::size_t) mutable { finish(ec); });
        return;
    }
    // slow_byte: one byte, then a pause, then the next.
    struct Slow : std::enable_shared_from_this<Slow> {
        std::shared_ptr<FaultLine> line;
        std::shared_ptr<Bytes> bytes;
        std::size_t pos = 0;
        std::chrono::milliseconds delay;
        asio::steady_timer timer;
        std::function<void(error_code)> done;
        Slow(asio::any_io_executor e) : timer(e) {}
        void next() {
            if (pos == bytes->size()) {
                done({});
                return;
            }
            asio::async_write(*line->inner_, asio::buffer(&(*bytes)[pos], 1),
                              [self = shared_from_this()](error_code ec, std::size_t) {
                                  if (ec) {
                                      self->done(ec);
                                      return;
                                  }
                                  ++self->pos;
                                  if (self->pos == self->bytes->size()) {
                                      self->done({});
                                      return;
                                  }
                                  self->timer.expires_after(self->delay);
                                  self->timer.async_wait([self](error_code) { self->next(); });
                              });
        }
    };
    auto slow = std::make_shared<Slow>(ex);
    slow->line = shared_from_this();
    slow->bytes = out;
    slow->delay = delay;
    auto shared_finish = std::make_shared<decltype(finish)>(std::move(finish));
    slow->done = [shared_finish](error_code ec) { (*shared_finish)(ec); };
    slow->next();
}

}  // namespace pb::sim
