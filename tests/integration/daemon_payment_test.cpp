// The real paybridged and the real paybridge-sim as processes, driven through the ERP
// protocol (protocol/erp/README.md): every payment flow of issue 5, checked against both the
// daemon's answers (replies, events, payment.get) and the simulator's journal of what the
// terminal really did (simulators/README.md "Journal").

#include <gtest/gtest.h>

#include <set>

#include "tests/integration/daemon_fixture.hpp"

namespace pb::daemontest {
namespace {

bool is_event(const ReceivedEvent& e, const std::string& type, const std::string& payment_id) {
    return str(e.body, "type") == type && str(e.body, "payment_id") == payment_id;
}

TEST_F(DaemonTest, ApprovedPaymentReportsProgressReceiptsResultAndLedgerState) {
    ASSERT_NO_FATAL_FAILURE(start_tcp());
    auto req = payment_start("O-100", 12500);
    req["receptionist"] = "BJ";
    req["lines"] = json::array{json::object{{"text", "Oil filter"}, {"qty", 1}, {"unit_price", 8000}},
                               json::object{{"text", "Labour"}, {"qty", 1.5}, {"unit_price", 3000}}};
    auto id = start_payment(req);
    ASSERT_FALSE(id.empty());

    auto progress = erp->wait_event([&](const ReceivedEvent& e) { return is_event(e, "payment.progress", id); });
    ASSERT_TRUE(progress) << "no payment.progress";
    EXPECT_EQ(num(progress->body, "code"), 10) << dump(progress->body);  // 04 FF 0A insert card, first
    EXPECT_EQ(str(progress->body, "order_id"), "O-100");
    EXPECT_EQ(str(progress->body, "terminal"), "T1");
    EXPECT_EQ(progress->topic, "payment.progress.O-100");

    auto result = erp->wait_result(id);
    ASSERT_TRUE(result);
    EXPECT_EQ(str(*result, "state"), "approved") << dump(*result);
    EXPECT_EQ(str(*result, "kind"), "sale");
    EXPECT_EQ(num(*result, "amount"), 12500);
    EXPECT_EQ(str(*result, "currency"), "SEK");
    EXPECT_EQ(str(*result, "card_brand"), "visa");
    EXPECT_EQ(str(*result, "masked_pan"), "476173******0119");
    EXPECT_EQ(str(*result, "terminal"), "T1");
    EXPECT_EQ(str(*result, "register"), "K1");
    EXPECT_EQ(str(*result, "operator"), "anna");
    EXPECT_EQ(str(*result, "receptionist"), "BJ");
    EXPECT_EQ(num(*result, "result_code"), 0);
    EXPECT_GT(num(*result, "receipt_no"), 0);
    EXPECT_GT(num(*result, "trace"), 0);

    // Receipts (receipt_printing = "ecr") reach the ERP, never with a full card number.
    std::size_t receipts = 0;
    for (const auto& e : erp->events()) {
        if (!is_event(e, "payment.receipt", id)) continue;
        ++receipts;
        ASSERT_TRUE(e.body.contains("lines")) << dump(e.body);
        for (auto& line : e.body.at("lines").as_array())
            EXPECT_EQ(std::string(line.as_string()).find("4761730000000119"), std::string::npos);
    }
    EXPECT_EQ(receipts, 2u);  // the simulator prints a merchant and a customer copy
    // The result comes after every progress event of the payment.
    bool seen_result = false;
    for (const auto& e : erp->events()) {
        if (is_event(e, "payment.result", id)) seen_result = true;
        if (is_event(e, "payment.progress", id)) {
            EXPECT_FALSE(seen_result) << "progress after the result";
        }
    }

    auto got = erp->get_payment(id);
    EXPECT_EQ(str(got, "state"), "approved");
    EXPECT_EQ(str(got, "masked_pan"), "476173******0119");
    EXPECT_EQ(num(got, "receipt_no"), num(*result, "receipt_no"));
    EXPECT_EQ(str(got, "request_key"), "O-100#1");

    auto order = erp->request({{"type", "order.get"}, {"order_id", "O-100"}});
    ASSERT_EQ(order["ok"], json::value(true)) << dump(order);
    EXPECT_EQ(num(order["result"].as_object(), "paid"), 12500);

    // The terminal charged exactly once, with the receipt number the ledger holds.
    auto charged = charged_by(*sim);
    ASSERT_EQ(charged.sales.size(), 1u);
    EXPECT_EQ(num(charged.sales.begin()->second, "amount"), 12500);
    EXPECT_EQ(charged.sales.begin()->first, num(got, "receipt_no"));
    EXPECT_EQ(erp->seq_gaps(), 0u) << "events were lost between publisher and subscriber";
}

TEST_F(DaemonTest, ReceiptsAreLabelledMerchantAndCustomer) {
    ASSERT_NO_FATAL_FAILURE(start_tcp());
    auto result = pay("O-114", 11400);
    ASSERT_EQ(str(result, "state"), "approved") << dump(result);
    // README §5 payment.receipt: receipt_type merchant / customer. The simulator prints the
    // merchant copy first ("MERCHANT COPY" as its last line), then the customer copy.
    std::vector<std::pair<std::string, std::string>> seen;  // type, last line
    for (const auto& e : erp->events()) {
        if (!is_event(e, "payment.receipt", str(result, "payment_id"))) continue;
        auto& lines = e.body.at("lines").as_array();
        seen.emplace_back(str(e.body, "receipt_type"), lines.empty() ? "" : std::string(lines.back().as_string()));
    }
    ASSERT_EQ(seen.size(), 2u);
    for (const auto& [type, last] : seen) {
        if (last.find("MERCHANT") != std::string::npos) {
            EXPECT_EQ(type, "merchant") << last;
        }
        if (last.find("CUSTOMER") != std::string::npos) {
            EXPECT_EQ(type, "customer") << last;
        }
    }
}

TEST_F(DaemonTest, DeclinedByTheAmountRule) {
    ASSERT_NO_FATAL_FAILURE(start_tcp());
    auto result = pay("O-101", 10051);  // ends in 51: declined, rc 05
    EXPECT_EQ(str(result, "state"), "declined") << dump(result);
    EXPECT_EQ(num(result, "result_code"), 5);
    auto id = str(result, "payment_id");
    EXPECT_EQ(str(erp->get_payment(id), "state"), "declined");
    EXPECT_EQ(journal_count(*sim, "declined", 10051), 1u);
    EXPECT_TRUE(charged_by(*sim).sales.empty());
    auto order = erp->request({{"type", "order.get"}, {"order_id", "O-101"}});
    EXPECT_EQ(num(order["result"].as_object(), "paid"), 0) << dump(order);
}

TEST_F(DaemonTest, NoCardBeforeTheTerminalTimeoutIsAnAbortInTheInterimAccount) {
    ASSERT_NO_FATAL_FAILURE(start_tcp(/*card_timeout_ms=*/300));
    auto result = pay("O-102", 10052);  // ends in 52: no card is ever presented
    EXPECT_EQ(str(result, "state"), "aborted") << dump(result);
    EXPECT_EQ(num(result, "result_code"), 108);  // 0x6C
    auto id = str(result, "payment_id");
    EXPECT_EQ(journal_count(*sim, "aborted", 10052), 1u);
    EXPECT_TRUE(charged_by(*sim).sales.empty());
    auto changed = erp->wait_event([&](const ReceivedEvent& e) {
        return str(e.body, "type") == "interim.changed" && str(e.body, "payment_id") == id;
    });
    ASSERT_TRUE(changed) << "no interim.changed";
    EXPECT_EQ(str(changed->body, "reason"), "aborted");
    auto interim = interim_of(id);
    ASSERT_EQ(interim.size(), 1u);
    EXPECT_EQ(str(interim[0], "state"), "open");
}

TEST_F(DaemonTest, CancelFromTheErpWhileTheTerminalWaitsForTheCard) {
    ASSERT_NO_FATAL_FAILURE(start_tcp(/*card_timeout_ms=*/30000));
    auto id = start_payment(payment_start("O-103", 10052));
    ASSERT_TRUE(erp->wait_event([&](const ReceivedEvent& e) {
        return is_event(e, "payment.progress", id) && num(e.body, "code") == 10;
    })) << "terminal never asked for the card";
    auto started = Clock::now();
    auto r = erp->request({{"type", "payment.cancel"}, {"request_key", "O-103#1"}, {"operator", "anna"}});
    ASSERT_EQ(r["ok"], json::value(true)) << dump(r);
    EXPECT_EQ(str(r["result"].as_object(), "payment_id"), id);
    auto result = erp->wait_result(id, 5s);
    ASSERT_TRUE(result);
    EXPECT_EQ(str(*result, "state"), "aborted") << dump(*result);
    EXPECT_LT(Clock::now() - started, 5s);  // the cancel, not the 30 s card timeout
    auto aborted = sim->journal_events("aborted");
    ASSERT_EQ(aborted.size(), 1u);
    EXPECT_NE(str(aborted[0], "reason").find("06 B0"), std::string::npos) << dump(aborted[0]);
    // Too late now: the payment is final.
    auto again = erp->request({{"type", "payment.cancel"}, {"payment_id", id}});
    expect_error(again, 2006);
}

TEST_F(DaemonTest, BusyTerminalRefusesASecondPaymentAndSendsItNothing) {
    ASSERT_NO_FATAL_FAILURE(start_tcp(/*card_timeout_ms=*/30000));
    auto first = start_payment(payment_start("O-104", 10052));
    ASSERT_TRUE(erp->wait_event([&](const ReceivedEvent& e) { return is_event(e, "payment.progress", first); }));

    auto busy = erp->request(payment_start("O-105", 7700));
    expect_error(busy, 2001, "/terminal");
    // Refused before anything was recorded or sent.
    expect_error(erp->request({{"type", "payment.get"}, {"request_key", "O-105#1"}}), 2005);
    expect_error(erp->request({{"type", "order.get"}, {"order_id", "O-105"}}), 2009);

    auto status = erp->request({{"type", "terminal.status"}, {"terminal", "T1"}});
    ASSERT_EQ(status["ok"], json::value(true)) << dump(status);
    auto t = status["result"].as_object()["terminals"].as_array()[0].as_object();
    EXPECT_EQ(t["busy"], json::value(true));
    EXPECT_EQ(str(t, "payment_id"), first);

    ASSERT_EQ(erp->request({{"type", "payment.cancel"}, {"payment_id", first}})["ok"], json::value(true));
    ASSERT_TRUE(erp->wait_result(first));
    ASSERT_TRUE(erp->wait_online("T1"));
    // A refused key may be sent again, and now it pays.
    auto second = start_payment(payment_start("O-105", 7700));
    auto result = erp->wait_result(second);
    ASSERT_TRUE(result);
    EXPECT_EQ(str(*result, "state"), "approved");
    EXPECT_EQ(journal_count(*sim, "approved", 7700), 1u);
    EXPECT_EQ(charged_by(*sim).sales.size(), 1u);
}

TEST_F(DaemonTest, SameRequestKeyReturnsTheSamePaymentAndChargesOnce) {
    ASSERT_NO_FATAL_FAILURE(start_tcp(2000, /*card_delay_ms=*/300));
    auto req = payment_start("O-106", 4200);
    auto id = start_payment(req);
    // While in flight, and after the outcome: the same payment, never a second charge.
    auto again = erp->request(req);
    ASSERT_EQ(again["ok"], json::value(true)) << dump(again);
    EXPECT_EQ(str(again["result"].as_object(), "payment_id"), id);
    auto result = erp->wait_result(id);
    ASSERT_TRUE(result);
    EXPECT_EQ(str(*result, "state"), "approved");
    auto third = erp->request(req);
    ASSERT_EQ(third["ok"], json::value(true)) << dump(third);
    EXPECT_EQ(str(third["result"].as_object(), "payment_id"), id);
    EXPECT_EQ(str(third["result"].as_object(), "state"), "approved");
    // The same key with different content is a conflict.
    auto changed = req;
    changed["total"] = 4300;
    expect_error(erp->request(changed), 2013, "/request_key");

    EXPECT_EQ(journal_count(*sim, "approved", 4200), 1u);
    EXPECT_EQ(charged_by(*sim).sales.size(), 1u);
    std::size_t results = 0;
    for (const auto& e : erp->events()) results += is_event(e, "payment.result", id) ? 1 : 0;
    EXPECT_EQ(results, 1u) << "payment.result is sent exactly once";
}

TEST_F(DaemonTest, RefundRunsOnTheTerminalAndNeedsTheRight) {
    ASSERT_NO_FATAL_FAILURE(start_tcp());
    auto sale = pay("O-107", 20000);
    ASSERT_EQ(str(sale, "state"), "approved");
    auto sale_id = str(sale, "payment_id");

    // Without amount: the whole payment (README §4 payment.refund).
    json::object refund{{"type", "payment.refund"}, {"payment_id", sale_id}, {"request_key", "O-107#r1"},
                        {"operator", "anna"}, {"reason", "returned"}};
    expect_error(erp->request(refund), 2004, "/operator");
    EXPECT_TRUE(sim->journal_events("refunded").empty());

    refund["operator"] = "erik";
    auto r = erp->request(refund);
    ASSERT_EQ(r["ok"], json::value(true)) << dump(r);
    auto& p = r["result"].as_object();
    EXPECT_EQ(str(p, "payment_id"), sale_id) << dump(p);
    EXPECT_EQ(str(p, "state"), "refunded") << dump(p);

    // The card was credited once, on the terminal, and the ledger agrees.
    auto refunds = sim->journal_events("refunded");
    ASSERT_EQ(refunds.size(), 1u);
    EXPECT_EQ(num(refunds[0], "amount"), 20000);
    EXPECT_EQ(str(erp->get_payment(sale_id), "state"), "refunded");
    auto order = erp->request({{"type", "order.get"}, {"order_id", "O-107"}});
    EXPECT_EQ(num(order["result"].as_object(), "paid"), 0) << dump(order);

    // Refunding again: the payment is no longer approved; nothing reaches the terminal.
    refund["request_key"] = "O-107#r2";
    expect_error(erp->request(refund), 2006);
    EXPECT_EQ(sim->journal_events("refunded").size(), 1u);
}

TEST_F(DaemonTest, PartialRefundIsRefusedAndNothingReachesTheTerminal) {
    ASSERT_NO_FATAL_FAILURE(start_tcp());
    auto sale = pay("O-113", 20000);
    ASSERT_EQ(str(sale, "state"), "approved");
    json::object refund{{"type", "payment.refund"}, {"payment_id", str(sale, "payment_id")},
                        {"request_key", "O-113#r1"}, {"amount", 5000}, {"currency", "SEK"}, {"operator", "erik"}};
    // README §4: this version refunds whole payments only.
    expect_error(erp->request(refund), 2014);
    EXPECT_TRUE(sim->journal_events("refunded").empty());
    EXPECT_EQ(str(erp->get_payment(str(sale, "payment_id")), "state"), "approved");
}

TEST_F(DaemonTest, ReversalVoidsTheReceiptOnTheTerminal) {
    ASSERT_NO_FATAL_FAILURE(start_tcp());
    auto sale = pay("O-108", 30000);
    ASSERT_EQ(str(sale, "state"), "approved");
    auto sale_id = str(sale, "payment_id");

    json::object reverse{{"type", "payment.reverse"}, {"payment_id", sale_id}, {"operator", "anna"}};
    expect_error(erp->request(reverse), 2004, "/operator");
    reverse["operator"] = "erik";
    reverse["reason"] = "wrong order";
    auto r = erp->request(reverse);
    ASSERT_EQ(r["ok"], json::value(true)) << dump(r);
    auto& p = r["result"].as_object();
    EXPECT_EQ(str(p, "payment_id"), sale_id);
    EXPECT_EQ(str(p, "state"), "reversed");

    EXPECT_EQ(str(erp->get_payment(sale_id), "state"), "reversed");
    auto reversed = sim->journal_events("reversed");
    ASSERT_EQ(reversed.size(), 1u);
    EXPECT_EQ(num(reversed[0], "ref_receipt"), num(sale, "receipt_no"));
    EXPECT_EQ(charged_by(*sim).total(), 0);

    // Reversing again: refused; nothing more reaches the terminal.
    expect_error(erp->request(reverse), 2006);
    EXPECT_EQ(sim->journal_events("reversed").size(), 1u);

    // A declined payment cannot be reversed.
    auto declined = pay("O-109", 10051);
    ASSERT_EQ(str(declined, "state"), "declined");
    expect_error(erp->request({{"type", "payment.reverse"}, {"payment_id", str(declined, "payment_id")},
                               {"operator", "erik"}}),
                 2006);
}

TEST_F(DaemonTest, CashNeedsTheTakeCashRightAndNeverTouchesTheTerminal) {
    ASSERT_NO_FATAL_FAILURE(start_tcp());
    json::object cash{{"type", "cash.record"}, {"order_id", "O-110"}, {"request_key", "O-110#cash"},
                      {"amount", 45000},       {"currency", "SEK"},   {"register", "K1"},
                      {"operator", "anna"}};
    expect_error(erp->request(cash), 2004, "/operator");
    expect_error(erp->request({{"type", "order.get"}, {"order_id", "O-110"}}), 2009);

    cash["operator"] = "carl";
    auto r = erp->request(cash);
    ASSERT_EQ(r["ok"], json::value(true)) << dump(r);
    auto& p = r["result"].as_object();
    EXPECT_EQ(str(p, "kind"), "cash");
    EXPECT_EQ(str(p, "state"), "approved");
    EXPECT_EQ(num(p, "amount"), 45000);
    auto again = erp->request(cash);  // idempotent too
    EXPECT_EQ(str(again["result"].as_object(), "payment_id"), str(p, "payment_id")) << dump(again);
    auto order = erp->request({{"type", "order.get"}, {"order_id", "O-110"}});
    ASSERT_EQ(order["ok"], json::value(true)) << dump(order);
    EXPECT_EQ(num(order["result"].as_object(), "paid"), 45000);
    EXPECT_EQ(order["result"].as_object()["payments"].as_array().size(), 1u);
    for (auto& rec : sim->journal()) {
        auto ev = str(rec, "event");
        EXPECT_TRUE(ev != "approved" && ev != "declined" && ev != "aborted") << dump(rec);
    }
}

TEST_F(DaemonTest, ConcurrentPaymentsOnTwoTerminals) {
    TempDir dir2;
    sim = start_sim(dir, 2000, /*card_delay_ms=*/400);
    auto sim2 = start_sim(dir2, 2000, /*card_delay_ms=*/400);
    ASSERT_TRUE(sim->ready && sim2->ready);
    TerminalSpec t2;
    t1.tcp_port = sim->tcp_port;
    t2.id = "T2";
    t2.register_id = "K2";
    t2.tcp_port = sim2->tcp_port;
    ASSERT_NO_FATAL_FAILURE(start_daemon({t1, t2}));

    auto a = start_payment(payment_start("O-111", 11100, "T1", "K1"));
    ASSERT_FALSE(a.empty());
    // While O-111 is in flight on T1, the idle T2 refuses a second payment of the same order.
    auto dup = payment_start("O-111", 11100, "T2", "K2");
    dup["request_key"] = "O-111#2";
    expect_error(erp->request(dup), 2003, "/order_id");
    auto b = start_payment(payment_start("O-112", 22200, "T2", "K2"));
    ASSERT_FALSE(b.empty());
    // Both in flight at once: neither result has arrived yet (each terminal waits 400 ms
    // for the card).
    for (const auto& e : erp->events()) EXPECT_NE(str(e.body, "type"), "payment.result") << dump(e.body);

    auto ra = erp->wait_result(a);
    auto rb = erp->wait_result(b);
    ASSERT_TRUE(ra && rb);
    EXPECT_EQ(str(*ra, "state"), "approved");
    EXPECT_EQ(str(*rb, "state"), "approved");
    EXPECT_EQ(str(*rb, "terminal"), "T2");
    EXPECT_EQ(str(*rb, "register"), "K2");
    EXPECT_EQ(journal_count(*sim, "approved", 11100), 1u);
    EXPECT_EQ(journal_count(*sim2, "approved", 22200), 1u);
    EXPECT_EQ(charged_by(*sim).sales.size(), 1u);
    EXPECT_EQ(charged_by(*sim2).sales.size(), 1u);
    erp.reset();
    daemon.reset();  // before sim2 goes away with this scope
}

TEST_F(DaemonTest, DayCloseTerminalTotalsMatchTheLedger) {
    ASSERT_NO_FATAL_FAILURE(start_tcp());
    ASSERT_EQ(str(pay("O-120", 10000), "state"), "approved");  // visa
    ASSERT_EQ(str(pay("O-121", 20061), "state"), "approved");  // mastercard
    ASSERT_EQ(str(pay("O-122", 10051), "state"), "declined");
    auto voided = pay("O-123", 30000);
    ASSERT_EQ(str(voided, "state"), "approved");
    auto rev = erp->request({{"type", "payment.reverse"}, {"payment_id", str(voided, "payment_id")}, {"operator", "erik"}});
    ASSERT_EQ(rev["ok"], json::value(true)) << dump(rev);
    ASSERT_TRUE(erp->wait_result(str(rev["result"].as_object(), "payment_id")));
    ASSERT_TRUE(erp->wait_online("T1"));

    expect_error(erp->request({{"type", "day_close.run"}, {"terminal", "T1"}, {"operator", "anna"}}), 2004,
                 "/operator");
    auto r = erp->request({{"type", "day_close.run"}, {"terminal", "T1"}, {"operator", "lena"}});
    ASSERT_EQ(r["ok"], json::value(true)) << dump(r);
    EXPECT_EQ(dump(r["result"].as_object()["terminals"]), R"(["T1"])");
    auto done = erp->wait_event([](const ReceivedEvent& e) { return str(e.body, "type") == "day_close.done"; });
    ASSERT_TRUE(done) << "no day_close.done";
    auto& d = done->body;
    EXPECT_EQ(d.at("ok"), json::value(true)) << dump(d);
    EXPECT_EQ(d.at("matches"), json::value(true)) << dump(d);
    EXPECT_EQ(dump(d.at("terminal_totals")), dump(d.at("ledger_totals"))) << dump(d);
    std::map<std::string, std::pair<std::int64_t, std::int64_t>> totals;
    for (auto& t : d.at("terminal_totals").as_array())
        totals[str(t.as_object(), "brand")] = {num(t.as_object(), "count"), num(t.as_object(), "amount")};
    EXPECT_EQ(totals["visa"], std::make_pair(std::int64_t{1}, std::int64_t{10000})) << dump(d);
    EXPECT_EQ(totals["mastercard"], std::make_pair(std::int64_t{1}, std::int64_t{20061})) << dump(d);

    // The terminal's own record of the batch says the same.
    auto eod = sim->journal_events("end_of_day");
    ASSERT_EQ(eod.size(), 1u);
    EXPECT_EQ(num(eod[0], "total"), 30061) << dump(eod[0]);
    EXPECT_EQ(charged_by(*sim).total(), 30061);
}

}  // namespace
}  // namespace pb::daemontest
