// Finance features of the ledger (issue 4): day-close, cash reconciliation, SIE 4 / CSV export,
// settlement import and matching. Every expected figure below is computed by hand from the
// payments the fixture books (see the comments next to them), never by the code under test.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <atomic>
#include <climits>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "ledger/benefit.hpp"
#include "ledger/commitment.hpp"
#include "ledger/day_close.hpp"
#include "ledger/export_csv.hpp"
#include "ledger/export_sie.hpp"
#include "ledger/finance_common.hpp"
#include "ledger/ledger.hpp"
#include "ledger/reconcile.hpp"
#include "ledger/settlement.hpp"
#include "ledger/vouchers.hpp"

namespace pb::ledger {
namespace {
namespace json = boost::json;

Currency sek() { return *currency_from_code("SEK"); }

class Finance : public ::testing::Test {
protected:
    void SetUp() override {
        Options o;
        o.storage = Storage::memory;
        auto n = now_;
        o.clock = [n] { return n->load(); };
        auto l = Ledger::open(o);
        ASSERT_TRUE(l) << l.error().message;
        ledger_ = std::move(*l);
        IssuerConfig cfg = default_issuers();
        for (auto& i : cfg.issuers)
            if (i.id == "mastercard") i.account = "1581";  // so the voucher shows issuers apart
        ok([&](Tx& tx) { return tx.set_issuers(cfg); });
        ok([](Tx& tx) {
            return tx.put_role("boot", Role{"admin",
                                            {Right::take_card, Right::take_cash, Right::refund, Right::resolve_interim,
                                             Right::close_day, Right::export_data, Right::administer}});
        });
        ok([](Tx& tx) { return tx.put_operator("boot", Operator{"boss", "Boss", {"admin"}, true}); });
        ok([](Tx& tx) { return tx.put_role("boss", Role{"cashier", {Right::take_card, Right::take_cash}}); });
        ok([](Tx& tx) { return tx.put_operator("boss", Operator{"anna", "Anna", {"cashier"}, true}); });
    }

    template <class F>
    auto run(F&& f) {
        using R = decltype(f(std::declval<Tx&>()));
        using T = std::decay_t<decltype(std::declval<R>().value())>;
        return ledger_->run<T>(std::forward<F>(f));
    }
    void ok(std::function<Status(Tx&)> f) {
        auto r = ledger_->run<bool>([&](Tx& tx) -> Result<bool> {
            auto s = f(tx);
            if (!s) return pb::unexpected(s.error());
            return true;
        });
        ASSERT_TRUE(r) << r.error().message;
    }

    PaymentRequest request(std::int64_t minor, Tender tender, const std::string& terminal,
                           const std::string& date = "2026-11-23") {
        const std::string order = "O-" + std::to_string(++orders_);
        PaymentRequest r;
        r.order_id = order;
        r.request_key = order + "/1";
        r.amount = Money{minor, sek()};
        r.tender = tender;
        r.register_id = "K1";
        r.terminal_id = terminal;
        r.operator_id = "anna";
        r.receptionist = "SR-17";
        r.business_date = date;
        return r;
    }

    static TerminalData card(CardBrand brand) {
        TerminalData d;
        d.brand = brand;
        d.pan = *MaskedPan::from_digits(brand == CardBrand::visa ? "4111111111111111" : "5555555555554444");
        d.result_code = 0;
        return d;
    }

    // requested -> sent -> outcome; returns the payment id.
    std::int64_t pay(std::int64_t minor, Tender tender, const std::string& terminal, PaymentState outcome,
                     CardBrand brand = CardBrand::visa) {
        auto r = request(minor, tender, terminal);
        auto b = run([&](Tx& tx) { return tx.begin_payment(r); });
        EXPECT_TRUE(b) << b.error().message;
        const PaymentId id = b->payment.id;
        EXPECT_TRUE(run([&](Tx& tx) { return tx.mark_sent(id); }));
        const TerminalData d = tender == Tender::card ? card(brand) : TerminalData{};
        auto p = run([&](Tx& tx) { return tx.record_result(id, outcome, d); });
        EXPECT_TRUE(p) << p.error().message;
        now_->fetch_add(60'000);
        return id.value;
    }
    // A benefit-voucher payment (issue 7) redeemed for `provider`: requested, sent with its
    // voucher record, approved. Returns the payment id.
    std::int64_t benefit(std::int64_t minor, const std::string& provider, const std::string& date = "2026-11-23") {
        auto r = request(minor, Tender::benefit_voucher, "", date);
        auto b = run([&](Tx& tx) -> Result<Begun> {
            auto started = tx.begin_and_mark_sent(r);
            if (!started) return started;
            auto e = record_benefit_intent(tx, started->payment.id, BenefitRecord{"V-" + r.order_id, provider, 0, "", 0});
            if (!e) return pb::unexpected(e.error());
            return started;
        });
        EXPECT_TRUE(b) << b.error().message;
        const PaymentId id = b->payment.id;
        EXPECT_TRUE(run([&](Tx& tx) { return tx.record_result(id, PaymentState::approved, TerminalData{}); }));
        return id.value;
    }
    std::int64_t commitment(std::int64_t minor, const std::string& billing_reference) {
        auto r = request(minor, Tender::commitment_card, "", "2026-11-23");
        auto b = run([&](Tx& tx) -> Result<Begun> {
            auto started = tx.begin_and_mark_sent(r);
            if (!started) return started;
            if (auto e = record_commitment_intent(tx, started->payment.id, "SK-" + r.order_id); !e) return pb::unexpected(e.error());
            if (auto e = record_commitment_debit(tx, started->payment.id, CommitmentDebit{"d-" + r.order_id, billing_reference, 0, ""}); !e)
                return pb::unexpected(e.error());
            return started;
        });
        EXPECT_TRUE(b) << b.error().message;
        const PaymentId id = b->payment.id;
        EXPECT_TRUE(run([&](Tx& tx) { return tx.record_result(id, PaymentState::approved, TerminalData{}); }));
        return id.value;
    }
    void refund(std::int64_t id) {
        auto p = run([&](Tx& tx) { return tx.mark_refunded(PaymentId{id}, "boss", TerminalData{}); });
        ASSERT_TRUE(p) << p.error().message;
    }
    void reverse(std::int64_t id) {
        auto p = run([&](Tx& tx) { return tx.mark_reversed(PaymentId{id}, "boss", TerminalData{}); });
        ASSERT_TRUE(p) << p.error().message;
    }

    Result<DayClose> close(const std::string& terminal, const std::string& date,
                           std::optional<std::vector<TerminalBucket>> totals, const std::string& batch = "") {
        DayCloseRequest r;
        r.register_id = "K1";
        r.terminal_id = terminal;
        r.business_date = date;
        r.operator_id = "boss";
        r.terminal_totals = std::move(totals);
        r.batch_reference = batch;
        return run([&](Tx& tx) { return close_day(tx, r); });
    }

    // The standard day on terminal T1 (2026-11-23), hand-computed:
    //   visa  100.00 + 50.00 + 30.00 (later refunded) + 40.00 (later reversed)
    //         -> count 4 - 2 = 2, amount 220.00 - 70.00 = 150.00
    //   mastercard 200.00 -> 1 / 200.00; an aborted mastercard payment stays in the interim
    //   T2's visa 999.00 is another terminal and never part of T1's batch.
    void standard_day() {
        p1_ = pay(10000, Tender::card, "T1", PaymentState::approved);
        p2_ = pay(5000, Tender::card, "T1", PaymentState::approved);
        p3_ = pay(20000, Tender::card, "T1", PaymentState::approved, CardBrand::mastercard);
        p4_ = pay(3000, Tender::card, "T1", PaymentState::approved);
        p5_ = pay(99900, Tender::card, "T2", PaymentState::approved);
        p6_ = pay(7700, Tender::card, "T1", PaymentState::aborted, CardBrand::mastercard);
        p7_ = pay(4000, Tender::card, "T1", PaymentState::approved);
        refund(p4_);
        reverse(p7_);
    }
    // The terminal agrees on visa (2 / 150.00) and says 1 / 180.00 for mastercard ("eurocard",
    // its ZVT BMP 60 bucket): a 20.00 shortfall there.
    static std::vector<TerminalBucket> terminal_totals() {
        return {{"visa", 2, 15000}, {"eurocard", 1, 18000}};
    }

    std::shared_ptr<std::atomic<std::int64_t>> now_ = std::make_shared<std::atomic<std::int64_t>>(1'795'435'200'000);
    std::unique_ptr<Ledger> ledger_;
    int orders_ = 0;
    std::int64_t p1_ = 0, p2_ = 0, p3_ = 0, p4_ = 0, p5_ = 0, p6_ = 0, p7_ = 0;
};

const IssuerLine* line_of(const DayClose& c, const std::string& issuer) {
    for (const auto& l : c.lines)
        if (l.issuer_id == issuer) return &l;
    return nullptr;
}

// ---------------------------------------------------------------------------------------------
// Day-close

TEST_F(Finance, DayCloseNetsRefundsAndReversalsPerIssuerAndMatchesTerminal) {
    standard_day();
    auto c = close("T1", "2026-11-23", std::vector<TerminalBucket>{{"visa", 2, 15000}, {"eurocard", 1, 20000}});
    ASSERT_TRUE(c) << c.error().message;
    ASSERT_EQ(c->lines.size(), 2u);
    const auto* visa = line_of(*c, "visa");
    const auto* mc = line_of(*c, "mastercard");
    ASSERT_TRUE(visa && mc);
    EXPECT_EQ(visa->ledger_count, 2);
    EXPECT_EQ(visa->ledger_amount, 15000);
    EXPECT_EQ(visa->account, "1580");
    EXPECT_EQ(mc->ledger_count, 1);
    EXPECT_EQ(mc->ledger_amount, 20000);
    EXPECT_EQ(mc->account, "1581");
    EXPECT_FALSE(visa->differs);
    EXPECT_FALSE(mc->differs);
    EXPECT_FALSE(c->differs);
    EXPECT_EQ(c->ledger_count, 3);
    EXPECT_EQ(c->ledger_amount, 35000);
    EXPECT_EQ(c->terminal_count, 3);
    EXPECT_EQ(c->terminal_amount, 35000);
    EXPECT_EQ(c->interim_payments, std::vector<std::int64_t>{p6_});
    // The close is an event on the audit chain, and the chain still verifies.
    auto v = ledger_->reader()->verify();
    ASSERT_TRUE(v);
    EXPECT_TRUE(v->ok) << v->problem;
}

TEST_F(Finance, DayCloseFlagsTheDifferingIssuerAndNamesItsPayments) {
    standard_day();
    auto c = close("T1", "2026-11-23", terminal_totals(), "B-0042");
    ASSERT_TRUE(c) << c.error().message;
    const auto* visa = line_of(*c, "visa");
    const auto* mc = line_of(*c, "mastercard");
    ASSERT_TRUE(visa && mc);
    EXPECT_FALSE(visa->differs);
    EXPECT_TRUE(visa->payments.empty());
    EXPECT_TRUE(mc->differs);
    EXPECT_EQ(mc->terminal_count, 1);
    EXPECT_EQ(mc->terminal_amount, 18000);
    EXPECT_EQ(mc->payments, std::vector<std::int64_t>{p3_});
    EXPECT_TRUE(c->differs);
    EXPECT_EQ(c->terminal_amount, 33000);
    EXPECT_EQ(c->ledger_amount, 35000);
}

TEST_F(Finance, DayCloseCountsATerminalOnlyIssuerAsADifference) {
    pay(10000, Tender::card, "T1", PaymentState::approved);
    // The terminal reports an amex sale the ledger never saw.
    auto c = close("T1", "2026-11-23", std::vector<TerminalBucket>{{"visa", 1, 10000}, {"amex", 1, 2500}});
    ASSERT_TRUE(c) << c.error().message;
    const auto* amex = line_of(*c, "amex");
    ASSERT_NE(amex, nullptr);
    EXPECT_TRUE(amex->differs);
    EXPECT_EQ(amex->ledger_count, 0);
    EXPECT_EQ(amex->terminal_amount, 2500);
    EXPECT_TRUE(c->differs);
}

TEST_F(Finance, ClosedDayIsImmutableAndLaterPaymentsFallIntoTheNextBatch) {
    standard_day();
    auto first = close("T1", "2026-11-23", terminal_totals());
    ASSERT_TRUE(first) << first.error().message;

    auto again = close("T1", "2026-11-23", terminal_totals());
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, Errc::invalid_transition);
    EXPECT_NE(again.error().message.find("already closed"), std::string::npos) << again.error().message;
    auto earlier = close("T1", "2026-11-22", std::nullopt);
    ASSERT_FALSE(earlier);
    EXPECT_EQ(earlier.error().code, Errc::invalid_transition);

    // 70.00 visa after the close, and a refund of a payment of the closed day: both next batch.
    const auto p8 = pay(7000, Tender::card, "T1", PaymentState::approved);
    refund(p2_);
    auto second = close("T1", "2026-11-24", std::nullopt);
    ASSERT_TRUE(second) << second.error().message;
    EXPECT_EQ(second->from_seq, first->seq);
    EXPECT_FALSE(second->has_terminal_totals);
    EXPECT_FALSE(second->differs);
    ASSERT_EQ(second->lines.size(), 1u);
    EXPECT_EQ(second->lines[0].issuer_id, "visa");
    EXPECT_EQ(second->lines[0].ledger_count, 0);       // +1 (p8) - 1 (refund of p2)
    EXPECT_EQ(second->lines[0].ledger_amount, 2000);   // 70.00 - 50.00
    (void)p8;

    // The stored first close is unchanged: same figures as when it was made.
    auto stored = run([](Tx& tx) { return day_close(tx, "T1", "2026-11-23"); });
    ASSERT_TRUE(stored) << stored.error().message;
    EXPECT_EQ(stored->ledger_amount, 35000);
    EXPECT_EQ(stored->terminal_amount, 33000);
    EXPECT_EQ(json::serialize(z_report_json(*stored)), json::serialize(z_report_json(*first)));
    auto all = run([](Tx& tx) { return day_closes(tx, DayCloseFilter{}); });
    ASSERT_TRUE(all);
    EXPECT_EQ(all->size(), 2u);
}

TEST_F(Finance, DayCloseNeedsTheRightAndValidInput) {
    DayCloseRequest r;
    r.register_id = "K1";
    r.terminal_id = "T1";
    r.business_date = "2026-11-23";
    r.operator_id = "anna";  // a cashier: no close_day
    auto denied = run([&](Tx& tx) { return close_day(tx, r); });
    ASSERT_FALSE(denied);
    EXPECT_EQ(denied.error().code, Errc::permission_denied);
    r.operator_id = "boss";
    r.business_date = "2026-02-30";
    auto bad = run([&](Tx& tx) { return close_day(tx, r); });
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, Errc::invalid_argument);
}

TEST_F(Finance, ZReportTextAndJsonCarryTheFigures) {
    standard_day();
    auto c = close("T1", "2026-11-23", terminal_totals(), "B-0042");
    ASSERT_TRUE(c) << c.error().message;
    const std::string text = z_report_text(*c);
    for (const char* want : {"Z-REPORT", "terminal T1", "2026-11-23", "B-0042", "150.00", "200.00", "180.00",
                             "-20.00", "350.00", "330.00", "DIFFERS"})
        EXPECT_NE(text.find(want), std::string::npos) << want << "\n" << text;
    EXPECT_NE(text.find("DIFFERENCE mastercard"), std::string::npos) << text;
    EXPECT_NE(text.find("ledger payments: " + std::to_string(p3_)), std::string::npos) << text;
    EXPECT_NE(text.find("interim (aborted/unknown) payments of this batch: " + std::to_string(p6_)),
              std::string::npos)
        << text;

    const json::value j = json::parse(json::serialize(z_report_json(*c)));
    const auto& o = j.as_object();
    EXPECT_EQ(o.at("terminal").as_string(), "T1");
    EXPECT_EQ(o.at("ledger_amount_minor").as_int64(), 35000);
    EXPECT_EQ(o.at("terminal_amount_minor").as_int64(), 33000);
    EXPECT_EQ(o.at("ledger_count").as_int64(), 3);
    EXPECT_TRUE(o.at("differs").as_bool());
    bool saw_mc = false;
    for (const auto& l : o.at("lines").as_array()) {
        const auto& lo = l.as_object();
        if (lo.at("issuer").as_string() != "mastercard") continue;
        saw_mc = true;
        EXPECT_EQ(lo.at("ledger_amount").as_string(), "200.00");
        EXPECT_EQ(lo.at("terminal_amount").as_string(), "180.00");
        EXPECT_EQ(lo.at("difference_minor").as_int64(), -2000);
        EXPECT_EQ(lo.at("payments").as_array().size(), 1u);
        EXPECT_EQ(lo.at("payments").as_array()[0].as_int64(), p3_);
    }
    EXPECT_TRUE(saw_mc);
}

TEST_F(Finance, TerminalTotalsJsonParsesAndNamesTheBadElement) {
    std::string ref;
    auto t = terminal_totals_from_json(
        R"({"batch_reference":"B-7","totals":[{"issuer":"visa","count":2,"amount":"150.00"},{"issuer":"amex","count":1,"amount_minor":2500}]})",
        &ref);
    ASSERT_TRUE(t) << t.error().message;
    EXPECT_EQ(ref, "B-7");
    ASSERT_EQ(t->size(), 2u);
    EXPECT_EQ((*t)[0].amount_minor, 15000);
    EXPECT_EQ((*t)[1].amount_minor, 2500);
    auto bad = terminal_totals_from_json(R"([{"issuer":"visa","count":1,"amount":"1,50"}])", nullptr);
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().message.find("element 0"), std::string::npos) << bad.error().message;
}

// ---------------------------------------------------------------------------------------------
// Cash reconciliation

Result<CashCount> count_cash(Ledger& l, const std::string& date, std::int64_t counted) {
    CashCountRequest r;
    r.register_id = "K1";
    r.business_date = date;
    r.counted_by = "anna";
    r.float_minor = 100000;        // 1000.00
    r.withdrawals_minor = 20000;   // 200.00
    r.counted_minor = counted;
    return l.run<CashCount>([&](Tx& tx) { return reconcile_cash(tx, r); });
}

TEST_F(Finance, CashCountComparesExpectedWithCountedAndKeepsWhoAndWhen) {
    // Cash sales 250.00 + 120.50 + 49.50 = 420.00; 49.50 refunded; a card payment is not cash.
    pay(25000, Tender::cash, "", PaymentState::approved);
    pay(12050, Tender::cash, "", PaymentState::approved);
    const auto c3 = pay(4950, Tender::cash, "", PaymentState::approved);
    pay(10000, Tender::card, "T1", PaymentState::approved);
    refund(c3);
    const std::int64_t at = now_->load();
    // expected = 1000.00 + 420.00 - 49.50 - 200.00 = 1170.50; counted 1168.00 -> short 2.50
    auto c = count_cash(*ledger_, "2026-11-23", 116800);
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(c->sales_count, 3);
    EXPECT_EQ(c->sales_minor, 42000);
    EXPECT_EQ(c->refunds_count, 1);
    EXPECT_EQ(c->refunds_minor, 4950);
    EXPECT_EQ(c->expected_minor, 117050);
    EXPECT_EQ(c->difference_minor, -250);
    EXPECT_EQ(c->counted_by, "anna");
    EXPECT_EQ(c->counted_utc_ms, at);
    EXPECT_EQ(c->difference_account, "3740");
    const std::string text = cash_count_text(*c);
    for (const char* want : {"1170.50", "1168.00", "-2.50", "anna"})
        EXPECT_NE(text.find(want), std::string::npos) << want << "\n" << text;
    const auto j = cash_count_json(*c).as_object();
    EXPECT_EQ(j.at("counted_by").as_string(), "anna");
    EXPECT_EQ(j.at("counted_utc_ms").as_int64(), at);

    // Counting the same day again is refused; the next day starts after this count.
    auto again = count_cash(*ledger_, "2026-11-23", 116800);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, Errc::invalid_transition);
    pay(1000, Tender::cash, "", PaymentState::approved);
    // next: 1000.00 + 10.00 - 200.00 = 810.00 expected; counted exactly -> no difference
    auto next = count_cash(*ledger_, "2026-11-24", 81000);
    ASSERT_TRUE(next) << next.error().message;
    EXPECT_EQ(next->sales_count, 1);
    EXPECT_EQ(next->sales_minor, 1000);
    EXPECT_EQ(next->refunds_minor, 0);
    EXPECT_EQ(next->difference_minor, 0);
    auto stored = run([](Tx& tx) { return cash_counts(tx, CashCountFilter{}); });
    ASSERT_TRUE(stored);
    ASSERT_EQ(stored->size(), 2u);
    EXPECT_EQ((*stored)[0].difference_minor, -250);
    EXPECT_EQ((*stored)[0].counted_by, "anna");
}

// ---------------------------------------------------------------------------------------------
// SIE 4 and CSV export

struct Books {
    std::vector<DayClose> closes;
    std::vector<CashCount> counts;
};

class FinanceExport : public Finance {
protected:
    Books books() {
        standard_day();
        pay(25000, Tender::cash, "", PaymentState::approved);
        pay(12050, Tender::cash, "", PaymentState::approved);
        const auto c3 = pay(4950, Tender::cash, "", PaymentState::approved);
        refund(c3);
        EXPECT_TRUE(close("T1", "2026-11-23", terminal_totals()));
        EXPECT_TRUE(count_cash(*ledger_, "2026-11-23", 116800));
        Books b;
        b.closes = *run([](Tx& tx) { return day_closes(tx, DayCloseFilter{}); });
        b.counts = *run([](Tx& tx) { return cash_counts(tx, CashCountFilter{}); });
        return b;
    }
    static SieOptions sie_options() {
        SieOptions o;
        o.company_name = "Bilhandel på Torget";
        o.org_number = "556677-8899";
        o.generated_on = "2026-11-24";
        return o;
    }
};

std::vector<std::string> crlf_lines(const std::string& bytes) {
    std::vector<std::string> out;
    std::size_t pos = 0;
    while (pos < bytes.size()) {
        const auto e = bytes.find("\r\n", pos);
        if (e == std::string::npos) {
            out.push_back(bytes.substr(pos));
            break;
        }
        out.push_back(bytes.substr(pos, e - pos));
        pos = e + 2;
    }
    return out;
}

// My own reading of SIE 4B §5 (#KSUMMA): CRC-32 (IEEE, reflected 0xEDB88320, init/xorout
// 0xFFFFFFFF) over the characters of every record after the opening #KSUMMA and before the
// closing one, where field separators (spaces), the quotes around a field, braces and line ends
// are left out and \" counts as ". Computed bit by bit, independent of the writer's table.
std::uint32_t crc32_bitwise(const std::string& bytes) {
    std::uint32_t crc = 0xFFFFFFFFu;
    for (unsigned char b : bytes) {
        crc ^= b;
        for (int k = 0; k < 8; ++k) crc = (crc & 1u) ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
    }
    return crc ^ 0xFFFFFFFFu;
}

std::string ksumma_content(const std::string& line) {
    std::string out;
    bool in_quotes = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (in_quotes) {
            if (c == '\\' && i + 1 < line.size() && line[i + 1] == '"') {
                out += '"';
                ++i;
            } else if (c == '"') {
                in_quotes = false;
            } else {
                out += c;
            }
            continue;
        }
        if (c == '"') in_quotes = true;
        else if (c != ' ' && c != '\t' && c != '{' && c != '}') out += c;
    }
    return out;
}

TEST(FinanceMoneyText, ParsesAndFormatsExactlyAndRefusesOverflow) {
    using finance::format_minor;
    using finance::parse_minor;
    EXPECT_EQ(parse_minor("12"), 1200);
    EXPECT_EQ(parse_minor("12.3"), 1230);
    EXPECT_EQ(parse_minor("-0.05"), -5);
    EXPECT_EQ(parse_minor("12.345"), std::nullopt);
    EXPECT_EQ(parse_minor("1,50"), std::nullopt);
    EXPECT_EQ(parse_minor("."), std::nullopt);
    EXPECT_EQ(parse_minor("-"), std::nullopt);
    EXPECT_EQ(parse_minor("999999999999999999"), std::nullopt);  // would overflow int64 in minor units
    EXPECT_EQ(parse_minor("999999999999999.99"), 99999999999999999);
    EXPECT_EQ(format_minor(-5), "-0.05");
    EXPECT_EQ(format_minor(123450), "1234.50");
    EXPECT_EQ(format_minor(INT64_MIN), "-92233720368547758.08");
    EXPECT_TRUE(finance::valid_date("2024-02-29"));
    EXPECT_FALSE(finance::valid_date("2026-02-29"));
    EXPECT_EQ(finance::date_from_days(finance::days_from_date("2026-11-23") + 8), "2026-12-01");
}

TEST(SieCrc, MatchesTheStandardCheckValue) {
    // CRC-32/ISO-HDLC check value of "123456789".
    EXPECT_EQ(sie_crc32("123456789"), 0xCBF43926u);
    EXPECT_EQ(crc32_bitwise("123456789"), 0xCBF43926u);
    // Incremental use gives the same as one call.
    EXPECT_EQ(sie_crc32("6789", sie_crc32("12345")), 0xCBF43926u);
}

TEST(SieCharset, WritesSwedishLettersInCodePage437) {
    EXPECT_EQ(utf8_to_cp437("å ä ö Å Ä Ö"), "\x86 \x84 \x94 \x8F \x8E \x99");
    EXPECT_EQ(utf8_to_cp437("€"), "?");
}

TEST_F(FinanceExport, SieFileFollowsTheFormatAndHandComputedVouchers) {
    const Books b = books();
    const AccountPlan plan;
    const auto vouchers = build_vouchers(b.closes, b.counts, plan);
    const std::string sie = export_sie4(vouchers, account_names(vouchers, plan, b.closes), sie_options());

    // CRLF everywhere: no bare LF.
    for (std::size_t i = 0; i < sie.size(); ++i) {
        if (sie[i] == '\n') {
            ASSERT_TRUE(i > 0 && sie[i - 1] == '\r') << "bare LF at byte " << i;
        }
    }
    ASSERT_EQ(sie.substr(sie.size() - 2), "\r\n");
    const auto lines = crlf_lines(sie);

    const std::vector<std::string> head{"#FLAGGA 0",
                                        "#KSUMMA",
                                        "#PROGRAM \"Paybridge\" 1.0",
                                        "#FORMAT PC8",
                                        "#GEN 20261124",
                                        "#SIETYP 4",
                                        "#ORGNR 556677-8899",
                                        "#FNAMN \"Bilhandel p\x86 Torget\"",
                                        "#RAR 0 20260101 20261231"};
    ASSERT_GE(lines.size(), head.size());
    for (std::size_t i = 0; i < head.size(); ++i) EXPECT_EQ(lines[i], head[i]) << "line " << i + 1;

    // Accounts used, with names in CP437 (ö 0x94, ä 0x84, Ö 0x99).
    for (const char* want : {"#KONTO 1510 \"Kundfordringar\"", "#KONTO 1580 \"Fordringar f\x94r kontokort\"",
                             "#KONTO 1581 \"Fordran Mastercard\"", "#KONTO 1910 \"Kassa\"",
                             "#KONTO 1930 \"F\x94retagskonto\"", "#KONTO 3740 \"\x99res- och kronutj\x84mning\""})
        EXPECT_NE(std::find(lines.begin(), lines.end(), want), lines.end()) << want;

    // Voucher 1: the day-close (hand-computed from standard_day and the terminal's totals):
    //   1580 +150.00 Visa, 1581 +200.00 Mastercard, the terminal's 20.00 shortfall moved from
    //   1581 to 3740, and the 350.00 batch credited to clearing 1510.
    // Voucher 2: the cash count: 1910 +370.50 (420.00 - 49.50) against 1510, 200.00 withdrawn
    //   1910 -> 1930, 2.50 short 1910 -> 3740.
    const std::vector<std::string> expected_vouchers{
        "#VER A 1 20261123 \"Dagsavslut T1 kassa K1 2026-11-23\"",
        "{",
        "#TRANS 1581 {} 200.00 \"\" \"Mastercard\"",
        "#TRANS 1581 {} -20.00 \"\" \"Mastercard terminaldifferens\"",
        "#TRANS 3740 {} 20.00 \"\" \"Mastercard terminaldifferens\"",
        "#TRANS 1580 {} 150.00 \"\" \"Visa\"",
        "#TRANS 1510 {} -350.00 \"\" \"Kortbetalningar T1\"",
        "}",
        "#VER A 2 20261123 \"Kassaavst\x84mning kassa K1 2026-11-23\"",
        "{",
        "#TRANS 1910 {} 370.50 \"\" \"Kontantf\x94rs\x84ljning\"",
        "#TRANS 1510 {} -370.50 \"\" \"Kontantf\x94rs\x84ljning\"",
        "#TRANS 1930 {} 200.00 \"\" \"Uttag ur kassa\"",
        "#TRANS 1910 {} -200.00 \"\" \"Uttag ur kassa\"",
        "#TRANS 1910 {} -2.50 \"\" \"Kassadifferens\"",
        "#TRANS 3740 {} 2.50 \"\" \"Kassadifferens\"",
        "}",
    };
    auto ver = std::find_if(lines.begin(), lines.end(), [](const std::string& l) { return l.rfind("#VER", 0) == 0; });
    ASSERT_NE(ver, lines.end());
    std::vector<std::string> got(ver, lines.end());
    ASSERT_EQ(got.size(), expected_vouchers.size() + 1) << sie;  // + closing #KSUMMA
    for (std::size_t i = 0; i < expected_vouchers.size(); ++i) EXPECT_EQ(got[i], expected_vouchers[i]);

    // Every voucher balances to zero (parsed back from the text, not from the model).
    std::int64_t sum = 0;
    int vouchers_seen = 0;
    for (const auto& l : lines) {
        if (l.rfind("#VER", 0) == 0) {
            sum = 0;
            ++vouchers_seen;
        } else if (l.rfind("#TRANS", 0) == 0) {
            std::istringstream in(l);
            std::string label, account, obj, amount;
            in >> label >> account >> obj >> amount;
            const auto dot = amount.find('.');
            ASSERT_NE(dot, std::string::npos) << l;
            ASSERT_EQ(amount.size() - dot, 3u) << l;
            const bool neg = amount[0] == '-';
            const std::string digits = amount.substr(neg ? 1 : 0, dot - (neg ? 1 : 0)) + amount.substr(dot + 1);
            sum += (neg ? -1 : 1) * std::stoll(digits);
        } else if (l == "}") {
            EXPECT_EQ(sum, 0) << "voucher " << vouchers_seen << " does not balance";
        }
    }
    EXPECT_EQ(vouchers_seen, 2);

    // #KSUMMA recomputed from the written bytes.
    const std::string& last = lines.back();
    ASSERT_EQ(last.rfind("#KSUMMA ", 0), 0u) << last;
    std::string summed;
    for (std::size_t i = 2; i + 1 < lines.size(); ++i) summed += ksumma_content(lines[i]);
    EXPECT_EQ(last, "#KSUMMA " + std::to_string(crc32_bitwise(summed)));
}

TEST_F(FinanceExport, SieMatchesTheHandComputedFile) {
    // tests/data/finance/README.md says how the file was made (checksum computed independently).
    const Books b = books();
    const AccountPlan plan;
    const auto vouchers = build_vouchers(b.closes, b.counts, plan);
    const std::string sie = export_sie4(vouchers, account_names(vouchers, plan, b.closes), sie_options());
    std::ifstream in(std::string(PB_TEST_DATA_DIR) + "/finance/day_close_2026-11-23.se", std::ios::binary);
    ASSERT_TRUE(in);
    const std::string expected{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    EXPECT_EQ(sie, expected);
}

TEST_F(FinanceExport, SieAndCsvAreDeterministic) {
    const Books b = books();
    const AccountPlan plan;
    auto make = [&](const Books& bk) {
        const auto v = build_vouchers(bk.closes, bk.counts, plan);
        const auto names = account_names(v, plan, bk.closes);
        return std::make_pair(export_sie4(v, names, sie_options()), export_csv(v, names));
    };
    const auto first = make(b);
    // Read back from the ledger again: the same bytes.
    Books again;
    again.closes = *run([](Tx& tx) { return day_closes(tx, DayCloseFilter{}); });
    again.counts = *run([](Tx& tx) { return cash_counts(tx, CashCountFilter{}); });
    const auto second = make(again);
    EXPECT_EQ(first.first, second.first);
    EXPECT_EQ(first.second, second.second);
    // ...and the time of the export does not leak in.
    now_->fetch_add(86'400'000);
    EXPECT_EQ(make(again).first, first.first);
}

TEST_F(FinanceExport, CsvHasTheDocumentedColumnsAndRows) {
    const Books b = books();
    const AccountPlan plan;
    const auto v = build_vouchers(b.closes, b.counts, plan);
    const std::string csv = export_csv(v, account_names(v, plan, b.closes));
    std::vector<std::string> rows;
    std::istringstream in(csv);
    for (std::string l; std::getline(in, l);) rows.push_back(l);
    ASSERT_EQ(rows.size(), 1u + 5u + 6u) << csv;
    EXPECT_EQ(rows[0],
              "series,voucher,date,account,account_name,amount,debit,credit,currency,text,source,source_event,"
              "register,terminal");
    const std::string close_seq = std::to_string(b.closes.at(0).seq);
    const std::string count_seq = std::to_string(b.counts.at(0).seq);
    EXPECT_EQ(rows[2], "A,1,2026-11-23,1581,Fordran Mastercard,-20.00,,20.00,SEK,Mastercard terminaldifferens,dayclose," +
                           close_seq + ",K1,T1");
    EXPECT_EQ(rows[4], "A,1,2026-11-23,1580,Fordringar för kontokort,150.00,150.00,,SEK,Visa,dayclose," + close_seq +
                           ",K1,T1");
    EXPECT_EQ(rows[11], "A,2,2026-11-23,3740,Öres- och kronutjämning,2.50,2.50,,SEK,Kassadifferens,cashcount," +
                            count_seq + ",K1,");
    EXPECT_EQ(csv_field("a,b"), "\"a,b\"");
    EXPECT_EQ(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
}

// ---------------------------------------------------------------------------------------------
// Settlement

TEST_F(Finance, SettlementImportWithABadRowNamesLineAndColumnAndStoresNothing) {
    const std::string csv =
        "payout_date,issuer,gross,fees,net,batch_reference\n"
        "2026-11-25,visa,150.00,1.50,148.50,\n"
        "2026-11-25,visa,150.00,x1,148.50,B1\n";
    auto r = run([&](Tx& tx) { return import_settlement(tx, csv, "acq.csv"); });
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::invalid_argument);
    EXPECT_NE(r.error().message.find("line 3, column 24 (fees)"), std::string::npos) << r.error().message;
    auto imports = run([](Tx& tx) { return settlement_imports(tx); });
    ASSERT_TRUE(imports);
    EXPECT_TRUE(imports->empty());

    auto net = parse_settlement_csv("payout_date,issuer,gross,fees,net,batch_reference\n"
                                    "2026-11-25,visa,150.00,1.50,148.00,\n");
    ASSERT_FALSE(net);
    EXPECT_NE(net.error().message.find("line 2, column 29 (net)"), std::string::npos) << net.error().message;
    auto header = parse_settlement_csv("payout_date,issuer,gross,net\n");
    ASSERT_FALSE(header);
    EXPECT_NE(header.error().message.find("fees"), std::string::npos) << header.error().message;
}

TEST_F(Finance, SettlementMatchesDepositsToBatchesAndListsTheRest) {
    standard_day();
    ASSERT_TRUE(close("T1", "2026-11-23", terminal_totals()));
    pay(7000, Tender::card, "T1", PaymentState::approved);
    ASSERT_TRUE(close("T1", "2026-11-24", std::nullopt));
    // Open batch items: T1 11-23 visa 150.00, T1 11-23 mastercard 180.00 (the terminal's
    // figure), T1 11-24 visa 70.00.
    const std::string csv =
        "issuer,payout_date,gross,fees,net,batch_reference,extra\n"  // any column order
        "Visa,2026-11-25,150.00,1.50,148.50,,x\n"
        "\"Mastercard\",2026-11-26,180.00,2.70,177.30,,\n"
        "American Express,2026-11-26,99.00,3.00,96.00,,\n";
    auto imp = run([&](Tx& tx) { return import_settlement(tx, csv, "acq.csv"); });
    ASSERT_TRUE(imp) << imp.error().message;
    ASSERT_EQ(imp->deposits.size(), 3u);
    EXPECT_EQ(imp->deposits[0].issuer_id, "visa");
    EXPECT_EQ(imp->deposits[1].issuer_id, "mastercard");
    EXPECT_EQ(imp->deposits[2].issuer_id, "amex");
    auto dup = run([&](Tx& tx) { return import_settlement(tx, csv, "again.csv"); });
    ASSERT_FALSE(dup);
    EXPECT_EQ(dup.error().code, Errc::key_conflict);

    auto m = run([](Tx& tx) { return match_settlements(tx, std::nullopt, std::nullopt); });
    ASSERT_TRUE(m) << m.error().message;
    ASSERT_EQ(m->matched.size(), 2u);
    EXPECT_EQ(m->matched[0].deposit.issuer_id, "visa");
    EXPECT_EQ(m->matched[0].rule, "issuer_date_total");
    ASSERT_EQ(m->matched[0].items.size(), 1u);
    EXPECT_EQ(m->matched[0].items[0].business_date, "2026-11-23");
    EXPECT_EQ(m->matched[0].items[0].amount_minor, 15000);
    EXPECT_EQ(m->matched[1].deposit.issuer_id, "mastercard");
    ASSERT_EQ(m->matched[1].items.size(), 1u);
    EXPECT_EQ(m->matched[1].items[0].amount_minor, 18000);
    ASSERT_EQ(m->unmatched_deposits.size(), 1u);
    EXPECT_EQ(m->unmatched_deposits[0].issuer_id, "amex");
    EXPECT_EQ(m->unmatched_deposits[0].line, 4);
    ASSERT_EQ(m->unmatched_batches.size(), 1u);
    EXPECT_EQ(m->unmatched_batches[0].business_date, "2026-11-24");
    EXPECT_EQ(m->unmatched_batches[0].issuer_id, "visa");
    EXPECT_EQ(m->unmatched_batches[0].amount_minor, 7000);

    const std::string text = settlement_match_text(*m);
    EXPECT_NE(text.find("UNMATCHED DEPOSITS (1)"), std::string::npos) << text;
    EXPECT_NE(text.find("UNMATCHED DAY-CLOSE BATCHES (1)"), std::string::npos) << text;
    const auto j = settlement_match_json(*m).as_object();
    EXPECT_EQ(j.at("matched").as_array().size(), 2u);
    EXPECT_EQ(j.at("unmatched_deposits").as_array().size(), 1u);
    EXPECT_EQ(j.at("unmatched_batches").as_array().size(), 1u);
}

TEST_F(Finance, SettlementByBatchReferenceReportsTheDifference) {
    pay(10000, Tender::card, "T1", PaymentState::approved);
    ASSERT_TRUE(close("T1", "2026-11-23", std::vector<TerminalBucket>{{"visa", 1, 10000}}, "B-77"));
    auto deposits = parse_settlement_csv("payout_date,issuer,gross,fees,net,batch_reference\n"
                                         "2026-11-24,visa,99.00,1.00,98.00,B-77\n");
    ASSERT_TRUE(deposits) << deposits.error().message;
    for (auto& d : *deposits) d.issuer_id = "visa";
    auto closes = run([](Tx& tx) { return day_closes(tx, DayCloseFilter{}); });
    ASSERT_TRUE(closes);
    const auto m = match_settlement(*deposits, *closes);
    ASSERT_EQ(m.matched.size(), 1u);
    EXPECT_EQ(m.matched[0].rule, "batch_reference");
    EXPECT_EQ(m.matched[0].difference_minor, -100);  // 99.00 paid for a 100.00 batch
    EXPECT_TRUE(m.unmatched_batches.empty());
}

// ---------------------------------------------------------------------------------------------
// Benefit vouchers (issue 7): their own lines and account, never mixed with the card issuers.

TEST_F(Finance, DayCloseListsBenefitVouchersPerProviderOnTheirOwnAccount) {
    pay(10000, Tender::card, "T1", PaymentState::approved);
    benefit(50000, "EP-1");
    const auto wrong = benefit(20000, "EP-1");
    benefit(30000, "EP-2");
    reverse(wrong);  // cancelled: nets out of EP-1
    // EP-1: 2 - 1 = 1 / 500.00; EP-2: 1 / 300.00; the card line alone is 1 / 100.00.
    auto c = close("T1", "2026-11-23", std::nullopt);
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(c->ledger_amount, 10000);
    ASSERT_EQ(c->benefit.size(), 2u);
    EXPECT_EQ(c->benefit[0].provider_id, "EP-1");
    EXPECT_EQ(c->benefit[0].count, 1);
    EXPECT_EQ(c->benefit[0].amount, 50000);
    EXPECT_EQ(c->benefit[1].provider_id, "EP-2");
    EXPECT_EQ(c->benefit[1].amount, 30000);
    EXPECT_NE(z_report_text(*c).find("EP-2"), std::string::npos);
    // Stored and read back with the close.
    auto stored = run([&](Tx& tx) { return day_close(tx, "T1", "2026-11-23"); });
    ASSERT_TRUE(stored);
    ASSERT_EQ(stored->benefit.size(), 2u);
    EXPECT_EQ(stored->benefit[1].amount, 30000);
    // Another terminal of the same register does not count them again.
    auto c2 = close("T2", "2026-11-23", std::nullopt);
    ASSERT_TRUE(c2) << c2.error().message;
    EXPECT_TRUE(c2->benefit.empty());

    // The voucher: cards to the issuer's account, benefit to its own account, both against
    // clearing; 100.00 + 500.00 + 300.00 debit, 900.00 credit.
    AccountPlan plan;
    plan.benefit_account = "1689";
    auto vouchers = build_vouchers({*stored}, {}, plan);
    ASSERT_EQ(vouchers.size(), 1u);
    std::int64_t sum = 0, on_benefit = 0, on_clearing = 0;
    for (const auto& row : vouchers[0].rows) {
        sum += row.amount_minor;
        if (row.account == "1689") on_benefit += row.amount_minor;
        if (row.account == plan.clearing_account) on_clearing += row.amount_minor;
    }
    EXPECT_EQ(sum, 0);
    EXPECT_EQ(on_benefit, 80000);
    EXPECT_EQ(on_clearing, -90000);
    const std::string csv = export_csv(vouchers, account_names(vouchers, plan, {*stored}));
    EXPECT_NE(csv.find("1689"), std::string::npos) << csv;
    EXPECT_NE(csv.find("Friskvård EP-1"), std::string::npos) << csv;
}

TEST_F(Finance, DayCloseListsCommitmentPaymentsPerBillingReferenceOnTheirOwnAccount) {
    pay(10000, Tender::card, "T1", PaymentState::approved);
    commitment(7000, "SOC-1");
    const auto wrong = commitment(2000, "SOC-1");
    commitment(3000, "SOC-2");
    reverse(wrong);  // nets out of SOC-1
    auto c = close("T1", "2026-11-23", std::nullopt);
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(c->ledger_amount, 10000) << "commitments are not card takings";
    ASSERT_EQ(c->commitment.size(), 2u);
    EXPECT_EQ(c->commitment[0].billing_reference, "SOC-1");
    EXPECT_EQ(c->commitment[0].count, 1);
    EXPECT_EQ(c->commitment[0].amount, 7000);
    EXPECT_EQ(c->commitment[1].billing_reference, "SOC-2");
    EXPECT_EQ(c->commitment[1].amount, 3000);
    EXPECT_NE(z_report_text(*c).find("SOC-2"), std::string::npos);
    auto stored = run([&](Tx& tx) { return day_close(tx, "T1", "2026-11-23"); });
    ASSERT_TRUE(stored);
    ASSERT_EQ(stored->commitment.size(), 2u);
    EXPECT_EQ(stored->commitment[0].amount, 7000);
    auto c2 = close("T2", "2026-11-23", std::nullopt);  // same register: not counted again
    ASSERT_TRUE(c2) << c2.error().message;
    EXPECT_TRUE(c2->commitment.empty());

    AccountPlan plan;
    auto vouchers = build_vouchers({*stored}, {}, plan);
    ASSERT_EQ(vouchers.size(), 1u);
    std::int64_t sum = 0, on_commitment = 0, on_clearing = 0;
    for (const auto& row : vouchers[0].rows) {
        sum += row.amount_minor;
        if (row.account == plan.commitment_account) on_commitment += row.amount_minor;
        if (row.account == plan.clearing_account) on_clearing += row.amount_minor;
    }
    EXPECT_EQ(sum, 0);
    EXPECT_EQ(on_commitment, 10000);
    EXPECT_EQ(on_clearing, -20000);
    const std::string csv = export_csv(vouchers, account_names(vouchers, plan, {*stored}));
    EXPECT_NE(csv.find("1518"), std::string::npos) << csv;
    EXPECT_NE(csv.find("SOC-1"), std::string::npos) << csv;
}

TEST_F(Finance, BenefitStatsPerDayAndProviderCountCancelledAndCredited) {
    benefit(10000, "EP-1", "2026-11-22");
    const auto c = benefit(20000, "EP-1", "2026-11-23");
    const auto k = benefit(30000, "EP-1", "2026-11-23");
    benefit(40000, "EP-2", "2026-11-23");
    reverse(c);
    refund(k);
    pay(99900, Tender::card, "T1", PaymentState::approved);  // a card payment is not in the statistics
    auto rows = run([&](Tx& tx) { return benefit_stats(tx, std::string("2026-11-23"), std::string("2026-11-23")); });
    ASSERT_TRUE(rows) << rows.error().message;
    ASSERT_EQ(rows->size(), 2u);
    const auto& ep1 = (*rows)[0];
    EXPECT_EQ(ep1.provider_id, "EP-1");
    EXPECT_EQ(ep1.count, 2);
    EXPECT_EQ(ep1.amount, 50000);
    EXPECT_EQ(ep1.cancelled, 1);
    EXPECT_EQ(ep1.cancelled_amount, 20000);
    EXPECT_EQ(ep1.credited, 1);
    EXPECT_EQ(ep1.credited_amount, 30000);
    EXPECT_EQ(ep1.net_amount(), 0);
    EXPECT_EQ((*rows)[1].provider_id, "EP-2");
    EXPECT_EQ((*rows)[1].amount, 40000);
    auto all = run([&](Tx& tx) { return benefit_stats(tx, std::nullopt, std::nullopt); });
    ASSERT_TRUE(all);
    EXPECT_EQ(all->size(), 3u);  // 2026-11-22 EP-1 too
}

}  // namespace
}  // namespace pb::ledger
