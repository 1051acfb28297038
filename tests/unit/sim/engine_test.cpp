// The simulated terminal's engine driven with decoded messages and time as a value: no
// sockets, no clock, no sleeping.
#include <gtest/gtest.h>

#include <algorithm>

#include "protocol/zvt/tables.hpp"
#include "simulators/zvt/engine.hpp"
#include "simulators/zvt/persistence.hpp"

namespace pb::sim {
namespace {

using zvt::Command;
using zvt::Message;
using namespace std::chrono_literals;

Now at(std::chrono::milliseconds ms) {
    Now n;
    n.mono = ms;
    n.wall = LocalTime{2024, 3, 15, 14, 30, 5};
    return n;
}

Message cmd(Command c) {
    Message m;
    m.command = c;
    m.control = static_cast<std::uint16_t>(c);
    return m;
}

Message registration(std::uint8_t config, bool text_block = false) {
    Message m = cmd(Command::registration);
    m.password = 123456;
    m.config_byte = config;
    m.fields.currency = 978;
    if (text_block) {
        m.fields.tlv = std::vector<zvt::TlvNode>{zvt::tlv_constructed(
            zvt::tag::permitted_commands, {zvt::tlv_primitive(zvt::tag::zvt_command, Bytes{0x06, 0xD3})})};
    }
    return m;
}

Message auth(std::int64_t amount, std::optional<Bytes> receipt_sync = std::nullopt) {
    Message m = cmd(Command::authorisation);
    m.fields.amount = amount;
    m.fields.currency = 978;
    if (receipt_sync) {
        m.fields.tlv = std::vector<zvt::TlvNode>{zvt::tlv_primitive(zvt::tag::receipt_sync, *receipt_sync)};
    }
    return m;
}

Message with_receipt(Command c, std::uint16_t receipt) {
    Message m = cmd(c);
    m.password = 123456;
    m.fields.receipt_no = receipt;
    return m;
}

Message nack(std::uint8_t code) { return zvt::make_nack(code); }

struct Seen {
    std::vector<Message> sent;
    std::vector<boost::json::object> journal;
    int saves = 0;
    std::vector<std::string> closes;
    std::vector<FaultPoint> crashes;

    void take(const Actions& actions) {
        for (const auto& a : actions) {
            if (auto* s = std::get_if<Send>(&a)) sent.push_back(s->message);
            if (auto* j = std::get_if<Journal>(&a)) journal.push_back(j->record);
            if (std::holds_alternative<SaveState>(a)) ++saves;
            if (auto* c = std::get_if<CloseLink>(&a)) closes.push_back(c->reason);
            if (auto* c = std::get_if<Crash>(&a)) crashes.push_back(c->point);
        }
    }
    std::vector<Command> commands() const {
        std::vector<Command> out;
        for (const auto& m : sent) out.push_back(m.command);
        return out;
    }
    std::vector<std::string> events() const {
        std::vector<std::string> out;
        for (const auto& j : journal) out.emplace_back(j.at("event").as_string());
        return out;
    }
    const Message* first(Command c) const {
        for (const auto& m : sent) {
            if (m.command == c) return &m;
        }
        return nullptr;
    }
    const boost::json::object* event(std::string_view name) const {
        for (const auto& j : journal) {
            if (j.at("event").as_string() == name) return &j;
        }
        return nullptr;
    }
};

// Plays an ECR that answers every PT message with 80 00 until the PT gives the master rights
// back (or the step limit is hit). Time does not pass unless the PT waits.
struct Harness {
    explicit Harness(Scenario s = {}, PersistentState st = {}) : engine(std::move(s), std::move(st)) {}

    Engine engine;
    std::chrono::milliseconds clock{0};
    Seen seen;

    void send(const Message& m) { seen.take(engine.on_message(m, at(clock))); }
    // Answers the last PT message with `answer` (80 00 by default).
    void answer(const Message& a = zvt::make_ack()) { seen.take(engine.on_message(a, at(clock))); }
    void advance_to_deadline() {
        ASSERT_TRUE(engine.next_deadline().has_value());
        clock = *engine.next_deadline();
        seen.take(engine.on_timer(at(clock)));
    }
    // Acks PT messages and lets waits expire until the engine is idle.
    void run_to_idle(int limit = 200) {
        for (int i = 0; i < limit && engine.busy(); ++i) {
            if (engine.phase_name() == "awaiting_ack") {
                answer();
            } else {
                advance_to_deadline();
            }
        }
        ASSERT_FALSE(engine.busy()) << "engine stuck in " << engine.phase_name();
    }
    void register_ecr(std::uint8_t config, bool text_block = false) {
        send(registration(config, text_block));
        run_to_idle();
        seen = {};
    }
};

TEST(SimEngine, RegistrationAcksThenCompletesWithTidCurrencyAndPermittedCommands) {
    Harness h;
    h.send(registration(0x8E, true));
    ASSERT_GE(h.seen.sent.size(), 2u);
    EXPECT_EQ(h.seen.sent[0].command, Command::positive_ack);
    const Message& done = h.seen.sent[1];
    EXPECT_EQ(done.command, Command::completion);
    EXPECT_EQ(done.fields.tid, 52523535u);
    EXPECT_EQ(done.fields.currency, 978);
    ASSERT_TRUE(done.fields.tlv.has_value());
    ASSERT_EQ(done.fields.tlv->size(), 1u);
    EXPECT_EQ((*done.fields.tlv)[0].tag, zvt::tag::permitted_commands);
    h.answer();
    EXPECT_FALSE(h.engine.busy());
    EXPECT_TRUE(h.engine.registered());
    EXPECT_EQ(h.engine.config_byte(), 0x8E);
    EXPECT_EQ(h.seen.events(), std::vector<std::string>{"registered"});
}

TEST(SimEngine, ApprovedPaymentRunsIntermediateStatusThenCommitsOnTheEcrsAnswer) {
    Harness h;
    h.register_ecr(0x08);  // intermediate status, ECR does not print
    h.send(auth(1234));
    EXPECT_EQ(h.seen.commands(), (std::vector{Command::positive_ack, Command::intermediate_status}));
    EXPECT_EQ(h.seen.sent[1].status, 0x0A);  // insert card
    h.answer();
    h.answer();
    h.answer();
    ASSERT_EQ(h.seen.sent.back().command, Command::status_information);
    const auto& f = h.seen.sent.back().fields;
    EXPECT_EQ(f.result_code, 0x00);
    EXPECT_EQ(f.amount, 1234);
    EXPECT_EQ(f.currency, 978);
    EXPECT_EQ(f.trace, 1u);
    EXPECT_EQ(f.receipt_no, 1);
    EXPECT_EQ(f.turnover_no, 1u);
    EXPECT_EQ(f.date_mmdd, 315);
    EXPECT_EQ(f.time_hhmmss, 143005u);
    EXPECT_EQ(f.card_type, zvt::card_type_for_brand(CardBrand::visa));
    EXPECT_EQ(f.card_name, "VISA");
    EXPECT_EQ(f.masked_pan, "476173******0119");
    EXPECT_TRUE(f.aid.has_value());
    EXPECT_EQ(f.tid, 52523535u);
    // Not charged until the ECR answers the Status-Information ([ZVT-CMD] §2.2.8).
    EXPECT_EQ(h.seen.event("approved"), nullptr);
    EXPECT_TRUE(h.engine.state().batch.empty());
    h.answer();
    ASSERT_NE(h.seen.event("approved"), nullptr);
    EXPECT_EQ(h.seen.event("approved")->at("amount").as_int64(), 1234);
    EXPECT_EQ(h.seen.sent.back().command, Command::completion);
    h.answer();
    EXPECT_FALSE(h.engine.busy());
    ASSERT_EQ(h.engine.state().batch.size(), 1u);
    EXPECT_EQ(h.engine.state().receipt, 1);
    EXPECT_EQ(h.engine.state().trace, 1u);
}

TEST(SimEngine, WithoutIntermediateStatusTheFirstMessageAfterTheAckIsTheResult) {
    Harness h;
    h.register_ecr(0x00);
    h.send(auth(500));
    EXPECT_EQ(h.seen.commands(), (std::vector{Command::positive_ack, Command::status_information}));
}

TEST(SimEngine, EcrPrintingGetsPrintLinesAndTheCommitWaitsForTheLastLine) {
    Harness h;
    h.register_ecr(0x82);  // ECR prints payment receipts via 06 D1
    h.send(auth(1000));
    h.answer();  // 04 0F
    ASSERT_EQ(h.seen.sent.back().command, Command::print_line);
    int lines = 0;
    while (h.seen.sent.back().command == Command::print_line) {
        ++lines;
        EXPECT_EQ(h.seen.event("approved"), nullptr) << "committed before the receipt was printed";
        h.answer();
    }
    EXPECT_GE(lines, 20);  // merchant + customer receipt
    EXPECT_NE(h.seen.event("approved"), nullptr);
    EXPECT_EQ(h.seen.sent.back().command, Command::completion);
    auto last_lines = std::count_if(h.seen.sent.begin(), h.seen.sent.end(), [](const Message& m) {
        return m.command == Command::print_line && (m.print_attribute.value_or(0) & 0x80);
    });
    EXPECT_EQ(last_lines, 2);
}

TEST(SimEngine, TextBlockPrintingWhenTheEcrPermits06D3) {
    Harness h;
    h.register_ecr(0x82, true);
    h.send(auth(1000));
    h.run_to_idle();
    std::vector<std::uint8_t> types;
    for (const auto& m : h.seen.sent) {
        if (m.command != Command::print_text_block) continue;
        ASSERT_TRUE(m.fields.tlv.has_value());
        for (const auto& n : *m.fields.tlv) {
            if (n.tag == zvt::tag::receipt_type) types.push_back(n.value.at(0));
            if (n.tag == zvt::tag::print_texts) {
                EXPECT_GE(n.children.size(), 10u);
            }
        }
    }
    EXPECT_EQ(types, (std::vector<std::uint8_t>{0x01, 0x02}));  // merchant, customer
    EXPECT_EQ(h.seen.first(Command::print_line), nullptr);
}

TEST(SimEngine, AmountEndingIn51IsDeclinedWithResult05AndAbort) {
    Harness h;
    h.register_ecr(0x08);
    h.send(auth(1051));
    h.run_to_idle();
    const Message* si = h.seen.first(Command::status_information);
    ASSERT_NE(si, nullptr);
    EXPECT_EQ(si->fields.result_code, 0x05);
    EXPECT_FALSE(si->fields.aid.has_value());
    const Message* abort = h.seen.first(Command::abort_from_pt);
    ASSERT_NE(abort, nullptr);
    EXPECT_EQ(abort->status, 0x05);
    EXPECT_EQ(h.seen.events(), std::vector<std::string>{"declined"});
    EXPECT_TRUE(h.engine.state().batch.empty());
}

TEST(SimEngine, AmountEndingIn52NeverPresentsACardAndTimesOutWith6C) {
    Scenario s;
    s.card_timeout = 3000ms;
    Harness h(s);
    h.register_ecr(0x08);
    h.send(auth(252));
    h.answer();  // 04 FF 0A
    ASSERT_TRUE(h.engine.next_deadline().has_value());
    EXPECT_EQ(*h.engine.next_deadline(), 3000ms);
    h.seen.take(h.engine.on_timer(at(2999ms)));
    EXPECT_EQ(h.seen.first(Command::abort_from_pt), nullptr);
    h.advance_to_deadline();
    const Message* abort = h.seen.first(Command::abort_from_pt);
    ASSERT_NE(abort, nullptr);
    EXPECT_EQ(abort->status, 0x6C);
    EXPECT_EQ(h.seen.first(Command::status_information), nullptr);
    h.answer();
    EXPECT_FALSE(h.engine.busy());
    EXPECT_EQ(h.seen.events(), std::vector<std::string>{"aborted"});
}

TEST(SimEngine, EcrAbortWhileWaitingForTheCardEndsWith6C) {
    Harness h;
    h.register_ecr(0x08);
    h.send(auth(352));  // no card
    h.answer();
    h.send(cmd(Command::abort));
    EXPECT_EQ(h.seen.commands(), (std::vector{Command::positive_ack, Command::intermediate_status,
                                              Command::positive_ack, Command::abort_from_pt}));
    EXPECT_EQ(h.seen.sent.back().status, 0x6C);
    h.answer();
    EXPECT_FALSE(h.engine.busy());
    EXPECT_EQ(h.seen.events(), std::vector<std::string>{"aborted"});
}

TEST(SimEngine, EcrAbortAfterTheHostDecisionIsRefusedWith8483) {
    Harness h;
    h.register_ecr(0x00);
    h.send(auth(100));
    ASSERT_EQ(h.seen.sent.back().command, Command::status_information);
    h.send(cmd(Command::abort));
    EXPECT_EQ(h.seen.sent.back().command, Command::negative_ack);
    EXPECT_EQ(h.seen.sent.back().status, 0x83);
}

TEST(SimEngine, AmountEndingIn53ShowsIncorrectPinOnceThenApproves) {
    Harness h;
    h.register_ecr(0x08);
    h.send(auth(153));
    h.run_to_idle();
    std::vector<std::uint8_t> statuses;
    for (const auto& m : h.seen.sent) {
        if (m.command == Command::intermediate_status) statuses.push_back(*m.status);
    }
    EXPECT_EQ(statuses, (std::vector<std::uint8_t>{0x0A, 0x01, 0x15, 0x01, 0x0E}));
    EXPECT_NE(h.seen.event("approved"), nullptr);
}

TEST(SimEngine, LinkLostAfterStatusInformationAutoReverses) {
    Harness h;
    h.register_ecr(0x00);
    h.send(auth(700));
    ASSERT_EQ(h.seen.sent.back().command, Command::status_information);
    h.seen.take(h.engine.on_link_lost(at(h.clock)));
    EXPECT_FALSE(h.engine.busy());
    EXPECT_EQ(h.seen.events(), std::vector<std::string>{"auto_reversed"});
    EXPECT_TRUE(h.engine.state().batch.empty());
    ASSERT_TRUE(h.engine.state().last_status_info.has_value());
    EXPECT_EQ(h.engine.state().last_status_info->fields.result_code, 0x6C);
}

// A crash (power failure) between the Status-Information and the ECR's answer: the state file
// holds an approving 04 0F that was never stored. Powered up again the terminal auto-reverses
// it ([ZVT-CMD] §2.2.8), so Repeat Receipt cannot report a charge the journal never made.
TEST(SimEngine, RestartBeforeTheAckAutoReversesTheUnacknowledgedStatusInformation) {
    Harness h;
    h.register_ecr(0x00);
    h.send(auth(700));
    ASSERT_EQ(h.seen.sent.back().command, Command::status_information);
    // What SaveState wrote before the crash, read back as the restarted process does.
    auto saved = pb::sim::state_from_json(pb::sim::state_to_json(h.engine.state()));
    ASSERT_TRUE(saved) << saved.error();
    EXPECT_FALSE(saved->last_status_committed);

    Harness restarted({}, *saved);
    restarted.seen.take(restarted.engine.power_up());
    EXPECT_EQ(restarted.seen.events(), std::vector<std::string>{"auto_reversed"});
    ASSERT_TRUE(restarted.engine.state().last_status_info.has_value());
    EXPECT_EQ(restarted.engine.state().last_status_info->fields.result_code, 0x6C);
    EXPECT_TRUE(restarted.engine.state().last_status_committed);
    EXPECT_TRUE(restarted.engine.state().batch.empty());
    // Idempotent: a second power-up changes nothing.
    EXPECT_TRUE(restarted.engine.power_up().empty());
}

TEST(SimEngine, RestartAfterTheAckKeepsTheLastTransaction) {
    Harness h;
    h.register_ecr(0x00);
    h.send(auth(700));
    h.answer();  // committed
    Harness restarted({}, h.engine.state());
    EXPECT_TRUE(restarted.engine.power_up().empty());
    ASSERT_TRUE(restarted.engine.state().last_status_info.has_value());
    EXPECT_EQ(restarted.engine.state().last_status_info->fields.result_code, 0x00);
}

TEST(SimEngine, LinkLostAfterTheAckKeepsThePayment) {
    Harness h;
    h.register_ecr(0x00);
    h.send(auth(700));
    h.answer();  // commit; 06 0F outstanding
    h.seen.take(h.engine.on_link_lost(at(h.clock)));
    EXPECT_EQ(h.seen.events(), std::vector<std::string>{"approved"});
    EXPECT_EQ(h.engine.state().batch.size(), 1u);
}

TEST(SimEngine, NoAnswerToStatusInformationSendsAutoReversalStatusThenAbort) {
    Harness h;
    h.register_ecr(0x00);
    h.send(auth(700));
    h.advance_to_deadline();  // T3 without an answer
    EXPECT_EQ(h.seen.sent.back().command, Command::intermediate_status);
    EXPECT_EQ(h.seen.sent.back().status, 0x05);  // PT is sending auto-reversal
    h.answer();
    EXPECT_EQ(h.seen.sent.back().command, Command::abort_from_pt);
    h.answer();
    EXPECT_FALSE(h.engine.busy());
    EXPECT_EQ(h.seen.events(), std::vector<std::string>{"auto_reversed"});
}

TEST(SimEngine, NegativeAnswerToStatusInformationReverses) {
    Harness h;
    h.register_ecr(0x00);
    h.send(auth(700));
    h.answer(nack(0x66));
    h.run_to_idle();
    EXPECT_EQ(h.seen.events(), std::vector<std::string>{"auto_reversed"});
    EXPECT_TRUE(h.engine.state().batch.empty());
}

TEST(SimEngine, PleaseWaitAnswerRepeatsTheStatusInformation) {
    Scenario s;
    s.status_repeat = 2000ms;
    Harness h(s);
    h.register_ecr(0x00);
    h.send(auth(700));
    h.answer(nack(0x9C));
    EXPECT_EQ(h.seen.sent.size(), 2u);
    h.advance_to_deadline();
    EXPECT_EQ(h.clock, 2000ms);
    EXPECT_EQ(h.seen.sent.back().command, Command::status_information);
    h.run_to_idle();
    EXPECT_EQ(h.seen.events(), std::vector<std::string>{"approved"});
}

TEST(SimEngine, NegativeAnswerToAPrintLineReverses) {
    Harness h;
    h.register_ecr(0x82);
    h.send(auth(900));
    h.answer();            // 04 0F
    h.answer(nack(0xCC));  // printer not ready
    h.run_to_idle();
    EXPECT_EQ(h.seen.events(), std::vector<std::string>{"auto_reversed"});
}

TEST(SimEngine, ReceiptSyncWithoutAckIsReversedImplicitlyWhenTheEcrMirrorsThePreviousReceipt) {
    Harness h;
    h.register_ecr(0x00);
    h.send(auth(100, Bytes{}));  // 1F1F empty: the ECR has no receipt number yet
    ASSERT_EQ(h.seen.sent.back().command, Command::status_information);
    ASSERT_TRUE(h.seen.sent.back().fields.tlv.has_value());
    EXPECT_EQ((*h.seen.sent.back().fields.tlv)[0].value, (Bytes{0x00, 0x01}));
    h.run_to_idle();
    h.send(auth(200, Bytes{0x00, 0x01}));
    ASSERT_EQ(h.seen.sent.back().command, Command::status_information);
    h.seen.take(h.engine.on_link_lost(at(h.clock)));
    // [ZVT-CMD] ch. 4: no auto-reversal; the next command decides.
    EXPECT_EQ(h.seen.event("auto_reversed"), nullptr);
    const boost::json::object* unacked = nullptr;
    for (const auto& j : h.seen.journal) {
        if (j.at("event").as_string() == "approved" && j.contains("acknowledged")) unacked = &j;
    }
    ASSERT_NE(unacked, nullptr);
    EXPECT_EQ(unacked->at("receipt").to_number<int>(), 2);
    h.send(auth(300, Bytes{0x00, 0x01}));  // the ECR never saw receipt 2
    ASSERT_NE(h.seen.event("implicit_reversed"), nullptr);
    EXPECT_EQ(h.seen.event("implicit_reversed")->at("receipt").to_number<int>(), 2);
    h.run_to_idle();
    EXPECT_EQ(h.seen.sent.back().command, Command::completion);
    const Message* si = nullptr;
    for (const auto& m : h.seen.sent) {
        if (m.command == Command::status_information) si = &m;
    }
    EXPECT_EQ(si->fields.receipt_no, 2);  // receipt number reused
    ASSERT_EQ(h.engine.state().batch.size(), 3u);
    EXPECT_FALSE(h.engine.state().batch[0].reversed);
    EXPECT_TRUE(h.engine.state().batch[1].reversed);
    EXPECT_FALSE(h.engine.state().batch[2].reversed);
}

TEST(SimEngine, ReceiptSyncMirroringTheLastReceiptKeepsIt) {
    Harness h;
    h.register_ecr(0x00);
    h.send(auth(100, Bytes{}));
    h.seen.take(h.engine.on_link_lost(at(h.clock)));
    h.send(auth(200, Bytes{0x00, 0x01}));
    EXPECT_NE(h.seen.event("synchronised"), nullptr);
    h.run_to_idle();
    EXPECT_FALSE(h.engine.state().batch[0].reversed);
    EXPECT_EQ(h.engine.state().batch[1].receipt, 2);
}

TEST(SimEngine, ReversalOfAReceiptAndItsErrors) {
    Harness h;
    h.register_ecr(0x00);
    h.send(auth(4200));
    h.run_to_idle();
    h.seen = {};
    h.send(with_receipt(Command::reversal, 1));
    h.run_to_idle();
    const Message* si = h.seen.first(Command::status_information);
    ASSERT_NE(si, nullptr);
    EXPECT_EQ(si->fields.result_code, 0x00);
    EXPECT_EQ(si->fields.amount, 4200);
    EXPECT_EQ(si->fields.receipt_no, 2);
    ASSERT_NE(h.seen.event("reversed"), nullptr);
    EXPECT_EQ(h.seen.event("reversed")->at("ref_receipt").to_number<int>(), 1);
    EXPECT_TRUE(h.engine.state().batch[0].reversed);

    h.seen = {};
    h.send(with_receipt(Command::reversal, 1));
    h.run_to_idle();
    ASSERT_NE(h.seen.first(Command::abort_from_pt), nullptr);
    EXPECT_EQ(h.seen.first(Command::abort_from_pt)->status, 0xB4);  // already reversed

    h.seen = {};
    h.send(with_receipt(Command::reversal, 77));
    h.run_to_idle();
    EXPECT_EQ(h.seen.first(Command::abort_from_pt)->status, 0xB5);
    EXPECT_EQ(h.seen.events(), std::vector<std::string>{"refused"});
}

TEST(SimEngine, RefundIsJournaledAsRefunded) {
    Harness h;
    h.register_ecr(0x00);
    Message m = cmd(Command::refund);
    m.password = 123456;
    m.fields.amount = 1500;
    h.send(m);
    h.run_to_idle();
    ASSERT_NE(h.seen.event("refunded"), nullptr);
    EXPECT_EQ(h.seen.event("refunded")->at("amount").as_int64(), 1500);
}

TEST(SimEngine, PreAuthorisationBookTotalAndPreAuthReversal) {
    Harness h;
    h.register_ecr(0x00);
    Message pre = cmd(Command::pre_authorisation);
    pre.fields.amount = 10000;
    h.send(pre);
    h.run_to_idle();
    ASSERT_NE(h.seen.event("preauthorised"), nullptr);

    Message book = with_receipt(Command::book_total, 1);
    book.fields.amount = 20000;
    h.seen = {};
    h.send(book);
    h.run_to_idle();
    EXPECT_EQ(h.seen.first(Command::abort_from_pt)->status, 0xB7);  // above the reservation

    book.fields.amount = 8000;
    h.seen = {};
    h.send(book);
    h.run_to_idle();
    ASSERT_NE(h.seen.event("booked"), nullptr);
    EXPECT_EQ(h.seen.event("booked")->at("amount").as_int64(), 8000);

    h.seen = {};
    h.send(with_receipt(Command::pre_auth_reversal, 1));
    h.run_to_idle();
    EXPECT_EQ(h.seen.first(Command::abort_from_pt)->status, 0xB4);  // already booked

    Message pre2 = cmd(Command::pre_authorisation);
    pre2.fields.amount = 3000;
    h.send(pre2);
    h.run_to_idle();
    h.seen = {};
    h.send(with_receipt(Command::pre_auth_reversal, 3));
    h.run_to_idle();
    EXPECT_NE(h.seen.event("preauth_reversed"), nullptr);
}

TEST(SimEngine, EndOfDayTotalsPerCardTypeThenBatchReset) {
    Harness h;
    h.register_ecr(0x00);
    for (std::int64_t amount : {1000, 2061, 3061, 464, 5000}) {
        h.send(auth(amount));
        h.run_to_idle();
    }
    h.send(with_receipt(Command::reversal, 5));  // reverse the second Visa payment
    h.run_to_idle();
    h.send(auth(1051));  // declined: not in the totals
    h.run_to_idle();
    h.seen = {};
    Message eod = cmd(Command::end_of_day);
    eod.password = 123456;
    h.send(eod);
    h.run_to_idle();
    const Message* si = h.seen.first(Command::status_information);
    ASSERT_NE(si, nullptr);
    ASSERT_TRUE(si->fields.totals.has_value());
    const auto& t = *si->fields.totals;
    EXPECT_EQ(t.visa.count, 1);
    EXPECT_EQ(t.visa.amount, 1000);
    EXPECT_EQ(t.mastercard.count, 2);
    EXPECT_EQ(t.mastercard.amount, 5122);
    EXPECT_EQ(t.diners.count, 1);
    EXPECT_EQ(t.diners.amount, 464);
    EXPECT_EQ(si->fields.amount, 6586);
    EXPECT_EQ(t.receipt_from, 1);
    EXPECT_EQ(t.receipt_to, 6);
    ASSERT_NE(h.seen.event("end_of_day"), nullptr);
    EXPECT_EQ(h.seen.event("end_of_day")->at("total").to_number<std::int64_t>(), 6586);
    EXPECT_TRUE(h.engine.state().batch.empty());
    EXPECT_NE(h.seen.first(Command::completion), nullptr);

    h.seen = {};
    h.send(with_receipt(Command::reversal, 1));  // the batch is closed
    h.run_to_idle();
    EXPECT_EQ(h.seen.first(Command::abort_from_pt)->status, 0xB5);
}

TEST(SimEngine, RepeatReceiptResendsTheLastStatusInformation) {
    Harness h;
    h.register_ecr(0x00);
    h.send(auth(4321));
    h.run_to_idle();
    Message original = *h.seen.first(Command::status_information);
    h.seen = {};
    Message rr = cmd(Command::repeat_receipt);
    rr.password = 123456;
    rr.fields.service_byte = 0x01;
    h.send(rr);
    h.run_to_idle();
    const Message* si = h.seen.first(Command::status_information);
    ASSERT_NE(si, nullptr);
    EXPECT_EQ(*si, original);
    EXPECT_EQ(h.seen.events(), std::vector<std::string>{"repeat_receipt"});
    EXPECT_EQ(h.engine.state().batch.size(), 1u);  // nothing charged again
}

TEST(SimEngine, StatusEnquiryReportsTerminalStatus) {
    Harness h;
    auto status = [&] {
        h.seen = {};
        h.send(cmd(Command::status_enquiry));
        h.run_to_idle();
        const Message* done = h.seen.first(Command::completion);
        EXPECT_NE(done, nullptr);
        return done ? done->status.value_or(0xEE) : 0xEE;
    };
    EXPECT_EQ(status(), 0x00);
    EXPECT_EQ(h.seen.first(Command::completion)->sw_version, "PBSIM-1.0");
    h.send(auth(154));  // card left in the reader
    h.run_to_idle();
    EXPECT_EQ(status(), 0xDC);
    h.send(cmd(Command::abort));
    EXPECT_EQ(status(), 0x00);
    h.seen.take(h.engine.set_fault("eod_required"));
    EXPECT_EQ(status(), 0xF0);
    h.seen = {};
    h.send(auth(100));
    h.run_to_idle();
    EXPECT_EQ(h.seen.first(Command::abort_from_pt)->status, 0xF0);
    Message eod = cmd(Command::end_of_day);
    eod.password = 123456;
    h.send(eod);
    h.run_to_idle();
    EXPECT_EQ(status(), 0x00);
}

TEST(SimEngine, ReadCardSendsTheConfiguredTrack2ThenCompletes) {
    Scenario sc;
    sc.read_card_track2 = "7700112233=2612";
    Harness h(sc);
    h.register_ecr(0x8E);
    Message rc = cmd(Command::read_card);
    rc.timeout_s = 20;
    h.send(rc);
    h.run_to_idle();
    EXPECT_EQ(h.seen.commands(), (std::vector{Command::positive_ack, Command::intermediate_status,
                                              Command::status_information, Command::completion}));
    const Message* si = h.seen.first(Command::status_information);
    ASSERT_NE(si, nullptr);
    EXPECT_EQ(si->fields.result_code, 0x00);
    EXPECT_EQ(si->fields.track2, "7700112233=2612");
    ASSERT_NE(h.seen.event("read_card"), nullptr);
    EXPECT_EQ(h.seen.event("read_card")->at("card").as_bool(), true);
    EXPECT_TRUE(h.engine.state().batch.empty()) << "reading a card is no transaction";
}

TEST(SimEngine, ReadCardWithoutACardAbortsWith6CAfterTheTimeout) {
    Scenario sc;
    sc.card_timeout = 3000ms;
    Harness h(sc);
    Message rc = cmd(Command::read_card);
    rc.timeout_s = 2;
    h.send(rc);
    h.run_to_idle();
    const Message* abort = h.seen.first(Command::abort_from_pt);
    ASSERT_NE(abort, nullptr);
    EXPECT_EQ(abort->status, zvt::rc::abort_timeout_or_key);
    EXPECT_EQ(h.clock, 2000ms) << "the command's own timeout, when shorter";
}

TEST(SimEngine, ReadCardCanBeAbortedAndTheCardIsSetAtRunTime) {
    Scenario sc;
    sc.card_delay = 1000ms;  // the customer is still looking for the card
    Harness h(sc);
    h.seen.take(h.engine.set_read_card("12=34=5"));
    EXPECT_EQ(h.seen.event("read_card_set"), nullptr) << "bad track 2 refused";
    h.seen.take(h.engine.set_read_card("7700999=1"));
    ASSERT_NE(h.seen.event("read_card_set"), nullptr);
    EXPECT_EQ(h.engine.scenario().read_card_track2, "7700999=1");
    h.send(cmd(Command::read_card));
    h.answer();  // the ECR acknowledges "insert card"
    h.send(cmd(Command::abort));
    h.run_to_idle();
    EXPECT_EQ(h.seen.first(Command::status_information), nullptr);
    ASSERT_NE(h.seen.first(Command::abort_from_pt), nullptr);
}

TEST(SimEngine, DiagnosisAndLogOff) {
    Harness h;
    h.register_ecr(0x8E);
    h.send(cmd(Command::diagnosis));
    h.run_to_idle();
    EXPECT_NE(h.seen.first(Command::completion), nullptr);
    h.seen = {};
    h.send(cmd(Command::log_off));
    EXPECT_EQ(h.seen.commands(), std::vector{Command::positive_ack});
    EXPECT_FALSE(h.engine.registered());
    EXPECT_EQ(h.engine.config_byte(), 0x86);
}

TEST(SimEngine, CommandWhileBusyAndUnknownCommandsAreRefused) {
    Harness h;
    h.register_ecr(0x08);
    h.send(auth(100));
    h.send(auth(200));
    EXPECT_EQ(h.seen.sent.back().command, Command::negative_ack);
    EXPECT_EQ(h.seen.sent.back().status, 0x83);
    Harness idle;
    Message unknown;
    unknown.command = Command::unknown;
    unknown.control = 0x0F01;
    idle.send(unknown);
    EXPECT_EQ(idle.seen.sent.back().status, 0x83);
}

TEST(SimEngine, WrongCurrencyIsRefusedWith6F) {
    Harness h;
    Message m = auth(100);
    m.fields.currency = 752;
    h.send(m);
    h.run_to_idle();
    EXPECT_EQ(h.seen.first(Command::abort_from_pt)->status, 0x6F);
}

TEST(SimEngine, CountersContinueFromTheSavedStateAndWrap) {
    PersistentState st;
    st.trace = 41;
    st.receipt = 9999;
    Harness h({}, st);
    h.send(auth(100));
    h.run_to_idle();
    const Message* si = h.seen.first(Command::status_information);
    EXPECT_EQ(si->fields.trace, 42u);
    EXPECT_EQ(si->fields.receipt_no, 1);
    EXPECT_GE(h.seen.saves, 1);
}

// ---- faults ----

TEST(SimEngineFaults, DropAfterAuthClosesWithoutAnswering) {
    Harness h;
    h.seen.take(h.engine.set_fault("drop_after_auth"));
    h.send(auth(100));
    EXPECT_TRUE(h.seen.sent.empty());
    EXPECT_EQ(h.seen.closes.size(), 1u);
    EXPECT_NE(h.seen.event("fault"), nullptr);
    h.send(auth(100));  // one-shot
    EXPECT_FALSE(h.seen.sent.empty());
}

TEST(SimEngineFaults, DropAfterStatusInformationAutoReverses) {
    Harness h;
    h.seen.take(h.engine.set_fault("drop_after_status_info"));
    h.send(auth(100));
    EXPECT_EQ(h.seen.sent.back().command, Command::status_information);
    EXPECT_EQ(h.seen.closes.size(), 1u);
    EXPECT_EQ(h.seen.events(), (std::vector<std::string>{"fault_set", "fault", "auto_reversed"}));
    EXPECT_FALSE(h.engine.busy());
}

TEST(SimEngineFaults, DropBeforeCompletionKeepsThePayment) {
    Harness h;
    h.register_ecr(0x00);
    h.seen.take(h.engine.set_fault("drop_before_completion"));
    h.send(auth(100));
    h.answer();
    EXPECT_EQ(h.seen.events(), (std::vector<std::string>{"fault_set", "approved", "fault"}));
    EXPECT_EQ(h.seen.closes.size(), 1u);
    EXPECT_EQ(h.seen.first(Command::completion), nullptr);
    EXPECT_FALSE(h.engine.busy());
}

TEST(SimEngineFaults, NoCompletionLeavesTheEcrWaiting) {
    Harness h;
    h.register_ecr(0x00);
    h.seen.take(h.engine.set_fault("no_completion"));
    h.send(auth(100));
    h.answer();
    EXPECT_EQ(h.seen.first(Command::completion), nullptr);
    EXPECT_TRUE(h.seen.closes.empty());
    EXPECT_FALSE(h.engine.busy());
    EXPECT_NE(h.seen.event("approved"), nullptr);
}

TEST(SimEngineFaults, CrashAtANamedPoint) {
    for (auto [spec, point] : {std::pair{"crash=after_auth", FaultPoint::after_auth},
                               std::pair{"crash=after_status_info", FaultPoint::after_status_info},
                               std::pair{"crash=before_completion", FaultPoint::before_completion}}) {
        Harness h;
        h.register_ecr(0x00);
        h.seen.take(h.engine.set_fault(spec));
        h.send(auth(100));
        if (h.seen.crashes.empty()) h.answer();
        ASSERT_EQ(h.seen.crashes.size(), 1u) << spec;
        EXPECT_EQ(h.seen.crashes[0], point);
        EXPECT_NE(h.seen.event("fault"), nullptr);
    }
}

TEST(SimEngineFaults, BusyAndNegativeAnswers) {
    Harness h;
    h.seen.take(h.engine.set_fault("busy"));
    h.send(auth(100));
    EXPECT_EQ(h.seen.sent.back().status, 0x9C);
    h.seen.take(h.engine.clear_fault("busy"));
    h.seen.take(h.engine.set_fault("negative_code=A0"));
    h.seen.take(h.engine.set_fault("negative=2"));
    h.send(cmd(Command::status_enquiry));
    h.send(cmd(Command::status_enquiry));
    EXPECT_EQ(h.seen.sent.back().command, Command::negative_ack);
    EXPECT_EQ(h.seen.sent.back().status, 0xA0);
    h.send(cmd(Command::status_enquiry));
    EXPECT_EQ(h.seen.sent.back().command, Command::completion);
}

TEST(SimEngineFaults, FaultSpecParsing) {
    FaultSet f;
    EXPECT_TRUE(f.set("slow_message=250"));
    EXPECT_EQ(f.slow_message, 250ms);
    EXPECT_TRUE(f.set("corrupt_crc=3"));
    EXPECT_EQ(f.corrupt_crc, 3);
    EXPECT_FALSE(f.set("crash=nowhere"));
    EXPECT_FALSE(f.set("no_such_fault"));
    EXPECT_FALSE(f.set("slow_byte"));
    EXPECT_EQ(f.active(), (std::vector<std::string>{"slow_message=250", "corrupt_crc=3"}));
    EXPECT_TRUE(f.clear());
    EXPECT_TRUE(f.active().empty());
}

TEST(SimScenario, AmountRulesScenarioFirstThenDefaults) {
    Scenario s;
    s.rules.push_back({"51", Outcome::approve, 0x05, std::nullopt});
    EXPECT_EQ(s.rule_for(1051).outcome, Outcome::approve);
    EXPECT_EQ(s.rule_for(1052).outcome, Outcome::no_card);
    EXPECT_EQ(s.rule_for(1000).outcome, Outcome::approve);
    EXPECT_EQ(s.rule_for(5).outcome, Outcome::approve);
    ASSERT_TRUE(s.rule_for(161).card.has_value());
    EXPECT_EQ(s.rule_for(161).card->brand, CardBrand::mastercard);
}

}  // namespace
}  // namespace pb::sim
