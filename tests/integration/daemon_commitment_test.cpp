// Commitment cards end to end (issue 7): the real paybridged against `paybridge-sim upstream`
// (and a ZVT simulator for the register's terminal), driven through the ERP protocol. The
// issuer's side (activate, block, transfer) and the faults go through the simulator's control
// port; what was really debited and invoiced is read back from the simulator.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <cstdlib>
#include <fstream>
#include <iterator>

#include "tests/integration/upstream_fixture.hpp"

namespace pb::daemontest {
namespace {

json::object line(const std::string& sku, const std::string& text, std::int64_t qty, std::int64_t unit_price,
                  const std::string& category) {
    return {{"sku", sku}, {"text", text}, {"qty", qty}, {"unit_price", unit_price}, {"category", category}};
}

const json::object kBread = line("FOOD-1", "Bread", 2, 3500, "food");        // 7000
const json::object kTobacco = line("TOB-9", "Tobacco", 1, 9000, "tobacco");  // 9000
const json::object kSoap = line("HYG-3", "Soap", 1, 3000, "hygiene");        // 3000

std::int64_t sum(const json::array& lines) {
    std::int64_t total = 0;
    for (const auto& l : lines) total += l.as_object().at("qty").as_int64() * l.as_object().at("unit_price").as_int64();
    return total;
}

class CommitmentTest : public UpstreamTest {
protected:
    std::string service_toml(const std::string& url) const override {
        return "[upstream.commitment]\nurl = \"" + url + "\"\ntimeout_ms = 1500\n"
               "\n[commitment_cards]\niins = [\"7700\"]\nid_prefix = \"SK-\"\nread_timeout_s = 2\n";
    }

    void issuer(const std::string& command) { control_ok(command); }

    void activate(const std::string& card, std::int64_t amount, const std::string& valid_until = "2099-12-31",
                  const std::string& categories = R"(["food","hygiene"])") {
        issuer("activate {\"card_id\":\"" + card + "\",\"amount\":" + std::to_string(amount) +
               ",\"currency\":\"SEK\",\"valid_until\":\"" + valid_until + "\",\"categories\":" + categories +
               ",\"billing_reference\":\"SOC-" + card + "\",\"billing_name\":\"Social services\"}");
    }

    std::int64_t sim_balance(const std::string& card) { return sim_state("card " + card).as_object().at("balance").as_int64(); }
    std::size_t sim_debits() { return sim_state("debits").as_array().size(); }

    json::object check(const std::string& order, const std::string& card, json::array lines) {
        return erp->request({{"type", "commitment.check"},
                             {"order_id", order},
                             {"card_id", card},
                             {"total", sum(lines)},
                             {"lines", lines},
                             {"currency", "SEK"},
                             {"register", "K1"}});
    }

    json::object pay(const std::string& key, const std::string& order, const std::string& card, json::array lines) {
        return erp->request({{"type", "commitment.pay"},
                             {"order_id", order},
                             {"request_key", key},
                             {"card_id", card},
                             {"amount", sum(lines)},
                             {"lines", lines},
                             {"currency", "SEK"},
                             {"register", "K1"},
                             {"operator", "anna"}});
    }

};

TEST_F(CommitmentTest, BlockedLinesAreReturnedAndTheAllowedAmountIsDebitedManyTimes) {
    activate("SK-1", 50000);
    auto c = ok_result(check("O-1", "SK-1", {kBread, kTobacco}));
    EXPECT_EQ(c["active"], json::value(true));
    EXPECT_EQ(c["balance"], json::value(50000));
    EXPECT_EQ(c["blocked_lines"], json::value(json::array{1}));  // tobacco: the cashier removes it
    EXPECT_EQ(c["allowed_total"], json::value(7000));
    EXPECT_EQ(c["covered"], json::value(true));
    EXPECT_EQ(sim_debits(), 0u);  // a check debits nothing

    // Paying with the blocked line still in is refused by the service: nothing debited.
    auto refused = pay("O-1#c0", "O-1", "SK-1", {kBread, kTobacco});
    expect_error(refused, 2103, "/lines/1");
    EXPECT_EQ(sim_balance("SK-1"), 50000);

    auto p1 = ok_result(pay("O-1#c1", "O-1", "SK-1", {kBread}));
    EXPECT_EQ(str(p1, "kind"), "commitment");
    EXPECT_EQ(str(p1, "state"), "approved");
    EXPECT_EQ(num(p1, "amount"), 7000);
    EXPECT_EQ(num(p1, "remaining_balance"), 43000);
    EXPECT_EQ(str(p1, "billing_reference"), "SOC-SK-1");
    auto ev = erp->wait_event([&](const ReceivedEvent& e) {
        return e.topic == "payment.result.O-1" && str(e.body, "payment_id") == str(p1, "payment_id");
    });
    ASSERT_TRUE(ev.has_value());
    EXPECT_EQ(str(ev->body, "state"), "approved");

    // A second purchase on the same commitment (partial use), and the first key again: the
    // same payment, never a second debit.
    auto p2 = ok_result(pay("O-2#c1", "O-2", "SK-1", {kSoap}));
    EXPECT_EQ(num(p2, "remaining_balance"), 40000);
    auto again = ok_result(pay("O-1#c1", "O-1", "SK-1", {kBread}));
    EXPECT_EQ(str(again, "payment_id"), str(p1, "payment_id"));
    EXPECT_EQ(num(again, "remaining_balance"), 43000);
    EXPECT_EQ(sim_debits(), 2u);
    EXPECT_EQ(sim_balance("SK-1"), 40000);

    // The order shows the commitment tender; the receipt lines reach the service's invoice.
    auto order = ok_result(erp->request({{"type", "order.get"}, {"order_id", "O-1"}}));
    bool approved_commitment = false;
    for (const auto& p : order["payments"].as_array())
        approved_commitment |= str(p.as_object(), "kind") == "commitment" && str(p.as_object(), "state") == "approved";
    EXPECT_TRUE(approved_commitment) << dump(order);
    ASSERT_TRUE(delivered("commitment-receipt:O-1#c1"));
    ASSERT_TRUE(delivered("commitment-receipt:O-2#c1"));
    auto receipts = sim_state("receipts").as_array();
    ASSERT_EQ(receipts.size(), 2u);
    auto first = receipts[0].as_object().at("message").as_object();
    EXPECT_EQ(str(first, "billing_reference"), "SOC-SK-1");
    EXPECT_EQ(str(first.at("lines").as_array()[0].as_object(), "text"), "Bread");

    // The register's day-close lists them per billing reference, apart from the cards.
    auto closing = erp->request({{"type", "day_close.run"}, {"register", "K1"}, {"operator", "lena"}});
    ASSERT_EQ(closing["ok"], json::value(true)) << dump(closing);
    auto done = erp->wait_event([](const ReceivedEvent& e) { return str(e.body, "type") == "day_close.done"; }, 15s);
    ASSERT_TRUE(done) << "no day_close.done";
    ASSERT_TRUE(done->body.contains("commitment_totals")) << dump(done->body);
    auto totals = done->body.at("commitment_totals").as_array();
    ASSERT_EQ(totals.size(), 1u) << dump(done->body);
    EXPECT_EQ(str(totals[0].as_object(), "brand"), "SOC-SK-1");
    EXPECT_EQ(totals[0].as_object().at("count"), json::value(2));
    EXPECT_EQ(done->body.at("matches"), json::value(true)) << "commitments are not card takings: " << dump(done->body);
}

TEST_F(CommitmentTest, InsufficientAndExpiredCommitmentsAreRefused) {
    activate("SK-2", 5000);
    auto c = ok_result(check("O-3", "SK-2", {kBread}));
    EXPECT_EQ(c["covered"], json::value(false));
    EXPECT_EQ(c["balance"], json::value(5000));
    auto r = pay("O-3#c1", "O-3", "SK-2", {kBread});
    expect_error(r, 2102, "/amount");
    EXPECT_EQ(sim_balance("SK-2"), 5000);
    // The refusal is recorded, as a declined commitment payment (not in the interim account).
    auto p = ok_result(erp->request({{"type", "payment.get"}, {"request_key", "O-3#c1"}}));
    EXPECT_EQ(str(p, "state"), "declined");
    EXPECT_EQ(str(p, "kind"), "commitment");

    activate("SK-3", 50000, "2020-01-31");
    expect_error(check("O-4", "SK-3", {kBread}), 2101, "/card_id");
    expect_error(pay("O-4#c1", "O-4", "SK-3", {kBread}), 2101, "/card_id");
    expect_error(check("O-4", "SK-UNKNOWN", {kBread}), 2101, "/card_id");
    EXPECT_EQ(sim_debits(), 0u);
}

TEST_F(CommitmentTest, BlockedCardIsRefusedAndTheNewCardCarriesTheBalance) {
    activate("SK-4", 20000);
    EXPECT_EQ(num(ok_result(pay("O-5#c1", "O-5", "SK-4", {kBread})), "remaining_balance"), 13000);
    issuer("block SK-4");
    auto e = expect_error(check("O-6", "SK-4", {kSoap}), 2101, "/card_id");
    EXPECT_NE(str(e, "message").find("blocked"), std::string::npos) << dump(e);
    expect_error(pay("O-6#c1", "O-6", "SK-4", {kSoap}), 2101, "/card_id");

    issuer("transfer SK-4 SK-5");
    auto c = ok_result(check("O-6", "SK-5", {kSoap}));
    EXPECT_EQ(c["balance"], json::value(13000));
    EXPECT_EQ(num(ok_result(pay("O-6#c2", "O-6", "SK-5", {kSoap})), "remaining_balance"), 10000);
    expect_error(pay("O-7#c1", "O-7", "SK-4", {kSoap}), 2101, "/card_id");  // the old card stays blocked
}

TEST_F(CommitmentTest, ServiceDownCannotVerifyAndNothingIsCharged) {
    activate("SK-6", 50000);
    issuer("fault set down");
    auto e = expect_error(check("O-8", "SK-6", {kBread}), 2100);
    EXPECT_NE(str(e, "message").find("nothing was charged"), std::string::npos) << dump(e);
    expect_error(pay("O-8#c1", "O-8", "SK-6", {kBread}), 2100);
    // Not approved offline: the payment is unknown (interim) while its debit is voided.
    auto p = ok_result(erp->request({{"type", "payment.get"}, {"request_key", "O-8#c1"}}));
    EXPECT_EQ(str(p, "state"), "unknown");

    // A slow service is no answer either: the check gives up at its deadline (1.5 s).
    issuer("fault clear");
    issuer("fault set slow=4000 path=/v1/commitments/check");
    auto started = Clock::now();
    expect_error(check("O-8", "SK-6", {kBread}), 2100);
    EXPECT_LT(Clock::now() - started, 3900ms);
    issuer("fault clear");

    // Back up: the void goes through, the payment is declined and nothing was debited.
    ASSERT_TRUE(delivered("commitment-void:O-8#c1"));
    auto ev = erp->wait_event([&](const ReceivedEvent& ev2) {
        return ev2.topic == "payment.result.O-8" && str(ev2.body, "state") == "declined";
    });
    ASSERT_TRUE(ev.has_value());
    EXPECT_EQ(sim_balance("SK-6"), 50000);
    EXPECT_EQ(sim_debits(), 0u);
    // The order can be paid now.
    EXPECT_EQ(num(ok_result(pay("O-8#c2", "O-8", "SK-6", {kBread})), "remaining_balance"), 43000);
}

TEST_F(CommitmentTest, DebitWhoseAnswerIsLostIsVoidedNotCharged) {
    activate("SK-7", 50000);
    // The service debits, then the connection dies before the answer: cannot verify, and the
    // void puts the amount back.
    issuer("fault set drop_reply=1 path=/v1/commitments/debit");
    expect_error(pay("O-9#c1", "O-9", "SK-7", {kBread}), 2100);
    ASSERT_TRUE(delivered("commitment-void:O-9#c1"));
    auto ev = erp->wait_event([&](const ReceivedEvent& e) {
        return e.topic == "payment.result.O-9" && str(e.body, "state") == "declined";
    });
    ASSERT_TRUE(ev.has_value());
    EXPECT_EQ(sim_balance("SK-7"), 50000);
    auto debits = sim_state("debits").as_array();
    ASSERT_EQ(debits.size(), 1u);
    EXPECT_EQ(debits[0].as_object().at("voided"), json::value(true));
}

TEST_F(CommitmentTest, OutboxDeliversEachReceiptExactlyOnceByIdempotencyKey) {
    activate("SK-8", 50000);
    // The service stores the receipt lines but the answer is lost twice: the outbox sends
    // again with the same key and the service answers the first answer, storing nothing twice.
    issuer("fault set drop_reply=2 path=/v1/commitments/receipts");
    ok_result(pay("O-10#c1", "O-10", "SK-8", {kBread}));
    ASSERT_TRUE(delivered("commitment-receipt:O-10#c1"));
    auto receipts = sim_state("receipts").as_array();
    ASSERT_EQ(receipts.size(), 1u);
    EXPECT_EQ(receipts[0].as_object().at("deliveries"), json::value(3));
    EXPECT_NE(daemon->log().find("PB_OUTBOX_RETRY"), std::string::npos);
}

TEST_F(CommitmentTest, DaemonKilledWithAFullOutboxDeliversEverythingOnceAfterRestart) {
    activate("SK-9", 50000);
    issuer("fault set http_5xx=100000 path=/v1/commitments/receipts");
    for (int i = 1; i <= 3; ++i) {
        std::string order = "O-2" + std::to_string(i);
        ok_result(pay(order + "#c1", order, "SK-9", {kSoap}));
    }
    ASSERT_TRUE(daemon->wait_log("PB_OUTBOX_RETRY", 5s));
    daemon->kill9();
    EXPECT_EQ(sim_state("receipts").as_array().size(), 0u);

    // What waits is visible from the command line.
    std::string out = dir.file("outbox.json");
    std::string cmd = std::string(PB_PAYBRIDGE_BINARY) + " outbox list --ledger " + daemon->ledger_path +
                      " --state pending --json > " + out;
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    std::ifstream in(out);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto pending = json::parse(text).as_object().at("messages").as_array();
    EXPECT_EQ(pending.size(), 3u) << text;

    issuer("fault clear");
    daemon->start();
    connect();
    for (int i = 1; i <= 3; ++i) ASSERT_TRUE(delivered("commitment-receipt:O-2" + std::to_string(i) + "#c1"));
    auto receipts = sim_state("receipts").as_array();
    ASSERT_EQ(receipts.size(), 3u);
    for (const auto& r : receipts) EXPECT_EQ(r.as_object().at("deliveries"), json::value(1)) << dump(r);
    EXPECT_EQ(sim_balance("SK-9"), 41000);
    EXPECT_EQ(sim_debits(), 3u);
}

TEST_F(CommitmentTest, DaemonKilledDuringADebitVoidsItAtRestart) {
    activate("SK-10", 50000);
    // The debit reaches the service slowly; the daemon dies before the answer.
    issuer("fault set slow=2000 path=/v1/commitments/debit");
    // Its reply never comes (the daemon is killed first).
    send_unanswered({{"type", "commitment.pay"}, {"order_id", "O-30"}, {"request_key", "O-30#c1"}, {"card_id", "SK-10"},
                     {"amount", 7000}, {"lines", json::array{kBread}}, {"currency", "SEK"}, {"register", "K1"},
                     {"operator", "anna"}});
    ASSERT_TRUE(daemon->wait_log("PB_COMMITMENT_DEBIT", 5s));
    daemon->kill9();
    issuer("fault clear");
    daemon->start();
    connect();
    ASSERT_TRUE(daemon->wait_log("PB_COMMITMENT_RECOVERY", 10s));
    ASSERT_TRUE(delivered("commitment-void:O-30#c1"));
    // Declined once the void is durable (logged after the ledger write).
    ASSERT_TRUE(daemon->wait_log("declined (voided)", 10s));
    auto p = ok_result(erp->request({{"type", "payment.get"}, {"request_key", "O-30#c1"}}));
    EXPECT_EQ(str(p, "state"), "declined") << dump(p);
    EXPECT_EQ(sim_balance("SK-10"), 50000);
}

TEST_F(CommitmentTest, MalformedServiceReplyIsNoAnswer) {
    activate("SK-11", 50000);
    issuer("fault set malformed=1 path=/v1/commitments/check");
    auto e = expect_error(check("O-40", "SK-11", {kBread}), 2100);
    EXPECT_NE(str(e, "message").find("malformed reply"), std::string::npos) << dump(e);
    EXPECT_TRUE(daemon->wait_log("malformed reply from commitment: /card_id: missing", 2s));
}

TEST_F(CommitmentTest, TheTerminalReadsTheCardAndOnlyCommitmentCardsAreAccepted) {
    // ZVT Read Card (PA00P015 2.21): the simulated terminal presents track 2 of a commitment card.
    auto set = sim->control("card read 7700112233=2612");
    ASSERT_FALSE(set.empty());
    ASSERT_EQ(set.back().rfind("OK", 0), 0u) << set.back();
    activate("SK-7700112233", 50000);
    auto read = ok_result(erp->request({{"type", "card.read"}, {"terminal", "T1"}}));
    EXPECT_EQ(read["card_id"], json::value("SK-7700112233"));
    auto insert = erp->wait_event([](const ReceivedEvent& e) {
        return e.topic.starts_with("payment.progress") && e.body.at("code").as_int64() == 0x0A;
    }, 5s);
    EXPECT_TRUE(insert) << "the cashier sees 'insert card' while the terminal waits";
    auto c = ok_result(check("O-R1", read["card_id"].as_string().c_str(), {kBread}));
    EXPECT_EQ(c["active"], json::value(true));
    EXPECT_EQ(c["balance"], json::value(50000));

    // A payment card in the reader: refused, and its number goes nowhere.
    set = sim->control("card read 4761739001010119=2512101");
    ASSERT_EQ(set.back().rfind("OK", 0), 0u) << set.back();
    auto refused = expect_error(erp->request({{"type", "card.read"}, {"terminal", "T1"}}), 2101, "/terminal");
    const std::string message(refused["message"].as_string());
    EXPECT_NE(message.find("0119"), std::string::npos) << message;
    EXPECT_EQ(message.find("4761739001010119"), std::string::npos) << message;
    EXPECT_EQ(daemon->log().find("476173900101"), std::string::npos) << "no card number in the log";

    // No card before the timeout (2 s): 2110, and the terminal takes work again afterwards.
    set = sim->control("card read none");
    ASSERT_EQ(set.back().rfind("OK", 0), 0u) << set.back();
    expect_error(erp->request({{"type", "card.read"}, {"terminal", "T1"}}, 15s), 2110, "/terminal");
    set = sim->control("card read 7700112233=2612");
    read = ok_result(erp->request({{"type", "card.read"}, {"terminal", "T1"}}));
    EXPECT_EQ(read["card_id"], json::value("SK-7700112233"));
    // Reading a card is no transaction: nothing in the terminal's journal or the ledger.
    auto pays = erp->request({{"type", "order.get"}, {"order_id", "O-R1"}});
    expect_error(pays, 2009, "/order_id");
}

}  // namespace
}  // namespace pb::daemontest
