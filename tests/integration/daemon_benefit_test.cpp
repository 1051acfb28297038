// Benefit payments end to end (issue 7, seed benefit-payment-sv): the real paybridged against
// `paybridge-sim upstream` (the benefit service) and a ZVT simulator (the card difference),
// driven through the ERP protocol. The provider's side (a customer's purchase in the app,
// possibly in the past) and the faults go through the simulator's control port; what was
// really redeemed, cancelled and credited is read back from the simulator.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <cstdlib>
#include <fstream>
#include <iterator>

#include "tests/integration/upstream_fixture.hpp"

namespace pb::daemontest {
namespace {

constexpr const char* kShop = "EP-SHOP-1";

class BenefitTest : public UpstreamTest {
protected:
    /// valid_minutes of the daemon; the window tests redeem vouchers bought days ago.
    virtual int valid_minutes() const { return 15; }

    std::string service_toml(const std::string& url) const override {
        return "[upstream.benefit]\nurl = \"" + url + "\"\ntimeout_ms = 1500\nprovider_id = \"" + kShop +
               "\"\nvalid_minutes = " + std::to_string(valid_minutes()) + "\n";
    }

    void provider(const std::string& command) { control_ok(command); }

    /// The customer bought `voucher` in the app `age_seconds` ago.
    void issue(const std::string& voucher, std::int64_t amount, std::int64_t age_seconds = 60,
               const std::string& for_provider = kShop) {
        provider("voucher {\"voucher_id\":\"" + voucher + "\",\"amount\":" + std::to_string(amount) +
                 ",\"currency\":\"SEK\",\"provider_id\":\"" + for_provider + "\",\"age_seconds\":" +
                 std::to_string(age_seconds) + "}");
    }

    /// The simulator's redemptions (state per redemption).
    std::vector<std::string> redemption_states() {
        std::vector<std::string> out;
        json::value all = sim_state("redemptions");
        if (!all.is_array()) return out;
        for (const auto& r : all.get_array()) out.push_back(str(r.as_object(), "state"));
        return out;
    }

    json::object verify(const std::string& order, const std::string& voucher) {
        return erp->request({{"type", "benefit.verify"}, {"order_id", order}, {"voucher", voucher}});
    }

    json::object redeem(const std::string& key, const std::string& order, const std::string& voucher, std::int64_t amount,
                        std::int64_t total = 0) {
        json::object r{{"type", "benefit.redeem"}, {"order_id", order}, {"request_key", key}, {"voucher", voucher},
                       {"amount", amount},         {"currency", "SEK"}, {"register", "K1"},   {"operator", "anna"}};
        if (total > 0) r["total"] = total;
        return erp->request(r);
    }

    json::object undo(const std::string& type, const std::string& payment_id, const std::string& op = "erik") {
        json::object r{{"type", type}, {"payment_id", payment_id}, {"operator", op}, {"reason", "wrong product"}};
        if (type == "payment.refund") r["request_key"] = payment_id + "#credit";
        return erp->request(r);
    }

    /// `paybridge history ARGS --json` on the daemon's ledger, in UTC like the daemon's config.
    json::array history(const std::string& args) {
        std::string out = dir.file("history.json");
        std::string cmd = "TZ=UTC " + std::string(PB_PAYBRIDGE_BINARY) + " history --ledger " + daemon->ledger_path + " " +
                          args + " --json > " + out;
        EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
        std::ifstream in(out);
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        json::error_code ec;
        json::value v = json::parse(text, ec);
        if (ec || !v.is_array()) {
            ADD_FAILURE() << cmd << " -> " << text;
            return {};
        }
        return v.get_array();
    }

};

TEST_F(BenefitTest, VerifyChecksValidityProviderAndUse) {
    issue("V-OK", 50000, 60);
    auto v = ok_result(verify("O-1", "V-OK"));
    EXPECT_EQ(v["valid"], json::value(true));
    EXPECT_EQ(num(v, "amount"), 50000);
    EXPECT_EQ(str(v, "currency"), "SEK");
    EXPECT_EQ(str(v, "provider"), kShop);
    EXPECT_FALSE(str(v, "expires_at").empty());

    // 16 minutes after the purchase in the app: expired (the receipt is valid 15 minutes).
    issue("V-OLD", 50000, 16 * 60);
    auto e = expect_error(verify("O-2", "V-OLD"), 2104, "/voucher");
    EXPECT_NE(str(e, "message").find("expired"), std::string::npos) << dump(e);
    // 14 minutes: still valid.
    issue("V-14", 50000, 14 * 60);
    ok_result(verify("O-2", "V-14"));

    // Bought for another provider: refused, and the message says for whom.
    issue("V-OTHER", 50000, 60, "EP-GYM-9");
    e = expect_error(verify("O-3", "V-OTHER"), 2104, "/voucher");
    EXPECT_NE(str(e, "message").find("EP-GYM-9"), std::string::npos) << dump(e);
    expect_error(redeem("O-3#b1", "O-3", "V-OTHER", 50000), 2104, "/voucher");

    expect_error(verify("O-4", "V-NOPE"), 2104, "/voucher");

    // Redeemed once: used.
    ok_result(redeem("O-5#b1", "O-5", "V-OK", 50000));
    e = expect_error(verify("O-6", "V-OK"), 2104, "/voucher");
    EXPECT_NE(str(e, "message").find("redeemed"), std::string::npos) << dump(e);
    expect_error(redeem("O-6#b1", "O-6", "V-OK", 50000), 2104, "/voucher");
    // Refusals before the redeem record nothing.
    expect_error(erp->request({{"type", "payment.get"}, {"request_key", "O-6#b1"}}), 2005);
    EXPECT_EQ(redemption_states(), std::vector<std::string>{"redeemed"});
}

TEST_F(BenefitTest, VoucherPlusCardDifferenceIsOneOrderWithTwoTenders) {
    issue("V-SPLIT", 50000);
    // A voucher worth more than the price is not redeemed (its amount is fixed).
    auto e = expect_error(redeem("O-10#b0", "O-10", "V-SPLIT", 50000, 40000), 2007, "/amount");
    EXPECT_NE(str(e, "message").find("exceeds the price"), std::string::npos) << dump(e);
    // The amount must be the voucher's.
    expect_error(redeem("O-10#b0", "O-10", "V-SPLIT", 30000), 2007, "/amount");
    EXPECT_TRUE(redemption_states().empty());

    auto b = ok_result(redeem("O-10#b1", "O-10", "V-SPLIT", 50000, 80000));
    EXPECT_EQ(str(b, "kind"), "benefit");
    EXPECT_EQ(str(b, "state"), "approved");
    EXPECT_EQ(num(b, "remaining"), 30000);
    EXPECT_EQ(str(b, "voucher"), "V-SPLIT");
    EXPECT_EQ(str(b, "provider"), kShop);
    EXPECT_FALSE(str(b, "redemption_id").empty());
    auto ev = erp->wait_event([&](const ReceivedEvent& x) {
        return x.topic == "payment.result.O-10" && str(x.body, "payment_id") == str(b, "payment_id");
    });
    ASSERT_TRUE(ev.has_value());
    EXPECT_EQ(str(ev->body, "kind"), "benefit");
    EXPECT_EQ(str(ev->body, "approval_code"), str(b, "redemption_id"));

    // The difference on the card terminal, same order.
    auto card = pay("O-10", 30000);
    EXPECT_EQ(str(card, "state"), "approved") << dump(card);
    EXPECT_EQ(journal_count(*sim, "approved", 30000), 1u);

    auto order = ok_result(erp->request({{"type", "order.get"}, {"order_id", "O-10"}}));
    EXPECT_EQ(num(order, "paid"), 80000) << dump(order);
    const auto& payments = order["payments"].as_array();
    ASSERT_EQ(payments.size(), 2u) << dump(order);
    EXPECT_EQ(str(payments[0].as_object(), "kind"), "benefit");
    EXPECT_EQ(num(payments[0].as_object(), "amount"), 50000);
    EXPECT_EQ(str(payments[1].as_object(), "kind"), "sale");
    EXPECT_EQ(num(payments[1].as_object(), "amount"), 30000);

    // Both tenders in the ledger; today's benefit purchases are the voucher alone (the daemon
    // keeps business dates in UTC here, so the command line looks at today in UTC too).
    auto both = history("--order O-10");
    ASSERT_EQ(both.size(), 2u);
    EXPECT_EQ(str(both[0].as_object(), "tender"), "benefit_voucher");
    EXPECT_EQ(str(both[1].as_object(), "tender"), "card");
    auto today = history("--tender benefit --today");
    ASSERT_EQ(today.size(), 1u);
    EXPECT_EQ(str(today[0].as_object(), "order"), "O-10");
    EXPECT_EQ(num(today[0].as_object(), "amount_minor"), 50000);

    // Day-close: the card on the terminal's batch, the voucher apart, per provider.
    auto r = erp->request({{"type", "day_close.run"}, {"terminal", "T1"}, {"operator", "lena"}});
    ASSERT_EQ(r["ok"], json::value(true)) << dump(r);
    auto done = erp->wait_event([](const ReceivedEvent& x) { return str(x.body, "type") == "day_close.done"; });
    ASSERT_TRUE(done) << "no day_close.done";
    const auto& d = done->body;
    EXPECT_EQ(d.at("matches"), json::value(true)) << dump(d);
    EXPECT_EQ(dump(d.at("ledger_totals")), R"([{"brand":"visa","count":1,"amount":30000}])") << dump(d);
    EXPECT_EQ(dump(d.at("benefit_totals")), R"([{"brand":"EP-SHOP-1","count":1,"amount":50000}])") << dump(d);

    // The accounting export books the voucher on its own account.
    std::string csv = dir.file("export.csv");
    std::string cmd = std::string(PB_PAYBRIDGE_BINARY) + " export csv --ledger " + daemon->ledger_path +
                      " --benefit-account 1689 -o " + csv;
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    std::ifstream in(csv);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_NE(text.find(",1689,"), std::string::npos) << text;
    EXPECT_NE(text.find("Friskvård EP-SHOP-1"), std::string::npos) << text;
}

TEST_F(BenefitTest, SameRequestKeyRedeemsExactlyOnce) {
    issue("V-ONCE", 25000);
    auto first = ok_result(redeem("O-20#b1", "O-20", "V-ONCE", 25000));
    auto again = ok_result(redeem("O-20#b1", "O-20", "V-ONCE", 25000));
    EXPECT_EQ(str(again, "payment_id"), str(first, "payment_id"));
    EXPECT_EQ(str(again, "redemption_id"), str(first, "redemption_id"));
    EXPECT_EQ(redemption_states().size(), 1u);
    // The same key for something else is a conflict.
    expect_error(redeem("O-20#b1", "O-21", "V-ONCE", 25000), 2013, "/request_key");
    issue("V-TWO", 25000);
    expect_error(redeem("O-20#b1", "O-20", "V-TWO", 25000), 2013, "/request_key");
    EXPECT_EQ(redemption_states().size(), 1u);
}

TEST_F(BenefitTest, ServiceDownCannotVerifyAndNothingIsCharged) {
    issue("V-DOWN", 50000);
    provider("fault set down");
    auto e = expect_error(verify("O-30", "V-DOWN"), 2100);
    EXPECT_NE(str(e, "message").find("nothing was charged"), std::string::npos) << dump(e);
    expect_error(redeem("O-30#b1", "O-30", "V-DOWN", 50000), 2100);
    // The verify before the redeem got no answer: nothing recorded, nothing redeemed.
    expect_error(erp->request({{"type", "payment.get"}, {"request_key", "O-30#b1"}}), 2005);
    provider("fault clear");
    EXPECT_TRUE(redemption_states().empty());

    // The redeem itself answered with 503: unknown, its cancel goes through the outbox and the
    // payment is declined; the voucher stays usable.
    provider("fault set http_5xx=1 path=/v1/vouchers/redeem");
    expect_error(redeem("O-30#b2", "O-30", "V-DOWN", 50000), 2100);
    ASSERT_TRUE(delivered("benefit-void:O-30#b2"));
    auto ev = erp->wait_event([&](const ReceivedEvent& x) {
        return x.topic == "payment.result.O-30" && str(x.body, "state") == "declined";
    });
    ASSERT_TRUE(ev.has_value());
    EXPECT_TRUE(redemption_states().empty());
    ok_result(verify("O-30", "V-DOWN"));
}

TEST_F(BenefitTest, RedeemWhoseAnswerIsLostIsCancelledAndTheVoucherStaysUsable) {
    issue("V-LOST", 50000);
    provider("fault set drop_reply=1 path=/v1/vouchers/redeem");
    expect_error(redeem("O-40#b1", "O-40", "V-LOST", 50000), 2100);
    ASSERT_TRUE(delivered("benefit-void:O-40#b1"));
    ASSERT_TRUE(daemon->wait_log("declined (redeem cancelled)", 10s));
    auto p = ok_result(erp->request({{"type", "payment.get"}, {"request_key", "O-40#b1"}}));
    EXPECT_EQ(str(p, "state"), "declined") << dump(p);
    EXPECT_EQ(redemption_states(), std::vector<std::string>{"voided"});
    // The same key again: the same (declined) payment, never a second redemption.
    auto again = erp->request({{"type", "benefit.redeem"}, {"order_id", "O-40"}, {"request_key", "O-40#b1"},
                               {"voucher", "V-LOST"}, {"amount", 50000}, {"currency", "SEK"}, {"register", "K1"},
                               {"operator", "anna"}});
    EXPECT_EQ(str(ok_result(again), "state"), "declined");
    EXPECT_EQ(redemption_states().size(), 1u);
    // A new attempt redeems it.
    EXPECT_EQ(str(ok_result(redeem("O-40#b2", "O-40", "V-LOST", 50000)), "state"), "approved");
}

TEST_F(BenefitTest, CancelNeedsTheRefundRightAndIsNotCardReversal) {
    issue("V-PERM", 40000);
    auto b = ok_result(redeem("O-50#b1", "O-50", "V-PERM", 40000));
    expect_error(undo("payment.reverse", str(b, "payment_id"), "anna"), 2004, "/operator");
    auto r = ok_result(undo("payment.reverse", str(b, "payment_id")));
    EXPECT_EQ(str(r, "state"), "reversed");
    EXPECT_EQ(redemption_states(), std::vector<std::string>{"cancelled"});
    // Nothing reached the card terminal.
    EXPECT_TRUE(sim->journal_events("reversed").empty());
    // Twice: the payment is reversed already.
    expect_error(undo("payment.reverse", str(b, "payment_id")), 2006);
}

TEST_F(BenefitTest, MalformedServiceReplyIsNoAnswer) {
    issue("V-BAD", 50000);
    provider("fault set malformed=1 path=/v1/vouchers/verify");
    auto e = expect_error(verify("O-80", "V-BAD"), 2100);
    EXPECT_NE(str(e, "message").find("malformed reply"), std::string::npos) << dump(e);
    EXPECT_TRUE(daemon->wait_log("malformed reply from benefit: /voucher_id: missing", 2s));
}

TEST_F(BenefitTest, DaemonKilledDuringARedeemCancelsItAtRestart) {
    issue("V-KILL", 50000);
    // The redeem reaches the service slowly; the daemon dies before the answer.
    provider("fault set slow=2000 path=/v1/vouchers/redeem");
    send_unanswered({{"type", "benefit.redeem"}, {"order_id", "O-90"}, {"request_key", "O-90#b1"}, {"voucher", "V-KILL"},
                     {"amount", 50000}, {"currency", "SEK"}, {"register", "K1"}, {"operator", "anna"}});
    ASSERT_TRUE(daemon->wait_log("PB_BENEFIT_REDEEM", 5s));
    daemon->kill9();
    provider("fault clear");
    daemon->start();
    connect();
    ASSERT_TRUE(daemon->wait_log("PB_BENEFIT_RECOVERY", 10s));
    ASSERT_TRUE(delivered("benefit-void:O-90#b1"));
    ASSERT_TRUE(daemon->wait_log("declined (redeem cancelled)", 10s));
    auto p = ok_result(erp->request({{"type", "payment.get"}, {"request_key", "O-90#b1"}}));
    EXPECT_EQ(str(p, "state"), "declined") << dump(p);
    // Whether the slow redeem was done before the cancel or refused after it, nothing stays
    // redeemed and the customer keeps the voucher.
    for (const auto& st : redemption_states()) EXPECT_EQ(st, "voided");
    ok_result(verify("O-90", "V-KILL"));
}

/// A shop whose provider lets vouchers be redeemed for two weeks, so that purchases of hours
/// and days ago can be redeemed and the cancel (1 hour) and credit (7 days) windows tested
/// without waiting: they are measured from the purchase time the simulator sets.
class BenefitWindowTest : public BenefitTest {
protected:
    int valid_minutes() const override { return 14 * 24 * 60; }
    // The simulator's own validity is set per voucher (valid_seconds).
    void issue_old(const std::string& voucher, std::int64_t amount, std::int64_t age_seconds) {
        provider("voucher {\"voucher_id\":\"" + voucher + "\",\"amount\":" + std::to_string(amount) +
                 ",\"currency\":\"SEK\",\"provider_id\":\"" + kShop + "\",\"age_seconds\":" + std::to_string(age_seconds) +
                 ",\"valid_seconds\":" + std::to_string(30 * 86400) + "}");
    }
};

TEST_F(BenefitWindowTest, CancelWithinOneHourOfThePurchaseOnly) {
    issue_old("V-C1", 30000, 50 * 60);  // bought 50 minutes ago
    auto inside = ok_result(redeem("O-60#b1", "O-60", "V-C1", 30000));
    auto r = ok_result(undo("payment.reverse", str(inside, "payment_id")));
    EXPECT_EQ(str(r, "state"), "reversed");
    auto ev = erp->wait_event([&](const ReceivedEvent& x) {
        return x.topic == "payment.result.O-60" && str(x.body, "state") == "reversed";
    });
    ASSERT_TRUE(ev.has_value());

    issue_old("V-C2", 30000, 61 * 60);  // bought 61 minutes ago
    auto outside = ok_result(redeem("O-61#b1", "O-61", "V-C2", 30000));
    auto e = expect_error(undo("payment.reverse", str(outside, "payment_id")), 2105);
    EXPECT_NE(str(e, "message").find("payment.refund"), std::string::npos) << dump(e);
    // Refused before the service heard of it; the credit is still possible.
    EXPECT_EQ(redemption_states(), (std::vector<std::string>{"cancelled", "redeemed"}));
    EXPECT_EQ(str(ok_result(undo("payment.refund", str(outside, "payment_id"))), "state"), "refunded");
    EXPECT_EQ(redemption_states(), (std::vector<std::string>{"cancelled", "credited"}));
}

TEST_F(BenefitWindowTest, CreditWithinSevenDaysOfThePurchaseOnly) {
    issue_old("V-K1", 20000, 6 * 86400 + 23 * 3600);  // 6 days 23 hours ago
    auto inside = ok_result(redeem("O-70#b1", "O-70", "V-K1", 20000));
    EXPECT_EQ(str(ok_result(undo("payment.refund", str(inside, "payment_id"))), "state"), "refunded");

    issue_old("V-K2", 20000, 7 * 86400 + 3600);  // 7 days 1 hour ago
    auto outside = ok_result(redeem("O-71#b1", "O-71", "V-K2", 20000));
    auto e = expect_error(undo("payment.refund", str(outside, "payment_id")), 2105);
    EXPECT_NE(str(e, "message").find("7 days"), std::string::npos) << dump(e);
    EXPECT_EQ(redemption_states(), (std::vector<std::string>{"credited", "redeemed"}));

    // Statistics for the period: two purchases, one credited, per provider and day.
    std::string out = dir.file("stats.json");
    std::string cmd = std::string(PB_PAYBRIDGE_BINARY) + " history --ledger " + daemon->ledger_path +
                      " --stats --json > " + out;
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    std::ifstream in(out);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    json::value stats = json::parse(text);
    const auto& rows = stats.as_object().at("benefit").as_array();
    ASSERT_EQ(rows.size(), 1u) << text;
    auto row = rows[0].as_object();
    EXPECT_EQ(str(row, "provider"), kShop);
    EXPECT_EQ(num(row, "count"), 2);
    EXPECT_EQ(num(row, "amount"), 40000);
    EXPECT_EQ(num(row, "credited"), 1);
    EXPECT_EQ(num(row, "cancelled"), 0);
    EXPECT_EQ(num(row, "net_amount"), 20000);
}

}  // namespace
}  // namespace pb::daemontest
