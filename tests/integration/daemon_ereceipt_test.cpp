// E-receipts end to end (issue 7, seed e-receipt-sv): the real paybridged against a ZVT
// simulator (the card payment) and `paybridge-sim upstream` (the e-receipt service), driven
// through the ERP protocol. What the service received, sent and serves is read back from the
// simulator (control port `ereceipts`, `ereceipt ID`, `sent`; the page over HTTP). Times are
// short and configured; every wait is on an event, a log line or a reply, with a deadline.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iterator>

#include "tests/integration/daemon_fixture.hpp"

namespace pb::daemontest {
namespace {

constexpr int kChoiceMs = 2500;  // generous: a loaded CI must deliver the choice within it
constexpr int kDisplayMs = 4000;

/// "2024-05-03T10:15:00Z" -> seconds since the epoch.
std::int64_t epoch_s(const std::string& iso) {
    std::tm tm{};
    if (!strptime(iso.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm)) return -1;
    return static_cast<std::int64_t>(timegm(&tm));
}

class EreceiptTest : public DaemonTest {
protected:
    void SetUp() override {
        sim = start_sim(dir);
        ASSERT_TRUE(sim->ready);
        upstream = std::make_unique<SimProcess>(dir, std::vector<std::string>{}, "upstream");
        ASSERT_TRUE(upstream->ready);
        t1.tcp_port = sim->tcp_port;
    }

    void start(const std::string& jurisdiction = "SE", const std::string& email_mode = "attachment") {
        std::string toml = daemon_config(dir, {t1}) + "\n[upstream.ereceipt]\nurl = \"http://127.0.0.1:" +
                           std::to_string(upstream->http_port) + "\"\ntimeout_ms = 1500\njurisdiction = \"" + jurisdiction +
                           "\"\nemail_mode = \"" + email_mode + "\"\nshop_name = \"Verkstan AB\"\nqr_display_ms = " +
                           std::to_string(kDisplayMs) + "\nchoice_timeout_ms = " + std::to_string(kChoiceMs) +
                           "\n\n[upstream.outbox]\nretry_initial_ms = 100\nretry_max_ms = 400\n";
        daemon = std::make_unique<DaemonProcess>(dir, toml);
        ASSERT_FALSE(daemon->router.empty());
        connect();
        ASSERT_TRUE(erp->wait_online("T1"));
    }

    void service(const std::string& command) {
        auto reply = upstream->control(command);
        ASSERT_FALSE(reply.empty());
        ASSERT_EQ(reply.back().rfind("OK", 0), 0u) << command << " -> " << reply.back();
    }
    json::value sim_state(const std::string& what) {
        auto reply = upstream->control(what);
        if (reply.empty() || reply.back().rfind("OK ", 0) != 0) {
            ADD_FAILURE() << what << " -> " << (reply.empty() ? "nothing" : reply.back());
            return {};
        }
        return json::parse(reply.back().substr(3));
    }
    json::array sent() { return sim_state("sent").as_array(); }

    json::object ok_result(const json::object& reply) {
        EXPECT_EQ(reply.contains("ok") ? reply.at("ok") : json::value(), json::value(true)) << dump(reply);
        if (!reply.contains("result")) return {};
        return reply.at("result").as_object();
    }

    /// An approved card payment of `order`; its payment id.
    std::string paid(const std::string& order, std::int64_t amount = 12345) {
        auto r = pay(order, amount);
        EXPECT_EQ(str(r, "state"), "approved") << dump(r);
        return str(r, "payment_id");
    }

    json::object deliver(const std::string& payment, json::object choice) {
        choice["type"] = "receipt.deliver";
        choice["payment_id"] = payment;
        return erp->request(choice);
    }
    json::object copy(const std::string& payment, json::object choice) {
        choice["type"] = "receipt.copy";
        choice["payment_id"] = payment;
        return erp->request(choice);
    }
    json::object start_receipt(const std::string& order, const std::string& customer = "") {
        json::object r{{"type", "receipt.start"}, {"order_id", order}, {"register", "K1"}};
        if (!customer.empty()) r["customer_id"] = customer;
        return erp->request(r);
    }

    /// The daemon logged the delivery of this outbox key (PB_OUTBOX_DELIVERED).
    bool delivered(const std::string& key, milliseconds deadline = 10s) { return daemon->wait_log("key " + key + " after", deadline); }

    std::optional<ReceivedEvent> receipt_event(const std::string& order, milliseconds deadline = 8s) {
        return erp->wait_event([&](const ReceivedEvent& e) { return e.topic == "receipt.delivered." + order; }, deadline);
    }

    /// GET of the customer's link on the simulator.
    HttpReply page(const std::string& url) {
        auto at = url.find("/r/");
        EXPECT_NE(at, std::string::npos) << url;
        return http_get(upstream->http_port, url.substr(at));
    }

    std::unique_ptr<SimProcess> upstream;
};

TEST_F(EreceiptTest, PrintReturnsThePaperLinesAndSendsNothing) {
    start();
    auto pid = paid("O-1");
    auto r = ok_result(deliver(pid, {{"channel", "print"}}));
    EXPECT_EQ(str(r, "channel"), "print");
    EXPECT_FALSE(r.contains("url"));
    ASSERT_TRUE(r.contains("lines")) << dump(r);
    std::string all;
    for (const auto& l : r.at("lines").as_array()) all += std::string(l.as_string()) + "\n";
    EXPECT_EQ(r.at("lines").as_array().at(0), json::value("Verkstan AB"));
    EXPECT_NE(all.find("O-1"), std::string::npos) << all;
    EXPECT_NE(all.find("TOTAL"), std::string::npos) << all;
    EXPECT_NE(all.find("123.45 SEK"), std::string::npos) << all;
    auto ev = receipt_event("O-1");
    ASSERT_TRUE(ev);
    EXPECT_EQ(str(ev->body, "channel"), "print");
    EXPECT_EQ(str(ev->body, "payment_id"), pid);
    // The same request again: the same receipt; another choice now: use a copy.
    EXPECT_EQ(ok_result(deliver(pid, {{"channel", "print"}})), r);
    expect_error(deliver(pid, {{"channel", "qr"}}), 2006, "/channel");
    EXPECT_TRUE(sim_state("ereceipts").as_array().empty()) << "a printed receipt never reaches the service";
}

TEST_F(EreceiptTest, SmsAndEmailReachTheServiceOnceAndTheChoiceIsRemembered) {
    start();
    auto p1 = paid("O-2");
    auto r = ok_result(deliver(p1, {{"channel", "sms"}, {"phone", "+46701234567"}, {"customer_id", "C-1"}, {"remember", true}}));
    const std::string id = str(r, "receipt_id");
    EXPECT_EQ(id.size(), 22u);
    EXPECT_NE(str(r, "url").find("/r/" + id), std::string::npos);
    ASSERT_TRUE(delivered("ereceipt:" + id));
    auto held = sim_state("ereceipt " + id).as_object();
    EXPECT_EQ(str(held, "channel"), "sms");
    EXPECT_EQ(str(held, "phone"), "+46701234567");
    EXPECT_EQ(str(held, "order_id"), "O-2");
    EXPECT_GT(num(held, "pdf_bytes"), 500);
    EXPECT_EQ(str(held, "delete_at").substr(0, 2), "20");
    auto s = sent();
    ASSERT_EQ(s.size(), 1u) << dump(s);
    EXPECT_EQ(str(s[0].as_object(), "kind"), "sms");
    // The page is the PDF, with the receipt's lines in it.
    auto pdf = page(str(r, "url"));
    EXPECT_EQ(pdf.status, 200);
    EXPECT_NE(pdf.headers.find("application/pdf"), std::string::npos);
    EXPECT_EQ(pdf.body.rfind("%PDF-", 0), 0u);
    EXPECT_NE(pdf.body.find("O-2"), std::string::npos);
    EXPECT_NE(pdf.body.find("CUSTOMER COPY"), std::string::npos) << "the terminal's customer slip belongs on the receipt";
    EXPECT_EQ(pdf.body.find("MERCHANT COPY"), std::string::npos);

    auto p2 = paid("O-3");
    auto e = ok_result(deliver(p2, {{"channel", "email"}, {"email", "kund@example.se"}}));
    ASSERT_TRUE(delivered("ereceipt:" + str(e, "receipt_id")));
    s = sent();
    ASSERT_EQ(s.size(), 2u);
    EXPECT_EQ(str(s[1].as_object(), "what"), "attachment");
    EXPECT_GT(num(s[1].as_object(), "pdf_bytes"), 500);

    // Next time the customer comes, the remembered choice is offered.
    auto next = ok_result(start_receipt("O-4", "C-1"));
    EXPECT_EQ(str(next, "suggested_channel"), "sms");
    EXPECT_EQ(str(next, "suggested_phone"), "+46701234567");
    auto stranger = ok_result(start_receipt("O-5", "C-2"));
    EXPECT_FALSE(stranger.contains("suggested_channel"));
}

TEST_F(EreceiptTest, QrFromTheFirstLineWaitsThenBecomesAQrReceiptWithoutAChoice) {
    start();
    auto before = std::chrono::system_clock::now();
    auto r = ok_result(start_receipt("O-6"));
    const std::string url = str(r, "url");
    const std::string id = str(r, "receipt_id");
    EXPECT_EQ(str(r, "state"), "open");
    EXPECT_GE(num(r, "qr_version"), 1);
    EXPECT_NE(str(r, "qr_svg").find("<svg"), std::string::npos);
    EXPECT_GT(str(r, "qr_text").size(), 100u);
    EXPECT_EQ(num(r, "choice_timeout_ms"), kChoiceMs);
    // display_until = first line + qr_display_ms (to the second).
    auto t = std::chrono::system_clock::to_time_t(before + milliseconds(kDisplayMs));
    std::tm tm{};
    gmtime_r(&t, &tm);
    char lo[32];
    std::strftime(lo, sizeof lo, "%Y-%m-%dT%H:%M:%SZ", &tm);
    EXPECT_GE(str(r, "display_until"), std::string(lo));
    // The same order again: the same URL.
    EXPECT_EQ(str(ok_result(start_receipt("O-6")), "url"), url);

    ASSERT_TRUE(delivered("ereceipt-open:" + id));
    auto waiting = page(url);
    EXPECT_EQ(waiting.status, 200);
    EXPECT_NE(waiting.body.find("Waiting"), std::string::npos) << waiting.body;

    auto pid = paid("O-6");
    auto ev = receipt_event("O-6", 10s);
    ASSERT_TRUE(ev) << "no automatic QR receipt";
    // The daemon's own event times (seconds): the QR receipt came at least the window after
    // the approval (2.5 s window: at least 2 s apart at whole seconds).
    std::string approved_at;
    for (const auto& e : erp->events())
        if (e.topic == "payment.result.O-6" && str(e.body, "state") == "approved") approved_at = str(e.body, "time");
    ASSERT_FALSE(approved_at.empty());
    EXPECT_GE(epoch_s(str(ev->body, "time")) - epoch_s(approved_at), kChoiceMs / 1000)
        << "finalised before the cashier's choice window ended";
    EXPECT_EQ(str(ev->body, "channel"), "qr");
    EXPECT_EQ(str(ev->body, "url"), url);
    EXPECT_EQ(str(ev->body, "payment_id"), pid);
    ASSERT_TRUE(delivered("ereceipt:" + id));
    auto pdf = page(url);
    EXPECT_EQ(pdf.status, 200);
    EXPECT_EQ(pdf.body.rfind("%PDF-", 0), 0u);
    EXPECT_NE(pdf.body.find("O-6"), std::string::npos);
    // Final now: a choice afterwards is refused, a copy is fine.
    expect_error(deliver(pid, {{"channel", "sms"}, {"phone", "+46701234567"}}), 2006, "/channel");
    auto c = ok_result(copy(pid, {{"channel", "print"}}));
    EXPECT_EQ(c.at("lines").as_array().at(0), json::value("COPY \u2014 original delivered by QR code"));
}

TEST_F(EreceiptTest, AChoiceWithinTheWindowIsTheOnlyReceipt) {
    start();
    ok_result(start_receipt("O-7"));
    auto pid = paid("O-7");
    auto r = ok_result(deliver(pid, {{"channel", "email"}, {"email", "kund@example.se"}}));
    auto ev = receipt_event("O-7");
    ASSERT_TRUE(ev);
    EXPECT_EQ(str(ev->body, "channel"), "email");
    // Past the window: no second (QR) receipt.
    EXPECT_FALSE(receipt_event("O-7", milliseconds(kChoiceMs + 1500)));
    ASSERT_TRUE(delivered("ereceipt:" + str(r, "receipt_id")));
    EXPECT_EQ(str(sim_state("ereceipt " + str(r, "receipt_id")).as_object(), "channel"), "email");
}

TEST_F(EreceiptTest, PrintingAfterTheQrWasShownLetsTheWaitingPageShowTheReceipt) {
    start();
    auto s = ok_result(start_receipt("O-15"));
    auto pid = paid("O-15");
    auto r = ok_result(deliver(pid, {{"channel", "print"}}));
    EXPECT_EQ(str(r, "receipt_id"), str(s, "receipt_id"));
    EXPECT_TRUE(r.contains("lines"));
    ASSERT_TRUE(delivered("ereceipt:" + str(s, "receipt_id")));
    EXPECT_EQ(str(sim_state("ereceipt " + str(s, "receipt_id")).as_object(), "channel"), "print");
    auto pdf = page(str(s, "url"));
    EXPECT_EQ(pdf.body.rfind("%PDF-", 0), 0u) << "a customer who scanned the code does not wait forever";
    EXPECT_TRUE(sent().empty());
}

TEST_F(EreceiptTest, ADaemonKilledInTheWindowFinalisesTheQrReceiptAfterRestart) {
    start();
    auto r = ok_result(start_receipt("O-13"));
    const std::string id = str(r, "receipt_id");
    paid("O-13");
    daemon->kill9();  // inside the no-choice window: the timer is gone, the ledger is not
    daemon->start();
    connect();
    ASSERT_TRUE(daemon->wait_log("PB_RECEIPT_RECOVERY", 10s));
    auto ev = receipt_event("O-13", 10s);
    ASSERT_TRUE(ev) << "the paid receipt was not finalised after the restart";
    EXPECT_EQ(str(ev->body, "channel"), "qr");
    ASSERT_TRUE(delivered("ereceipt:" + id));
    EXPECT_EQ(str(sim_state("ereceipt " + id).as_object(), "state"), "delivered");
    auto pdf = page(str(r, "url"));
    EXPECT_EQ(pdf.body.rfind("%PDF-", 0), 0u);
    EXPECT_NE(pdf.body.find("CUSTOMER COPY"), std::string::npos) << "the slip was kept across the restart";
}

TEST_F(EreceiptTest, SplitTenderTheWindowWaitsForTheCardPaymentUnderWay) {
    // The terminal takes 4 s to read the card: longer than the 2.5 s window after the cash part.
    sim = start_sim(dir, 10000, kChoiceMs + 1500);
    ASSERT_TRUE(sim->ready);
    t1.tcp_port = sim->tcp_port;
    start();
    auto r = ok_result(start_receipt("O-14"));
    auto cash = erp->request({{"type", "cash.record"}, {"order_id", "O-14"}, {"request_key", "O-14#cash"}, {"amount", 5000},
                              {"currency", "SEK"}, {"register", "K1"}, {"operator", "carl"}});
    ASSERT_EQ(cash["ok"], json::value(true)) << dump(cash);
    auto card = pay("O-14", 7000);
    EXPECT_EQ(str(card, "state"), "approved") << dump(card);
    ASSERT_FALSE(str(card, "time").empty()) << dump(card);
    auto ev = receipt_event("O-14", 10s);
    ASSERT_TRUE(ev);
    EXPECT_EQ(str(ev->body, "channel"), "qr");
    EXPECT_EQ(str(ev->body, "payment_id"), str(card, "payment_id"));
    EXPECT_GE(epoch_s(str(ev->body, "time")) - epoch_s(str(card, "time")), kChoiceMs / 1000)
        << "the window runs from the last payment of the sale";
    ASSERT_TRUE(delivered("ereceipt:" + str(r, "receipt_id")));
    auto pdf = page(str(r, "url"));
    EXPECT_NE(pdf.body.find("(Cash "), std::string::npos) << "both tenders are on the receipt";
    EXPECT_NE(pdf.body.find("(Card Visa"), std::string::npos);
    EXPECT_NE(pdf.body.find("120.00 SEK"), std::string::npos) << "the total of both";
}

TEST_F(EreceiptTest, NorwayRefusesTheWasteBasket) {
    start("NO");
    auto pid = paid("O-8");
    auto e = expect_error(deliver(pid, {{"channel", "waste_basket"}}), 2106, "/channel");
    EXPECT_NE(str(e, "message").find("NO"), std::string::npos) << dump(e);
    // Nothing changed: the receipt can still be handed over.
    auto r = ok_result(deliver(pid, {{"channel", "print"}}));
    EXPECT_EQ(str(r, "channel"), "print");
}

TEST_F(EreceiptTest, WasteBasketIsADiscardedOriginalAndCopiesSayHowTheOriginalWent) {
    start("SE", "link");
    auto pid = paid("O-9");
    expect_error(copy(pid, {{"channel", "print"}}), 2006, "/payment_id");  // no original yet
    auto r = ok_result(deliver(pid, {{"channel", "waste_basket"}}));
    const std::string id = str(r, "receipt_id");
    EXPECT_FALSE(r.contains("url"));
    ASSERT_TRUE(delivered("ereceipt:" + id));
    EXPECT_EQ(str(sim_state("ereceipt " + id).as_object(), "state"), "discarded");

    auto printed = ok_result(copy(pid, {{"channel", "print"}, {"operator", "anna"}}));
    EXPECT_EQ(str(printed, "original_channel"), "waste_basket");
    EXPECT_EQ(num(printed, "copy"), 1);
    EXPECT_EQ(printed.at("lines").as_array().at(0),
              json::value("COPY \u2014 original delivered by the waste-basket (discarded original)"));
    auto mailed = ok_result(copy(pid, {{"channel", "email"}, {"email", "kund@example.se"}}));
    EXPECT_EQ(num(mailed, "copy"), 2);
    ASSERT_TRUE(delivered("ereceipt-copy:" + id + ":2"));
    auto s = sent();
    ASSERT_EQ(s.size(), 1u) << dump(s);
    EXPECT_EQ(str(s[0].as_object(), "what"), "copy-link");  // email_mode = "link"
    EXPECT_EQ(str(s[0].as_object(), "original_channel"), "waste_basket");
    // Never to the waste-basket.
    expect_error(copy(pid, {{"channel", "waste_basket"}}), 1006, "/channel");
}

TEST_F(EreceiptTest, ServiceDownForAWhileThenEveryReceiptIsDeliveredExactlyOnce) {
    start();
    service("fault set down");
    auto p1 = paid("O-10");
    auto p2 = paid("O-11");
    auto r1 = ok_result(deliver(p1, {{"channel", "sms"}, {"phone", "+46701111111"}}));
    auto r2 = ok_result(deliver(p2, {{"channel", "sms"}, {"phone", "+46702222222"}}));
    ASSERT_TRUE(daemon->wait_log("PB_OUTBOX_RETRY", 5s));
    EXPECT_TRUE(sent().empty());
    // Back, but the first answers are lost: the outbox sends again under the same keys.
    service("fault set drop_reply=2 path=/v1/receipts");
    service("fault clear down");
    ASSERT_TRUE(delivered("ereceipt:" + str(r1, "receipt_id")));
    ASSERT_TRUE(delivered("ereceipt:" + str(r2, "receipt_id")));
    auto s = sent();
    ASSERT_EQ(s.size(), 2u) << dump(s);
    EXPECT_NE(str(s[0].as_object(), "to"), str(s[1].as_object(), "to"));
    EXPECT_GE(num(sim_state("status").as_object(), "duplicates"), 2);
}

TEST_F(EreceiptTest, TheServiceDeletesTheReceiptAfterItsDeletionDate) {
    start();
    auto pid = paid("O-12");
    auto r = ok_result(deliver(pid, {{"channel", "qr"}}));
    const std::string url = str(r, "url");
    ASSERT_TRUE(delivered("ereceipt:" + str(r, "receipt_id")));
    EXPECT_EQ(page(url).status, 200);
    service("clock advance " + std::to_string(29 * 86400));
    EXPECT_EQ(page(url).status, 200) << "kept 30 days";
    service("clock advance " + std::to_string(86400));
    auto gone = page(url);
    EXPECT_EQ(gone.status, 404);
    EXPECT_TRUE(sim_state("ereceipts").as_array().empty());
    // Paybridge's own copy goes by its own clock (ledger/receipts.hpp; unit-tested with an
    // injected clock): today's receipt is kept; the command line says so and checks its input.
    const std::string cli = std::string(PB_PAYBRIDGE_BINARY) + " receipts purge --ledger " + daemon->ledger_path;
    EXPECT_EQ(std::system((cli + " > " + dir.file("purge.txt")).c_str()), 0);
    std::ifstream in(dir.file("purge.txt"));
    std::string said((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(said, "0 receipt(s) deleted\n");
    EXPECT_NE(std::system((cli + " --retention-days 0 2>/dev/null").c_str()), 0);
}

}  // namespace
}  // namespace pb::daemontest
