#pragma once
// A scripted payment terminal for driver tests: it listens on a loopback TCP port, records
// every APDU the ECR sends (decoded with pb::zvt::decode_tcp, independently of the driver's
// channel) and answers with hand-written hex frames, so the driver's encoder cannot agree
// with itself by accident.

#include <boost/asio/io_context.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "adapters/tcp_link.hpp"
#include "protocol/core/bytes.hpp"
#include "protocol/zvt/apdu.hpp"

namespace pb::adapters::test {

/// Runs handlers until `done()` holds or `deadline` passes; returns done(). Never sleeps.
inline bool run_until(asio::io_context& io, const std::function<bool()>& done,
                      std::chrono::milliseconds deadline = std::chrono::milliseconds(3000)) {
    const auto end = std::chrono::steady_clock::now() + deadline;
    if (io.stopped()) io.restart();
    while (!done() && std::chrono::steady_clock::now() < end) {
        io.run_one_for(std::chrono::milliseconds(5));
        if (io.stopped()) io.restart();
    }
    return done();
}

/// Runs handlers for `window` (to show that something does NOT happen in that time).
inline void run_for(asio::io_context& io, std::chrono::milliseconds window) {
    if (io.stopped()) io.restart();
    const auto end = std::chrono::steady_clock::now() + window;
    while (std::chrono::steady_clock::now() < end) {
        io.run_one_until(end);
        if (io.stopped()) io.restart();
    }
}

/// "06 01 0A ..." -> canonical spaced lower-case hex, as pb::to_hex prints it.
inline std::string norm(const std::string& hex) {
    auto b = from_hex(hex);
    EXPECT_TRUE(b) << hex;
    return b ? to_hex(*b) : std::string();
}

class FakePt {
public:
    explicit FakePt(asio::io_context& io) : io_(io) {
        auto l = TcpListener::open(io.get_executor(), "127.0.0.1", 0);
        EXPECT_TRUE(l) << (l ? "" : l.error().message());
        listener_ = std::move(*l);
        accept();
    }
    ~FakePt() {
        listener_->close();
        if (link_) link_->close();
    }

    std::uint16_t port() const { return listener_->port(); }
    /// Connections accepted so far.
    int connections() const { return connections_; }
    /// True once the ECR closed the current connection (EOF or reset).
    bool peer_closed() const { return peer_closed_; }
    bool connected() const { return link_ && !peer_closed_; }
    /// Every APDU received on the current connection, as canonical hex.
    const std::vector<std::string>& received() const { return received_; }
    std::size_t count() const { return received_.size(); }
    std::string last() const { return received_.empty() ? std::string() : received_.back(); }

    /// Sends hand-written hex bytes as they are.
    void send(const std::string& hex) {
        auto bytes = std::make_shared<Bytes>(*from_hex(hex));
        asio::async_write(*link_, asio::buffer(*bytes), [bytes](error_code, std::size_t) {});
    }
    /// Closes the connection from the terminal's side.
    void drop() {
        if (link_) link_->close();
        peer_closed_ = true;
    }

    /// Waits for the next APDU from the ECR and returns it ("" on timeout).
    std::string next(std::chrono::milliseconds deadline = std::chrono::milliseconds(3000)) {
        const std::size_t want = consumed_ + 1;
        if (!run_until(io_, [&] { return received_.size() >= want; }, deadline)) return {};
        return received_[consumed_++];
    }
    /// Marks everything received so far as seen.
    void skip_all() { consumed_ = received_.size(); }
    std::size_t unread() const { return received_.size() - consumed_; }

    /// Answers a registration the way a real PT does (PA00P015 §2.1): 80 00 00, then the
    /// Completion with status byte and TID; checks the ECR acknowledges the Completion.
    void register_ecr(const std::string& expected_registration) {
        EXPECT_EQ(next(), norm(expected_registration));
        send("80 00 00");
        send("06 0F 0A 19 10 29 52 52 35 35 49 09 78");
        EXPECT_EQ(next(), norm("80 00 00")) << "ECR must acknowledge the Completion";
    }

private:
    void accept() {
        listener_->async_accept([this](error_code ec, LinkPtr l) {
            if (ec) return;
            if (link_) link_->close();
            link_ = std::move(l);
            ++connections_;
            peer_closed_ = false;
            received_.clear();
            consumed_ = 0;
            buffer_.clear();
            read(connections_);
            accept();
        });
    }
    void read(int conn) {
        link_->async_read_some(asio::buffer(rx_), [this, conn](error_code ec, std::size_t n) {
            if (conn != connections_) return;  // an older connection
            if (ec) {
                peer_closed_ = true;
                return;
            }
            buffer_.insert(buffer_.end(), rx_.begin(), rx_.begin() + static_cast<std::ptrdiff_t>(n));
            for (;;) {
                auto d = zvt::decode_tcp(buffer_);
                if (std::holds_alternative<zvt::NeedMore>(d.result)) break;
                if (auto* a = std::get_if<zvt::Apdu>(&d.result)) received_.push_back(to_hex(zvt::encode_apdu(*a)));
                else ADD_FAILURE() << "ECR sent a malformed APDU: " << to_hex(buffer_);
                buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(d.consumed));
                if (d.consumed == 0) break;
            }
            read(conn);
        });
    }

    asio::io_context& io_;
    std::unique_ptr<TcpListener> listener_;
    LinkPtr link_;
    int connections_ = 0;
    bool peer_closed_ = false;
    std::vector<std::string> received_;
    std::size_t consumed_ = 0;
    Bytes buffer_;
    std::array<std::uint8_t, 4096> rx_{};
};

}  // namespace pb::adapters::test
