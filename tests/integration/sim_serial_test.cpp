// paybridge-sim zvt over the pseudo-terminal it creates: full serial framing (DLE/STX, CRC,
// ACK/NAK, repeats), driven by a test ECR with raw bytes.
#include <gtest/gtest.h>

#include <memory>

#include "sim_harness.hpp"

namespace pb::simtest {
namespace {

using zvt::Command;
using zvt::Message;

class SimSerial : public ::testing::Test {
protected:
    void start(const std::string& pace) {
        sim = std::make_unique<SimProcess>(dir, std::vector<std::string>{"--serial", "pty", "--pace", pace});
        ASSERT_TRUE(sim->ready);
        ASSERT_FALSE(sim->serial_path.empty());
        ecr = std::make_unique<SerialEcr>(sim->serial_path);
    }
    void control_ok(const std::string& command) {
        auto reply = sim->control(command);
        ASSERT_FALSE(reply.empty());
        EXPECT_EQ(reply.back().rfind("OK", 0), 0u) << command << " -> " << reply.back();
    }
    std::vector<Message> pay(std::int64_t amount) {
        ecr->send(auth(amount));
        return ecr->run_to_end();
    }

    TempDir dir;
    std::unique_ptr<SimProcess> sim;
    std::unique_ptr<SerialEcr> ecr;
};

TEST_F(SimSerial, RegistrationAndPaymentWithReceiptsOverAPty) {
    start("off");
    ecr->send(registration(0x8E));
    EXPECT_EQ(ecr->run_to_end().back().command, Command::completion);
    // 10.00 EUR: the amount's BCD contains 0x10 = DLE, stuffed on the wire ([ZVT-TP] §3.1).
    auto r = pay(1000);
    ASSERT_FALSE(r.empty());
    EXPECT_EQ(r.back().command, Command::completion);
    auto lines = std::count_if(r.begin(), r.end(), [](const Message& m) { return m.command == Command::print_line; });
    EXPECT_GE(lines, 20);
    auto approved = sim->journal_events("approved");
    ASSERT_EQ(approved.size(), 1u);
    EXPECT_EQ(approved[0].at("amount").to_number<std::int64_t>(), 1000);
    EXPECT_EQ(ecr->naks_received, 0);
    EXPECT_EQ(ecr->bad_crc_frames, 0);
}

TEST_F(SimSerial, PacedAtLineSpeed) {
    start("on");
    auto started = Clock::now();
    std::size_t before = ecr->bytes_received;
    ecr->send(admin(Command::status_enquiry));
    EXPECT_EQ(ecr->run_to_end().back().command, Command::completion);
    auto elapsed = Clock::now() - started;
    // What the PT sent must have taken its wire time at 9600 baud 8N2 (11 bits per byte).
    auto wire = std::chrono::microseconds((ecr->bytes_received - before) * 11 * 1'000'000 / 9600);
    EXPECT_GE(elapsed, wire * 9 / 10) << "bytes " << (ecr->bytes_received - before);
}

TEST_F(SimSerial, FaultCorruptCrcIsRepeatedByThePt) {
    start("off");
    control_ok("fault set corrupt_crc=1");
    ecr->send(admin(Command::status_enquiry));
    EXPECT_EQ(ecr->run_to_end().back().command, Command::completion);
    EXPECT_EQ(ecr->bad_crc_frames, 1);
    EXPECT_FALSE(sim->journal_events("fault").empty());
}

TEST_F(SimSerial, FaultNakOfTheEcrsFrame) {
    start("off");
    control_ok("fault set nak=1");
    ecr->send(admin(Command::status_enquiry));
    EXPECT_EQ(ecr->run_to_end().back().command, Command::completion);
    EXPECT_EQ(ecr->naks_received, 1);
}

TEST_F(SimSerial, FaultGarbageBetweenFrames) {
    start("off");
    control_ok("fault set garbage=2");
    ecr->send(admin(Command::status_enquiry));
    EXPECT_EQ(ecr->run_to_end().back().command, Command::completion);
    EXPECT_GE(ecr->garbage_events, 1);
}

TEST_F(SimSerial, RepeatReceiptAfterATransmissionError) {
    start("off");
    ecr->send(registration(0x00));
    ecr->run_to_end();
    // Every repeat of the PT's next frame (the 80 00 to our authorisation) is corrupted: the
    // PT gives up after two repeats ([ZVT-TP] §3.5), treats the link as lost and does not
    // charge; the line itself stays usable.
    control_ok("fault set corrupt_crc=3");
    ecr->send(auth(500));
    EXPECT_FALSE(ecr->recv(1500ms).has_value());
    EXPECT_EQ(ecr->bad_crc_frames, 3);
    EXPECT_TRUE(sim->journal_events("approved").empty());
    EXPECT_EQ(sim->journal_events("auto_reversed").size() + sim->journal_events("aborted").size(), 1u);
    Message rr = admin(Command::repeat_receipt);
    rr.fields.service_byte = 0x01;
    ecr->send(rr);
    auto r = ecr->run_to_end();
    ASSERT_FALSE(r.empty());
    EXPECT_EQ(r.back().command, Command::completion);
}

}  // namespace
}  // namespace pb::simtest
