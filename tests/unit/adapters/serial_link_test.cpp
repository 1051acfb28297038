// Serial links over a real pseudo-terminal pair: the master as the simulator holds it, the
// slave opened like a real port (termios via Asio's serial_port) at 9600 8N2.
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include "adapters/serial_link.hpp"
#include "tests/unit/adapters/io_test_util.hpp"

namespace pb::adapters {
namespace {

using test::run_until;

struct PtyPair {
    asio::io_context io;
    std::optional<Pty> pty;
    LinkPtr master, slave;

    void open(const SerialSettings& base = {}) {
        auto p = Pty::open();
        ASSERT_TRUE(p) << p.error().message();
        pty.emplace(std::move(*p));
        master = make_fd_link(io.get_executor(), pty->release_master(), "pty master");
        SerialSettings s = base;
        s.device = pty->slave_path();
        auto l = open_serial_link(io.get_executor(), s);
        ASSERT_TRUE(l) << l.error().message();
        slave = std::move(*l);
    }
};

// Reads until `n` bytes arrived, counting the reads it took.
struct Collector {
    Collector(Link& l, std::size_t n) : link(l), want(n) {}
    Link& link;
    std::size_t want;
    std::string got;
    int reads = 0;
    std::array<char, 7> buf{};  // small on purpose: forces split reads
    void start() {
        link.async_read_some(asio::buffer(buf), [this](error_code ec, std::size_t n) {
            ASSERT_FALSE(ec) << ec.message();
            ++reads;
            got.append(buf.data(), n);
            if (got.size() < want) start();
        });
    }
};

std::string pattern(std::size_t n) {
    std::string s;
    for (std::size_t i = 0; i < n; ++i) s.push_back(static_cast<char>(i * 37 % 256));
    return s;
}

TEST(SerialLink, PtyPairCarriesBinaryBytesBothWaysAt9600_8N2) {
    PtyPair p;
    ASSERT_NO_FATAL_FAILURE(p.open());
    EXPECT_EQ(p.slave->description(), "serial " + p.pty->slave_path() + " 9600 8N2");

    // Every byte value, including CR, LF, XON/XOFF, DLE, ^C: raw mode must pass them all.
    const std::string to_master = pattern(256 * 3);
    Collector at_master{*p.master, to_master.size()};
    at_master.start();
    asio::async_write(*p.slave, asio::buffer(to_master), [](error_code ec, std::size_t) { EXPECT_FALSE(ec); });
    ASSERT_TRUE(run_until(p.io, [&] { return at_master.got.size() >= to_master.size(); }));
    EXPECT_EQ(at_master.got, to_master);
    EXPECT_GT(at_master.reads, 1);

    const std::string to_slave = pattern(300);
    Collector at_slave{*p.slave, to_slave.size()};
    at_slave.start();
    asio::async_write(*p.master, asio::buffer(to_slave), [](error_code ec, std::size_t) { EXPECT_FALSE(ec); });
    ASSERT_TRUE(run_until(p.io, [&] { return at_slave.got.size() >= to_slave.size(); }));
    EXPECT_EQ(at_slave.got, to_slave);
    EXPECT_GT(at_slave.reads, 1);
}

TEST(SerialLink, AppliesSpeedAndFraming) {
    PtyPair p;
    SerialSettings s;
    s.baud = 115200;
    s.stop_bits = 1;
    ASSERT_NO_FATAL_FAILURE(p.open(s));
    // Read the settings back through an independent descriptor of the same slave.
    const int fd = ::open(p.pty->slave_path().c_str(), O_RDWR | O_NOCTTY);
    ASSERT_GE(fd, 0);
    termios tio{};
    ASSERT_EQ(::tcgetattr(fd, &tio), 0);
    ::close(fd);
    EXPECT_EQ(::cfgetospeed(&tio), B115200);
    EXPECT_EQ(tio.c_cflag & CSIZE, static_cast<tcflag_t>(CS8));
    EXPECT_EQ(tio.c_cflag & CSTOPB, 0u);
    EXPECT_EQ(tio.c_cflag & PARENB, 0u);
    EXPECT_EQ(tio.c_lflag & (ICANON | ECHO), 0u);
}

TEST(SerialLink, TwoStopBitsByDefault) {
    PtyPair p;
    ASSERT_NO_FATAL_FAILURE(p.open());
    const int fd = ::open(p.pty->slave_path().c_str(), O_RDWR | O_NOCTTY);
    ASSERT_GE(fd, 0);
    termios tio{};
    ASSERT_EQ(::tcgetattr(fd, &tio), 0);
    ::close(fd);
    EXPECT_EQ(::cfgetospeed(&tio), B9600);
    EXPECT_NE(tio.c_cflag & CSTOPB, 0u);
}

TEST(SerialLink, MissingDeviceIsAnErrorValue) {
    asio::io_context io;
    auto l = open_serial_link(io.get_executor(), SerialSettings{.device = "/dev/does-not-exist-pb"});
    ASSERT_FALSE(l);
    EXPECT_EQ(l.error(), boost::system::errc::no_such_file_or_directory);
}

TEST(SerialLink, MasterSurvivesSlaveCloseAndReopen) {
    // The daemon restarts: it closes the slave and opens it again; the simulator's master
    // must neither fail nor see stale bytes of the earlier session.
    PtyPair p;
    ASSERT_NO_FATAL_FAILURE(p.open());
    bool written = false;
    asio::async_write(*p.master, asio::buffer(std::string("stale")), [&](error_code, std::size_t) { written = true; });
    ASSERT_TRUE(run_until(p.io, [&] { return written; }));
    p.slave->close();
    auto again = open_serial_link(p.io.get_executor(), SerialSettings{.device = p.pty->slave_path()});
    ASSERT_TRUE(again);
    Collector at_slave{**again, 5};
    at_slave.start();
    asio::async_write(*p.master, asio::buffer(std::string("fresh")), [](error_code ec, std::size_t) { EXPECT_FALSE(ec); });
    ASSERT_TRUE(run_until(p.io, [&] { return at_slave.got.size() >= 5; }));
    EXPECT_EQ(at_slave.got, "fresh");
}

TEST(SerialSettings, FramingAndBitsPerByte) {
    SerialSettings s;
    EXPECT_EQ(s.framing(), "8N2");
    EXPECT_EQ(s.bits_per_byte(), 11u);
    auto f = parse_framing("8N1");
    ASSERT_TRUE(f);
    EXPECT_EQ(f->bits_per_byte(), 10u);
    auto e = parse_framing("7E2");
    ASSERT_TRUE(e);
    EXPECT_EQ(e->framing(), "7E2");
    EXPECT_EQ(e->bits_per_byte(), 11u);
    EXPECT_FALSE(parse_framing("8X1"));
    EXPECT_FALSE(parse_framing("9N1"));
    EXPECT_FALSE(parse_framing("8N3"));
    EXPECT_FALSE(parse_framing("8N"));
    EXPECT_NE(parse_framing("8N3").error().find("stop bits"), std::string::npos);
}

}  // namespace
}  // namespace pb::adapters
