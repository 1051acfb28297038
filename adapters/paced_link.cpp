#include "adapters/paced_link.hpp"

#include <boost/asio/append.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <chrono>

namespace pb::adapters {
namespace {

using Clock = std::chrono::steady_clock;

class PacedLink final : public Link {
    // Internal handlers hold the state, so destroying the link with a write in flight is safe.
    struct State {
        State(LinkPtr l, unsigned baud, unsigned bits)
            : inner(std::move(l)), timer(inner->get_executor()),
              byte_time(std::chrono::nanoseconds(1'000'000'000ull * bits / std::max(baud, 1u))),
              chunk(std::max<std::size_t>(1, std::chrono::milliseconds(1) / std::max(byte_time, std::chrono::nanoseconds(1)))) {}
        LinkPtr inner;
        asio::steady_timer timer;
        std::chrono::nanoseconds byte_time;
        std::size_t chunk;
        Clock::time_point line_free{};  // when the last byte written has left the wire
    };

public:
    PacedLink(LinkPtr inner, unsigned baud, unsigned bits)
        : st_(std::make_shared<State>(std::move(inner), baud, bits)),
          description_(st_->inner->description() + " paced " + std::to_string(baud) + " baud") {}
    ~PacedLink() override { close(); }

    executor_type get_executor() override { return st_->inner->get_executor(); }
    void close() override {
        st_->timer.cancel();
        st_->inner->close();
    }
    bool is_open() const override { return st_->inner->is_open(); }
    std::string description() const override { return description_; }

protected:
    void do_read_some(asio::mutable_buffer buffer, IoHandler handler) override {
        st_->inner->async_read_some(buffer, std::move(handler));
    }
    void do_write_some(asio::const_buffer buffer, IoHandler handler) override {
        auto st = st_;
        const std::size_t n = std::min(buffer.size(), st->chunk);
        // Absolute schedule: a late wake-up does not stretch the whole frame.
        const auto start = std::max(Clock::now(), st->line_free);
        st->timer.expires_at(start);
        st->timer.async_wait([st, start, b = asio::const_buffer(buffer.data(), n), h = std::move(handler)](
                                 error_code ec) mutable {
            if (ec) return std::move(h)(ec, 0);
            asio::async_write(*st->inner, b, [st, start, h = std::move(h)](error_code ec2, std::size_t written) mutable {
                st->line_free = start + st->byte_time * written;
                std::move(h)(ec2, written);
            });
        });
    }

private:
    std::shared_ptr<State> st_;
    std::string description_;
};

}  // namespace

LinkPtr make_paced_link(LinkPtr inner, unsigned baud, unsigned bits_per_byte) {
    return std::make_unique<PacedLink>(std::move(inner), baud, bits_per_byte);
}

}  // namespace pb::adapters
