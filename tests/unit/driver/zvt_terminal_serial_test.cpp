// The ZVT driver over RS232 framing (PA00P016 §3) on a pseudo-terminal: the daemon side opens
// the pty's slave like a real port; the scripted PT talks through the master with its own
// serial APDU channel (DLE/STX framing, CRC, transport ACKs).
#include "adapters/zvt_terminal.hpp"

#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "adapters/serial_link.hpp"
#include "adapters/zvt_channel.hpp"
#include "tests/unit/driver/fake_pt.hpp"

namespace pb::adapters {
namespace {

using namespace std::chrono_literals;
using test::norm;
using test::run_until;

TEST(DriverSerial, RegistersAndRunsADeclinedPaymentOverAPty) {
    asio::io_context io;
    auto pty = Pty::open();
    ASSERT_TRUE(pty) << pty.error().message();

    auto pt = make_serial_apdu_channel(make_fd_link(io.get_executor(), pty->release_master(), "pty master"));
    std::vector<std::string> got;
    bool pt_error = false;
    pt->on_apdu([&](zvt::Apdu a) { got.push_back(to_hex(zvt::encode_apdu(a))); });
    pt->on_error([&](error_code, const std::string&) { pt_error = true; });
    pt->start();
    auto send = [&](const char* hex) { pt->send(*from_hex(hex), [](error_code) {}); };
    auto next = [&, seen = std::size_t{0}]() mutable -> std::string {
        if (!run_until(io, [&] { return got.size() > seen; })) return {};
        return got[seen++];
    };

    ZvtTerminalOptions o;
    o.id = "serial1";
    o.serial_device = pty->slave_path();
    o.ecr.password = 123456;
    o.ecr.t3_ms = 2000;
    o.backoff_min = 20ms;
    std::vector<zvt::Finished> finished;
    ZvtTerminalCallbacks cb;
    cb.on_finished = [&](const zvt::Finished& f) { finished.push_back(f); };
    auto term = ZvtTerminal::create(io.get_executor(), o, cb);
    term->start();

    EXPECT_EQ(next(), norm("06 00 06 12 34 56 38 09 78"));
    send("80 00 00");
    send("06 0F 0A 19 10 29 52 52 35 35 49 09 78");
    EXPECT_EQ(next(), norm("80 00 00"));
    ASSERT_TRUE(run_until(io, [&] { return term->state() == TerminalState::ready; }));
    EXPECT_EQ(term->tid(), 52523535u);

    zvt::OperationRequest r;
    r.op = zvt::Operation::authorisation;
    r.amount = 1000;  // 10.00: the amount holds a 10 (DLE), which the framing must stuff
    ASSERT_TRUE(term->begin(r));
    EXPECT_EQ(next(), norm("06 01 0A 04 00 00 00 00 10 00 49 09 78"));
    send("80 00 00");
    send("04 0F 02 27 05");
    EXPECT_EQ(next(), norm("80 00 00"));
    send("06 1E 01 05");
    EXPECT_EQ(next(), norm("80 00 00"));
    ASSERT_TRUE(run_until(io, [&] { return !finished.empty(); }));
    EXPECT_EQ(finished[0].outcome, zvt::Outcome::declined);
    EXPECT_EQ(term->state(), TerminalState::ready);
    EXPECT_FALSE(pt_error);
    EXPECT_EQ(pt->stats().serial.naks_sent, 0u);
    EXPECT_EQ(pt->stats().serial.crc_errors, 0u);
    EXPECT_EQ(pt->stats().serial.repeats, 0u);
    term->stop();
    pt->close();
}

}  // namespace
}  // namespace pb::adapters
