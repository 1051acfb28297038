// paybridge-sim zvt over TCP, driven by a test ECR with raw bytes.
#include <gtest/gtest.h>

#include <fstream>
#include <memory>

#include "protocol/zvt/apdu.hpp"
#include "sim_harness.hpp"

namespace pb::simtest {
namespace {

using zvt::Command;
using zvt::Message;

const Message* find(const std::vector<Message>& ms, Command c) {
    for (const auto& m : ms) {
        if (m.command == c) return &m;
    }
    return nullptr;
}

std::int64_t num(const boost::json::object& o, const char* key) { return o.at(key).to_number<std::int64_t>(); }

class SimTcp : public ::testing::Test {
protected:
    void start(std::vector<std::string> extra = {}) {
        sim = std::make_unique<SimProcess>(dir, std::move(extra));
        ASSERT_TRUE(sim->ready);
    }
    void SetUp() override { start(); }
    std::unique_ptr<TcpEcr> connect() { return std::make_unique<TcpEcr>(sim->tcp_port); }
    void do_register(Ecr& ecr, std::uint8_t config, bool text_block = false) {
        ecr.send(registration(config, text_block));
        auto r = ecr.run_to_end();
        ASSERT_GE(r.size(), 2u);
        EXPECT_EQ(r.front().command, Command::positive_ack);
        EXPECT_EQ(r.back().command, Command::completion);
    }
    std::vector<Message> pay(Ecr& ecr, std::int64_t amount) {
        ecr.send(auth(amount));
        return ecr.run_to_end();
    }
    void control_ok(const std::string& command) {
        auto reply = sim->control(command);
        ASSERT_FALSE(reply.empty());
        EXPECT_EQ(reply.back().rfind("OK", 0), 0u) << command << " -> " << reply.back();
    }

    TempDir dir;
    std::unique_ptr<SimProcess> sim;
};

TEST_F(SimTcp, RegistrationThenApprovedPaymentWithTextBlockReceipts) {
    auto ecr = connect();
    do_register(*ecr, 0x8E, true);
    auto r = pay(*ecr, 1234);
    ASSERT_FALSE(r.empty());
    EXPECT_EQ(r.front().command, Command::positive_ack);
    const Message* si = find(r, Command::status_information);
    ASSERT_NE(si, nullptr);
    EXPECT_EQ(si->fields.result_code, 0x00);
    EXPECT_EQ(si->fields.amount, 1234);
    EXPECT_EQ(si->fields.currency, 978);
    EXPECT_TRUE(si->fields.masked_pan.has_value());
    EXPECT_TRUE(si->fields.card_type.has_value());
    EXPECT_TRUE(si->fields.aid.has_value());
    EXPECT_EQ(si->fields.tid, 52523535u);
    auto blocks = std::count_if(r.begin(), r.end(), [](const Message& m) { return m.command == Command::print_text_block; });
    EXPECT_EQ(blocks, 2);
    EXPECT_EQ(r.back().command, Command::completion);
    EXPECT_NE(find(r, Command::intermediate_status), nullptr);
    auto approved = sim->journal_events("approved");
    ASSERT_EQ(approved.size(), 1u);
    EXPECT_EQ(num(approved[0], "amount"), 1234);
    EXPECT_EQ(num(approved[0], "receipt"), *si->fields.receipt_no);
}

TEST_F(SimTcp, ApprovedPaymentWithPrintLines) {
    auto ecr = connect();
    do_register(*ecr, 0x8A);
    auto r = pay(*ecr, 2000);
    auto lines = std::count_if(r.begin(), r.end(), [](const Message& m) { return m.command == Command::print_line; });
    EXPECT_GE(lines, 20);
    EXPECT_EQ(r.back().command, Command::completion);
    EXPECT_EQ(sim->journal_events("approved").size(), 1u);
}

TEST_F(SimTcp, DeclinedPayment) {
    auto ecr = connect();
    do_register(*ecr, 0x08);
    auto r = pay(*ecr, 1051);
    const Message* si = find(r, Command::status_information);
    ASSERT_NE(si, nullptr);
    EXPECT_EQ(si->fields.result_code, 0x05);
    EXPECT_EQ(r.back().command, Command::abort_from_pt);
    EXPECT_EQ(r.back().status, 0x05);
    EXPECT_EQ(sim->journal_events("declined").size(), 1u);
    EXPECT_TRUE(sim->journal_events("approved").empty());
}

TEST_F(SimTcp, AbortByTheEcrWhileWaitingForTheCard) {
    auto ecr = connect();
    do_register(*ecr, 0x08);
    ecr->send(auth(252));  // never presents a card
    auto a = ecr->recv();
    ASSERT_TRUE(a);
    EXPECT_EQ(a->command, Command::positive_ack);
    auto insert = ecr->recv();
    ASSERT_TRUE(insert);
    EXPECT_EQ(insert->command, Command::intermediate_status);
    EXPECT_EQ(insert->status, 0x0A);
    ecr->ack();
    ecr->send(admin(Command::abort));
    auto r = ecr->run_to_end();
    ASSERT_GE(r.size(), 2u);
    EXPECT_EQ(r.front().command, Command::positive_ack);
    EXPECT_EQ(r.back().command, Command::abort_from_pt);
    EXPECT_EQ(r.back().status, 0x6C);
    auto aborted = sim->journal_events("aborted");
    ASSERT_EQ(aborted.size(), 1u);
    EXPECT_EQ(num(aborted[0], "amount"), 252);
}

TEST_F(SimTcp, NoCardTimesOutWithAbort6C) {
    sim.reset();
    std::ofstream(dir.file("fast.toml")) << "[timing]\ncard_timeout_ms = 300\n";
    start({"--scenario", dir.file("fast.toml")});
    auto ecr = connect();
    do_register(*ecr, 0x00);
    auto started = Clock::now();
    auto r = pay(*ecr, 352);
    // The terminal waited for the card (card_timeout_ms = 300) before giving up; the margin
    // covers the simulator reading its clock once per loop turn (seen: 299.6 ms under load).
    EXPECT_GE(Clock::now() - started, 250ms);
    EXPECT_EQ(r.back().command, Command::abort_from_pt);
    EXPECT_EQ(r.back().status, 0x6C);
    EXPECT_EQ(find(r, Command::status_information), nullptr);
}

TEST_F(SimTcp, ReversalAndRefund) {
    auto ecr = connect();
    do_register(*ecr, 0x00);
    auto paid = pay(*ecr, 4200);
    std::uint16_t receipt = *find(paid, Command::status_information)->fields.receipt_no;
    ecr->send(with_receipt(Command::reversal, receipt));
    auto rev = ecr->run_to_end();
    ASSERT_NE(find(rev, Command::status_information), nullptr);
    EXPECT_EQ(find(rev, Command::status_information)->fields.amount, 4200);
    EXPECT_EQ(rev.back().command, Command::completion);
    ecr->send(with_receipt(Command::reversal, receipt));
    auto again = ecr->run_to_end();
    EXPECT_EQ(again.back().command, Command::abort_from_pt);
    EXPECT_EQ(again.back().status, 0xB4);

    Message refund = admin(Command::refund);
    refund.fields.amount = 1500;
    refund.fields.currency = 978;
    ecr->send(refund);
    auto ref = ecr->run_to_end();
    EXPECT_EQ(ref.back().command, Command::completion);
    auto reversed = sim->journal_events("reversed");
    ASSERT_EQ(reversed.size(), 1u);
    EXPECT_EQ(num(reversed[0], "ref_receipt"), receipt);
    auto refunded = sim->journal_events("refunded");
    ASSERT_EQ(refunded.size(), 1u);
    EXPECT_EQ(num(refunded[0], "amount"), 1500);
}

TEST_F(SimTcp, EndOfDayTotalsMatchTheJournal) {
    auto ecr = connect();
    do_register(*ecr, 0x00);
    for (std::int64_t amount : {1000, 2561, 700, 3062, 1051}) pay(*ecr, amount);
    ecr->send(admin(Command::end_of_day));
    auto r = ecr->run_to_end();
    const Message* si = find(r, Command::status_information);
    ASSERT_NE(si, nullptr);
    ASSERT_TRUE(si->fields.totals.has_value());
    // Ground truth: the journal's approved payments, per bucket.
    std::int64_t visa = 0, mc = 0, amex = 0, total = 0;
    for (const auto& a : sim->journal_events("approved")) {
        auto brand = std::string(a.at("brand").as_string());
        std::int64_t amount = num(a, "amount");
        total += amount;
        if (brand == "visa") visa += amount;
        if (brand == "mastercard") mc += amount;
        if (brand == "amex") amex += amount;
    }
    EXPECT_EQ(total, 1000 + 2561 + 700 + 3062);
    EXPECT_EQ(si->fields.amount, total);
    EXPECT_EQ(si->fields.totals->visa.amount, visa);
    EXPECT_EQ(si->fields.totals->visa.count, 2);
    EXPECT_EQ(si->fields.totals->mastercard.amount, mc);
    EXPECT_EQ(si->fields.totals->amex.amount, amex);
    auto eod = sim->journal_events("end_of_day");
    ASSERT_EQ(eod.size(), 1u);
    EXPECT_EQ(num(eod[0], "total"), total);
    // The batch is reset: a second end-of-day is empty.
    ecr->send(admin(Command::end_of_day));
    auto r2 = ecr->run_to_end();
    EXPECT_EQ(find(r2, Command::status_information)->fields.amount, 0);
}

TEST_F(SimTcp, RepeatReceiptAfterALinkDroppedBeforeCompletion) {
    control_ok("fault set drop_before_completion");
    std::uint16_t receipt = 0;
    {
        auto ecr = connect();
        do_register(*ecr, 0x00);
        ecr->send(auth(990));
        ASSERT_EQ(ecr->recv()->command, Command::positive_ack);
        auto si = ecr->recv();
        ASSERT_TRUE(si);
        ASSERT_EQ(si->command, Command::status_information);
        receipt = *si->fields.receipt_no;
        ecr->ack();  // the moment of truth
        EXPECT_TRUE(ecr->closed_within(3s));
    }
    auto ecr = connect();
    Message rr = admin(Command::repeat_receipt);
    rr.fields.service_byte = 0x01;
    ecr->send(rr);
    auto r = ecr->run_to_end();
    const Message* si = find(r, Command::status_information);
    ASSERT_NE(si, nullptr);
    EXPECT_EQ(si->fields.receipt_no, receipt);
    EXPECT_EQ(si->fields.result_code, 0x00);
    EXPECT_EQ(si->fields.amount, 990);
    EXPECT_EQ(sim->journal_events("approved").size(), 1u);
    EXPECT_EQ(sim->journal_events("fault").size(), 1u);
}

TEST_F(SimTcp, LinkDroppedAfterStatusInformationIsAutoReversed) {
    control_ok("fault set drop_after_status_info");
    {
        auto ecr = connect();
        do_register(*ecr, 0x00);
        ecr->send(auth(880));
        ASSERT_EQ(ecr->recv()->command, Command::positive_ack);
        auto si = ecr->recv();
        ASSERT_TRUE(si);
        EXPECT_EQ(si->command, Command::status_information);
        EXPECT_TRUE(ecr->closed_within(3s));
    }
    auto reversed = sim->journal_events("auto_reversed");
    ASSERT_EQ(reversed.size(), 1u);
    EXPECT_EQ(num(reversed[0], "amount"), 880);
    EXPECT_TRUE(sim->journal_events("approved").empty());
    auto ecr = connect();
    Message rr = admin(Command::repeat_receipt);
    rr.fields.service_byte = 0x01;
    ecr->send(rr);
    auto r = ecr->run_to_end();
    ASSERT_NE(find(r, Command::status_information), nullptr);
    EXPECT_EQ(find(r, Command::status_information)->fields.result_code, 0x6C);
}

TEST_F(SimTcp, NoAnswerToStatusInformationSendsAutoReversalStatus) {
    sim.reset();
    std::ofstream(dir.file("fast.toml")) << "[timing]\nack_timeout_ms = 300\n";
    start({"--scenario", dir.file("fast.toml")});
    auto ecr = connect();
    do_register(*ecr, 0x00);
    ecr->send(auth(660));
    ASSERT_EQ(ecr->recv()->command, Command::positive_ack);
    ASSERT_EQ(ecr->recv()->command, Command::status_information);
    // Say nothing: after T3 the PT reverses and tells us with 04 FF 05.
    auto status = ecr->recv(3s);
    ASSERT_TRUE(status);
    EXPECT_EQ(status->command, Command::intermediate_status);
    EXPECT_EQ(status->status, 0x05);
    ecr->ack();
    auto abort = ecr->recv();
    ASSERT_TRUE(abort);
    EXPECT_EQ(abort->command, Command::abort_from_pt);
    ecr->ack();
    EXPECT_EQ(sim->journal_events("auto_reversed").size(), 1u);
}

TEST_F(SimTcp, ReceiptAndTraceNumbersPersistAcrossRestarts) {
    std::uint16_t receipt = 0;
    std::uint32_t trace = 0;
    {
        auto ecr = connect();
        do_register(*ecr, 0x00);
        pay(*ecr, 100);
        auto r = pay(*ecr, 200);
        receipt = *find(r, Command::status_information)->fields.receipt_no;
        trace = *find(r, Command::status_information)->fields.trace;
    }
    sim->kill_now();
    start();
    auto ecr = connect();
    auto r = pay(*ecr, 300);
    const Message* si = find(r, Command::status_information);
    ASSERT_NE(si, nullptr);
    EXPECT_EQ(si->fields.receipt_no, receipt + 1);
    EXPECT_EQ(si->fields.trace, trace + 1);
    // The batch survived too: the payment before the restart can still be reversed.
    ecr->send(with_receipt(Command::reversal, receipt));
    EXPECT_EQ(ecr->run_to_end().back().command, Command::completion);
}

// ---- faults observed from the ECR ----

TEST_F(SimTcp, FaultDropAfterAuthorisation) {
    control_ok("fault set drop_after_auth");
    auto ecr = connect();
    ecr->send(auth(100));
    EXPECT_TRUE(ecr->closed_within(3s));
    EXPECT_EQ(sim->journal_events("fault").size(), 1u);
    EXPECT_TRUE(sim->journal_events("approved").empty());
}

TEST_F(SimTcp, FaultNoCompletion) {
    control_ok("fault set no_completion");
    auto ecr = connect();
    do_register(*ecr, 0x00);
    ecr->send(auth(100));
    ASSERT_EQ(ecr->recv()->command, Command::positive_ack);
    ASSERT_EQ(ecr->recv()->command, Command::status_information);
    ecr->ack();
    EXPECT_FALSE(ecr->recv(500ms).has_value()) << "Completion sent despite no_completion";
    EXPECT_EQ(sim->journal_events("approved").size(), 1u);
    EXPECT_EQ(sim->journal_events("fault").size(), 1u);
}

TEST_F(SimTcp, FaultSlowMessages) {
    control_ok("fault set slow_message=150");
    auto ecr = connect();
    auto started = Clock::now();
    ecr->send(admin(Command::status_enquiry));
    auto r = ecr->run_to_end();
    EXPECT_EQ(r.back().command, Command::completion);
    // The terminal waited for the card (card_timeout_ms = 300) before giving up; the margin
    // covers the simulator reading its clock once per loop turn (seen: 299.6 ms under load).
    EXPECT_GE(Clock::now() - started, 250ms);  // two messages, 150 ms each
}

TEST_F(SimTcp, FaultSlowBytes) {
    control_ok("fault set slow_byte=40");
    auto ecr = connect();
    auto started = Clock::now();
    ecr->send(zvt::Message{admin(Command::status_enquiry)});
    auto ack = ecr->recv();
    ASSERT_TRUE(ack);
    EXPECT_GE(Clock::now() - started, 80ms);  // 3 bytes, 2 gaps
}

TEST_F(SimTcp, FaultNegativeAnswers) {
    control_ok("fault set negative_code=A0 negative=1");
    auto ecr = connect();
    ecr->send(auth(100));
    auto n = ecr->recv();
    ASSERT_TRUE(n);
    EXPECT_EQ(n->command, Command::negative_ack);
    EXPECT_EQ(n->status, 0xA0);
    auto r = pay(*ecr, 100);
    EXPECT_EQ(r.front().command, Command::positive_ack);
}

TEST_F(SimTcp, FaultTerminalStatusEndOfDayRequiredAndCardInserted) {
    auto ecr = connect();
    auto status = [&] {
        ecr->send(admin(Command::status_enquiry));
        auto r = ecr->run_to_end();
        return r.back().status.value_or(0xEE);
    };
    EXPECT_EQ(status(), 0x00);
    control_ok("fault set eod_required");
    EXPECT_EQ(status(), 0xF0);
    auto refused = pay(*ecr, 100);
    EXPECT_EQ(refused.back().command, Command::abort_from_pt);
    EXPECT_EQ(refused.back().status, 0xF0);
    ecr->send(admin(Command::end_of_day));
    EXPECT_EQ(ecr->run_to_end().back().command, Command::completion);
    EXPECT_EQ(status(), 0x00);
    control_ok("fault set card_inserted");
    EXPECT_EQ(status(), 0xDC);
    ecr->send(admin(Command::abort));
    EXPECT_EQ(ecr->recv()->command, Command::positive_ack);
    EXPECT_EQ(status(), 0x00);
}

TEST_F(SimTcp, FaultBusyRefusesNewTransactions) {
    control_ok("fault set busy");
    auto ecr = connect();
    ecr->send(auth(100));
    auto n = ecr->recv();
    ASSERT_TRUE(n);
    EXPECT_EQ(n->command, Command::negative_ack);
    EXPECT_EQ(n->status, 0x9C);
    control_ok("fault clear busy");
    EXPECT_EQ(pay(*ecr, 100).back().command, Command::completion);
}

TEST_F(SimTcp, FaultGarbageBeforeAFrame) {
    control_ok("fault set garbage=1");
    auto ecr = connect();
    ecr->send(admin(Command::status_enquiry));
    EXPECT_EQ(ecr->run_to_end().back().command, Command::completion);
    EXPECT_TRUE(ecr->saw_garbage);
}

TEST_F(SimTcp, FaultCrashAfterStatusInformation) {
    control_ok("fault set crash=after_status_info");
    auto ecr = connect();
    do_register(*ecr, 0x00);
    ecr->send(auth(770));
    ASSERT_EQ(ecr->recv()->command, Command::positive_ack);
    ASSERT_EQ(ecr->recv()->command, Command::status_information);
    EXPECT_TRUE(ecr->closed_within(3s));
    auto code = sim->wait_exit(3s);
    ASSERT_TRUE(code.has_value());
    EXPECT_EQ(*code, 3);
    EXPECT_TRUE(sim->journal_events("approved").empty());
    // After a restart nothing was charged and the numbers moved on.
    start();
    auto again = connect();
    auto r = pay(*again, 770);
    EXPECT_EQ(r.back().command, Command::completion);
    EXPECT_EQ(sim->journal_events("approved").size(), 1u);
}

TEST_F(SimTcp, ControlPortStatusAndErrors) {
    auto status = sim->control("status");
    ASSERT_EQ(status.size(), 1u);
    EXPECT_NE(status[0].find("\"phase\":\"idle\""), std::string::npos) << status[0];
    EXPECT_EQ(sim->control("fault set no_such_fault").back().rfind("ERR", 0), 0u);
    EXPECT_EQ(sim->control("bogus").back().rfind("ERR", 0), 0u);
    control_ok("fault set slow_message=10");
    EXPECT_NE(sim->control("status")[0].find("slow_message=10"), std::string::npos);
    control_ok("fault clear");
    auto journal = sim->control("journal");
    EXPECT_GE(journal.size(), 3u);  // started, fault_set, fault_cleared, OK n
}

// Golden ECR frames captured from real ECRs / quoted from the spec must be accepted as they
// are (tests/data/zvt/golden.hex), not only what our own encoder produces.
TEST_F(SimTcp, AcceptsGoldenEcrCommands) {
    int replayed = 0;
    for (const auto& [name, bytes] : golden_apdus()) {
        if (bytes.size() < 3) continue;
        std::uint16_t control = static_cast<std::uint16_t>((bytes[0] << 8) | bytes[1]);
        bool ecr_command = bytes[0] == 0x05 ||
                           (bytes[0] == 0x06 && control != 0x060F && control != 0x061E && control != 0x06D1 &&
                            control != 0x06D3 && control != 0x0623 && control != 0x06C0 &&
                            control != 0x0693);  // read card waits for a card; 06 93 is unsupported (84 83)
        if (!ecr_command) continue;
        auto ecr = connect();
        ecr->last_sent = static_cast<Command>(control);
        ecr->send_raw(bytes);
        if (control == 0x06B0 || control == 0x0602) {  // answered by 80 00 alone
            auto a = ecr->recv();
            ASSERT_TRUE(a) << name;
            EXPECT_EQ(a->command, Command::positive_ack) << name;
            ++replayed;
            continue;
        }
        auto r = ecr->run_to_end();
        ASSERT_FALSE(r.empty()) << name;
        EXPECT_EQ(r.front().command, Command::positive_ack) << name;
        EXPECT_TRUE(r.back().command == Command::completion || r.back().command == Command::abort_from_pt) << name;
        ++replayed;
    }
    EXPECT_GE(replayed, 15);
}

}  // namespace
}  // namespace pb::simtest
