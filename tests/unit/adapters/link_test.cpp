// Links: TCP on loopback, the in-memory pair with fail-Nth, line-speed pacing.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "adapters/memory_link.hpp"
#include "adapters/paced_link.hpp"
#include "adapters/tcp_link.hpp"
#include "tests/unit/adapters/io_test_util.hpp"

namespace pb::adapters {
namespace {

using namespace std::chrono_literals;
using test::run_until;

struct Accepted {
    std::optional<error_code> ec;
    LinkPtr link;
};

TEST(TcpLink, ConnectsToEphemeralPortAndExchangesBytesBothWays) {
    asio::io_context io;
    auto listener = TcpListener::open(io.get_executor(), "127.0.0.1", 0);
    ASSERT_TRUE(listener) << listener.error().message();
    const std::uint16_t port = (*listener)->port();
    ASSERT_NE(port, 0);

    Accepted server;
    (*listener)->async_accept([&](error_code ec, LinkPtr l) {
        server.ec = ec;
        server.link = std::move(l);
    });
    Accepted client;
    async_connect_tcp(io.get_executor(), "127.0.0.1", port, 2000ms, [&](error_code ec, LinkPtr l) {
        client.ec = ec;
        client.link = std::move(l);
    });
    ASSERT_TRUE(run_until(io, [&] { return server.ec && client.ec; }));
    ASSERT_FALSE(*client.ec) << client.ec->message();
    ASSERT_FALSE(*server.ec);
    EXPECT_EQ(client.link->description(), "tcp 127.0.0.1:" + std::to_string(port));
    EXPECT_TRUE(client.link->is_open());

    const std::string ping = "\x06\x01\x07ping";
    std::string got(ping.size(), '\0');
    bool read_done = false;
    asio::async_read(*server.link, asio::buffer(got), [&](error_code ec, std::size_t n) {
        EXPECT_FALSE(ec);
        EXPECT_EQ(n, ping.size());
        read_done = true;
    });
    asio::async_write(*client.link, asio::buffer(ping), [](error_code ec, std::size_t) { EXPECT_FALSE(ec); });
    ASSERT_TRUE(run_until(io, [&] { return read_done; }));
    EXPECT_EQ(got, ping);

    // And back; then the client closes and the server sees eof.
    std::array<char, 16> buf{};
    std::optional<error_code> eof;
    std::size_t total = 0;
    std::function<void()> read_more = [&] {
        server.link->async_read_some(asio::buffer(buf), [&](error_code ec, std::size_t n) {
            total += n;
            if (ec) eof = ec;
            else read_more();
        });
    };
    std::string pong = "pong";
    std::string pong_got(4, '\0');
    bool pong_done = false;
    asio::async_read(*client.link, asio::buffer(pong_got), [&](error_code ec, std::size_t) {
        EXPECT_FALSE(ec);
        pong_done = true;
    });
    asio::async_write(*server.link, asio::buffer(pong), [](error_code ec, std::size_t) { EXPECT_FALSE(ec); });
    ASSERT_TRUE(run_until(io, [&] { return pong_done; }));
    EXPECT_EQ(pong_got, "pong");
    read_more();
    client.link->close();
    EXPECT_FALSE(client.link->is_open());
    ASSERT_TRUE(run_until(io, [&] { return eof.has_value(); }));
    EXPECT_EQ(*eof, asio::error::eof);
}

TEST(TcpLink, UsableFromCoroutines) {
    asio::io_context io;
    auto listener = TcpListener::open(io.get_executor(), "127.0.0.1", 0);
    ASSERT_TRUE(listener);
    LinkPtr server;
    (*listener)->async_accept([&](error_code, LinkPtr l) { server = std::move(l); });
    std::string echoed;
    bool finished = false;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            auto ex = co_await asio::this_coro::executor;
            LinkPtr link = co_await async_connect_tcp(ex, "127.0.0.1", (*listener)->port(), 2000ms,
                                                      asio::use_awaitable);
            co_await asio::async_write(*link, asio::buffer(std::string("hello")), asio::use_awaitable);
            std::string got(5, '\0');
            co_await asio::async_read(*link, asio::buffer(got), asio::use_awaitable);
            echoed = got;
            finished = true;
        },
        asio::detached);
    ASSERT_TRUE(run_until(io, [&] { return server != nullptr; }));
    std::string buf(5, '\0');
    asio::async_read(*server, asio::buffer(buf), [&](error_code ec, std::size_t) {
        ASSERT_FALSE(ec);
        asio::async_write(*server, asio::buffer(buf), [](error_code, std::size_t) {});
    });
    ASSERT_TRUE(run_until(io, [&] { return finished; }));
    EXPECT_EQ(echoed, "hello");
}

TEST(TcpLink, ConnectRefusedIsAnError) {
    asio::io_context io;
    // Take an ephemeral port and free it again: nothing listens there now.
    std::uint16_t port;
    {
        auto l = TcpListener::open(io.get_executor(), "127.0.0.1", 0);
        ASSERT_TRUE(l);
        port = (*l)->port();
    }
    std::optional<error_code> ec;
    async_connect_tcp(io.get_executor(), "127.0.0.1", port, 2000ms, [&](error_code e, LinkPtr l) {
        ec = e;
        EXPECT_EQ(l, nullptr);
    });
    ASSERT_TRUE(run_until(io, [&] { return ec.has_value(); }));
    EXPECT_EQ(*ec, asio::error::connection_refused);
}

TEST(TcpLink, ConnectDeadlineGivesTimedOut) {
    asio::io_context io;
    // A listener with a full accept queue that never accepts: Linux drops further SYNs, so a
    // connect hangs until our deadline.
    using tcp = asio::ip::tcp;
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    acceptor.listen(0);
    const auto ep = acceptor.local_endpoint();
    std::vector<tcp::socket> fillers;
    for (int i = 0; i < 4; ++i) {
        fillers.emplace_back(io);
        fillers.back().async_connect(ep, [](error_code) {});
    }
    test::drain(io);
    std::optional<error_code> ec;
    const auto start = std::chrono::steady_clock::now();
    async_connect_tcp(io.get_executor(), "127.0.0.1", ep.port(), 150ms,
                      [&](error_code e, LinkPtr) { ec = e; });
    ASSERT_TRUE(run_until(io, [&] { return ec.has_value(); }));
    if (*ec != asio::error::timed_out) GTEST_SKIP() << "kernel accepted the connect: " << ec->message();
    EXPECT_GE(std::chrono::steady_clock::now() - start, 140ms);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 2000ms);
}

TEST(TcpLink, ListenerRejectsBadAddress) {
    asio::io_context io;
    auto l = TcpListener::open(io.get_executor(), "not-an-address", 0);
    EXPECT_FALSE(l);
}

// ---- MemoryLink -----------------------------------------------------------------------------

TEST(MemoryLink, WhatOneEndWritesTheOtherReadsSplitByReadSize) {
    asio::io_context io;
    auto [a, b] = make_memory_link_pair(io.get_executor());
    b->set_read_size(3);
    std::string got;
    std::array<char, 64> buf{};
    int reads = 0;
    std::function<void()> read_more = [&] {
        b->async_read_some(asio::buffer(buf), [&](error_code ec, std::size_t n) {
            if (ec) return;
            ++reads;
            got.append(buf.data(), n);
            if (got.size() < 10) read_more();
        });
    };
    read_more();  // pending before any data: completes when the write arrives
    asio::async_write(*a, asio::buffer(std::string("0123456789")), [](error_code ec, std::size_t) { EXPECT_FALSE(ec); });
    ASSERT_TRUE(run_until(io, [&] { return got.size() == 10; }));
    EXPECT_EQ(got, "0123456789");
    EXPECT_EQ(reads, 4);  // 3 + 3 + 3 + 1
    EXPECT_EQ(a->bytes_written(), 10u);
}

TEST(MemoryLink, NeverCompletesInsideTheInitiatingCall) {
    asio::io_context io;
    auto [a, b] = make_memory_link_pair(io.get_executor());
    bool done = false;
    a->async_write_some(asio::buffer("x", 1), [&](error_code, std::size_t) { done = true; });
    EXPECT_FALSE(done);
    test::drain(io);
    EXPECT_TRUE(done);
}

TEST(MemoryLink, FailsTheNthOperationAndEveryLaterOne) {
    asio::io_context io;
    auto fc = std::make_shared<FailCount>(3);
    auto [a, b] = make_memory_link_pair(io.get_executor(), fc);
    std::vector<error_code> results;
    auto record = [&](error_code ec, std::size_t) { results.push_back(ec); };
    for (int i = 0; i < 4; ++i) a->async_write_some(asio::buffer("x", 1), record);
    test::drain(io);
    ASSERT_EQ(results.size(), 4u);
    EXPECT_FALSE(results[0]);
    EXPECT_FALSE(results[1]);
    EXPECT_EQ(results[2], asio::error::connection_reset);
    EXPECT_EQ(results[3], asio::error::connection_reset);
    EXPECT_EQ(b->bytes_written(), 0u);
    EXPECT_EQ(a->bytes_written(), 2u);
    // Reads count too.
    std::array<char, 4> buf{};
    std::optional<error_code> rd;
    a->async_read_some(asio::buffer(buf), [&](error_code ec, std::size_t) { rd = ec; });
    test::drain(io);
    EXPECT_EQ(*rd, asio::error::connection_reset);
}

TEST(MemoryLink, PeerCloseGivesEofAfterDataAndWriteGivesBrokenPipe) {
    asio::io_context io;
    auto [a, b] = make_memory_link_pair(io.get_executor());
    asio::async_write(*a, asio::buffer("ab", 2), [](error_code, std::size_t) {});
    test::drain(io);
    a->close();
    std::array<char, 8> buf{};
    std::vector<std::pair<error_code, std::size_t>> r;
    b->async_read_some(asio::buffer(buf), [&](error_code ec, std::size_t n) { r.emplace_back(ec, n); });
    test::drain(io);
    b->async_read_some(asio::buffer(buf), [&](error_code ec, std::size_t n) { r.emplace_back(ec, n); });
    test::drain(io);
    ASSERT_EQ(r.size(), 2u);
    EXPECT_EQ(r[0].second, 2u);
    EXPECT_EQ(r[1].first, asio::error::eof);
    std::optional<error_code> w;
    b->async_write_some(asio::buffer("x", 1), [&](error_code ec, std::size_t) { w = ec; });
    test::drain(io);
    EXPECT_EQ(*w, asio::error::broken_pipe);
}

TEST(MemoryLink, CloseAbortsPendingReadAndPeerWaitingGetsEof) {
    asio::io_context io;
    auto [a, b] = make_memory_link_pair(io.get_executor());
    std::array<char, 8> buf1{}, buf2{};
    std::optional<error_code> ra, rb;
    a->async_read_some(asio::buffer(buf1), [&](error_code ec, std::size_t) { ra = ec; });
    b->async_read_some(asio::buffer(buf2), [&](error_code ec, std::size_t) { rb = ec; });
    a->close();
    test::drain(io);
    EXPECT_EQ(*ra, asio::error::operation_aborted);
    EXPECT_EQ(*rb, asio::error::eof);
}

// ---- pacing ---------------------------------------------------------------------------------

TEST(PacedLink, WritesTakeTheWireTimeOfTheLine) {
    asio::io_context io;
    auto [a, b] = make_memory_link_pair(io.get_executor());
    // 60 bytes at 9600 baud 8N2 = 60 * 11 / 9600 s = 68.75 ms; unpaced it is microseconds.
    auto paced = make_paced_link(std::move(a), 9600, 11);
    std::string got;
    std::array<char, 64> buf{};
    std::function<void()> read_more = [&] {
        b->async_read_some(asio::buffer(buf), [&](error_code ec, std::size_t n) {
            if (ec) return;
            got.append(buf.data(), n);
            read_more();
        });
    };
    read_more();
    const std::string data(60, 'z');
    bool done = false;
    const auto start = std::chrono::steady_clock::now();
    asio::async_write(*paced, asio::buffer(data), [&](error_code ec, std::size_t n) {
        EXPECT_FALSE(ec);
        EXPECT_EQ(n, 60u);
        done = true;
    });
    ASSERT_TRUE(run_until(io, [&] { return done; }));
    const auto took = std::chrono::steady_clock::now() - start;
    EXPECT_GE(took, std::chrono::microseconds(59 * 11 * 1'000'000 / 9600));  // last byte leaves after 59 byte times
    EXPECT_LT(took, 1000ms);
    ASSERT_TRUE(run_until(io, [&] { return got.size() == 60; }));
    EXPECT_NE(paced->description().find("paced 9600"), std::string::npos);
}

TEST(PacedLink, CloseCancelsAPacedWrite) {
    asio::io_context io;
    auto [a, b] = make_memory_link_pair(io.get_executor());
    auto paced = make_paced_link(std::move(a), 300, 10);  // 33 ms per byte
    std::optional<error_code> ec;
    const std::string data(100, 'z');
    asio::async_write(*paced, asio::buffer(data), [&](error_code e, std::size_t) { ec = e; });
    ASSERT_TRUE(run_until(io, [&] { return b->is_open() && paced->is_open(); }));
    paced->close();
    ASSERT_TRUE(run_until(io, [&] { return ec.has_value(); }, 1000ms));
    EXPECT_TRUE(*ec);
}

}  // namespace
}  // namespace pb::adapters
