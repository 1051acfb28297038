// The ledger's part of the dashboard snapshot against an in-memory ledger, with takings
// computed by hand.
#include "daemon/dashboard_snapshot.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/json/serialize.hpp>
#include <memory>

namespace pb::daemon {
namespace {

namespace json = boost::json;
using namespace pb::ledger;

Currency sek() { return *currency_from_code("SEK"); }

const json::object* line(const json::object& snap, std::string_view issuer) {
    for (const auto& v : snap.at("takings").as_array())
        if (v.as_object().at("issuer").as_string() == issuer) return &v.as_object();
    return nullptr;
}

class LedgerSnapshot : public ::testing::Test {
protected:
    void SetUp() override {
        Options o;
        o.storage = Storage::memory;
        o.clock = [n = now_] { return n->load(); };
        auto l = Ledger::open(o);
        ASSERT_TRUE(l) << l.error().message;
        ledger_ = std::move(*l);
        ok(ledger_->run<bool>([](Tx& tx) -> Result<bool> {
            if (auto s = tx.set_issuers(default_issuers()); !s) return pb::unexpected(s.error());
            if (auto s = tx.put_role("boot", Role{"all", {Right::take_card, Right::take_cash, Right::refund,
                                                         Right::administer}});
                !s)
                return pb::unexpected(s.error());
            if (auto s = tx.put_operator("boot", Operator{"anna", "Anna", {"all"}, true}); !s)
                return pb::unexpected(s.error());
            return true;
        }));
    }

    template <class T>
    static void ok(const Result<T>& r) {
        ASSERT_TRUE(r) << r.error().message;
    }

    /// begin + sent + outcome; returns the id.
    PaymentId pay(const std::string& order, std::int64_t minor, Tender tender, PaymentState outcome,
                  CardBrand brand = CardBrand::unknown, const std::string& pan = "",
                  const std::string& date = "2026-11-23") {
        PaymentRequest r;
        r.order_id = order;
        r.request_key = order + "/1";
        r.amount = Money{minor, sek()};
        r.tender = tender;
        r.register_id = "K1";
        r.terminal_id = tender == Tender::cash ? "" : "kasse1";
        r.operator_id = "anna";
        r.business_date = date;
        TerminalData d;
        d.brand = brand;
        if (!pan.empty()) d.pan = *MaskedPan::from_digits(pan);
        d.text = outcome == PaymentState::aborted ? "cashier abort" : "";
        auto p = ledger_->run<Payment>([&](Tx& tx) -> Result<Payment> {
            auto b = tx.begin_payment(r);
            if (!b) return pb::unexpected(b.error());
            if (auto s = tx.mark_sent(b->payment.id); !s) return s;
            return tx.record_result(b->payment.id, outcome, d);
        });
        EXPECT_TRUE(p) << p.error().message;
        return p ? p->id : PaymentId{};
    }

    std::shared_ptr<std::atomic<std::int64_t>> now_ =
        std::make_shared<std::atomic<std::int64_t>>(1'795'000'000'000);  // 2026-11-18
    std::unique_ptr<Ledger> ledger_;
};

TEST_F(LedgerSnapshot, TakingsPerIssuerAreApprovedMinusRefundedAndCashIsItsOwnLineLast) {
    pay("ORD-1", 10000, Tender::card, PaymentState::approved, CardBrand::visa, "4111111111111111");
    pay("ORD-2", 25050, Tender::card, PaymentState::approved, CardBrand::mastercard, "5555555555554444");
    const PaymentId refunded = pay("ORD-3", 4000, Tender::card, PaymentState::approved, CardBrand::visa, "4012888888881881");
    ok(ledger_->run<Payment>([&](Tx& tx) { return tx.mark_refunded(refunded, "anna", TerminalData{}); }));
    pay("ORD-4", 3000, Tender::card, PaymentState::aborted, CardBrand::visa, "4111111111111111");
    pay("ORD-5", 2000, Tender::cash, PaymentState::approved);
    pay("ORD-6", 999, Tender::card, PaymentState::declined, CardBrand::mastercard, "5555555555554444");
    pay("ORD-7", 7777, Tender::card, PaymentState::approved, CardBrand::visa, "4111111111111111", "2026-11-22");

    auto snap = ledger_snapshot(*ledger_->reader(), "2026-11-23", now_->load());
    ASSERT_TRUE(snap) << snap.error();
    EXPECT_EQ(snap->at("business_date").as_string(), "2026-11-23");

    // visa: ORD-1 and ORD-3 approved once (14000), ORD-3 refunded (4000): net 1 / 100.00.
    const auto* visa = line(*snap, "visa");
    ASSERT_NE(visa, nullptr) << json::serialize(*snap);
    EXPECT_EQ(visa->at("count").as_int64(), 1);
    EXPECT_EQ(visa->at("amount_minor").as_int64(), 10000);
    EXPECT_EQ(visa->at("amount").as_string(), "100.00");
    EXPECT_EQ(visa->at("gross_count").as_int64(), 2);
    EXPECT_EQ(visa->at("gross_minor").as_int64(), 14000);
    EXPECT_EQ(visa->at("returned_count").as_int64(), 1);
    EXPECT_EQ(visa->at("returned_minor").as_int64(), 4000);
    EXPECT_EQ(visa->at("currency").as_string(), "SEK");
    EXPECT_EQ(visa->at("name").as_string(), "Visa");
    EXPECT_EQ(visa->at("account").as_string(), "1580");

    // mastercard: ORD-2 only (the declined ORD-6 is no takings).
    const auto* mc = line(*snap, "mastercard");
    ASSERT_NE(mc, nullptr) << json::serialize(*snap);
    EXPECT_EQ(mc->at("count").as_int64(), 1);
    EXPECT_EQ(mc->at("amount").as_string(), "250.50");

    const auto& takings = snap->at("takings").as_array();
    ASSERT_EQ(takings.size(), 3u) << json::serialize(*snap);
    EXPECT_EQ(takings.back().as_object().at("issuer").as_string(), "cash");
    EXPECT_EQ(takings.back().as_object().at("amount_minor").as_int64(), 2000);

    // 10000 + 25050 + 2000; the aborted ORD-4 and yesterday's ORD-7 are not in it.
    const auto& totals = snap->at("takings_totals").as_array();
    ASSERT_EQ(totals.size(), 1u);
    EXPECT_EQ(totals[0].as_object().at("count").as_int64(), 3);
    EXPECT_EQ(totals[0].as_object().at("amount_minor").as_int64(), 37050);
    EXPECT_EQ(totals[0].as_object().at("amount").as_string(), "370.50");
}

TEST_F(LedgerSnapshot, InterimListsAbortedPaymentsWithTheirAgeAndOnlyAMaskedPan) {
    const PaymentId aborted = pay("ORD-4", 3000, Tender::card, PaymentState::aborted, CardBrand::visa, "4111111111111111");
    pay("ORD-1", 10000, Tender::card, PaymentState::approved, CardBrand::visa, "4111111111111111");
    now_->fetch_add(3'725'000);  // 1 h 2 min 5 s later

    auto snap = ledger_snapshot(*ledger_->reader(), "2026-11-23", now_->load());
    ASSERT_TRUE(snap) << snap.error();
    const auto& interim = snap->at("interim").as_array();
    ASSERT_EQ(interim.size(), 1u);
    const auto& e = interim[0].as_object();
    EXPECT_EQ(e.at("payment_id").as_int64(), aborted.value);
    EXPECT_EQ(e.at("order_id").as_string(), "ORD-4");
    EXPECT_EQ(e.at("state").as_string(), "aborted");
    EXPECT_EQ(e.at("amount").as_string(), "30.00");
    EXPECT_EQ(e.at("terminal").as_string(), "kasse1");
    EXPECT_EQ(e.at("age_s").as_int64(), 3725);
    EXPECT_EQ(e.at("masked_pan").as_string(), "411111******1111");
    EXPECT_EQ(json::serialize(*snap).find("4111111111111111"), std::string::npos);
}

TEST_F(LedgerSnapshot, AnEmptyDayHasNoLinesAndNoTotals) {
    auto snap = ledger_snapshot(*ledger_->reader(), "2026-11-23", now_->load());
    ASSERT_TRUE(snap) << snap.error();
    EXPECT_TRUE(snap->at("takings").as_array().empty());
    EXPECT_TRUE(snap->at("takings_totals").as_array().empty());
    EXPECT_TRUE(snap->at("interim").as_array().empty());
    EXPECT_EQ(snap->at("generated_at").as_string(), "2026-11-18T11:06:40Z");
}

TEST(FormatMinorUnits, IsExactForEveryExponentAndSign) {
    EXPECT_EQ(format_minor_units(0, 2), "0.00");
    EXPECT_EQ(format_minor_units(5, 2), "0.05");
    EXPECT_EQ(format_minor_units(-5, 2), "-0.05");
    EXPECT_EQ(format_minor_units(123456, 2), "1234.56");
    EXPECT_EQ(format_minor_units(123, 0), "123");
    EXPECT_EQ(format_minor_units(1, 3), "0.001");
    EXPECT_EQ(format_minor_units(INT64_MIN, 2), "-92233720368547758.08");
}

}  // namespace
}  // namespace pb::daemon
