#pragma once
// The common shape of a daemon integration test: one simulator (or two), the daemon with a
// terminal on each, an ERP client, all in one temporary directory and all stopped at the end.

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <memory>
#include <string>
#include <vector>

#include "tests/integration/daemon_harness.hpp"

namespace pb::daemontest {

class DaemonTest : public ::testing::Test {
protected:
    /// Simulator with fast timings (card_timeout_ms for the "no card" rule, card_delay_ms
    /// between insert-card and card read) plus extra arguments, e.g. {"--serial", "pty"}.
    std::unique_ptr<SimProcess> start_sim(const TempDir& in, int card_timeout_ms = 2000, int card_delay_ms = 0,
                                          std::vector<std::string> extra = {}) {
        extra.push_back("--scenario");
        extra.push_back(write_scenario(in, "scenario", card_timeout_ms, card_delay_ms));
        auto s = std::make_unique<SimProcess>(in, std::move(extra));
        EXPECT_TRUE(s->ready);
        return s;
    }

    /// The daemon with `terminals`, then an ERP client, then waits for every terminal online.
    /// `env`: extra environment of the daemon (NAME=value), e.g. PB_CRASH_AT.
    void start_daemon(const std::vector<TerminalSpec>& terminals, std::vector<std::string> env = {}) {
        daemon = std::make_unique<DaemonProcess>(dir, daemon_config(dir, terminals), std::move(env));
        ASSERT_FALSE(daemon->router.empty());
        connect();
        for (const auto& t : terminals) ASSERT_TRUE(erp->wait_online(t.id)) << t.id << " never came online";
    }

    void connect() {
        erp.reset();
        erp = std::make_unique<ErpClient>(daemon->router, daemon->pub);
    }

    /// One simulator on TCP and the daemon with T1 on it.
    void start_tcp(int card_timeout_ms = 2000, int card_delay_ms = 0) {
        sim = start_sim(dir, card_timeout_ms, card_delay_ms);
        ASSERT_TRUE(sim->ready);
        t1.tcp_port = sim->tcp_port;
        start_daemon({t1});
    }

    /// Sends payment.start, expects an ok reply in state requested/sent; the payment id.
    std::string start_payment(const json::object& req) {
        auto r = erp->request(req);
        EXPECT_EQ(r["ok"], json::value(true)) << dump(r);
        if (r["ok"] != json::value(true)) return "";
        auto& p = r["result"].as_object();
        auto state = str(p, "state");
        EXPECT_TRUE(state == "requested" || state == "sent") << dump(p);
        EXPECT_EQ(str(p, "order_id"), str(req, "order_id"));
        EXPECT_EQ(num(p, "amount"), num(req, "total"));
        return str(p, "payment_id");
    }

    /// Starts a payment and waits for its final payment.result.
    json::object pay(const std::string& order, std::int64_t amount, const std::string& terminal = "T1",
                     const std::string& register_id = "K1") {
        auto id = start_payment(payment_start(order, amount, terminal, register_id));
        if (id.empty()) return {};
        auto res = erp->wait_result(id);
        EXPECT_TRUE(res.has_value()) << "no final payment.result for " << id;
        return res.value_or(json::object{});
    }

    /// The error object of a refused request, after checking its code (and field if given).
    json::object expect_error(const json::object& reply, int code, const std::string& field = "") {
        EXPECT_EQ(reply.contains("ok") ? reply.at("ok") : json::value(), json::value(false)) << dump(reply);
        if (!reply.contains("error") || !reply.at("error").is_object()) {
            ADD_FAILURE() << "no error object: " << dump(reply);
            return {};
        }
        auto e = reply.at("error").as_object();
        EXPECT_EQ(num(e, "code"), code) << dump(reply);
        if (!field.empty()) {
            EXPECT_EQ(str(e, "field"), field) << dump(reply);
        }
        return e;
    }

    /// Journal records of `event` whose amount is `amount`.
    static std::size_t journal_count(const SimProcess& s, const std::string& event, std::int64_t amount) {
        std::size_t n = 0;
        for (auto& r : s.journal_events(event))
            if (num(r, "amount") == amount) ++n;
        return n;
    }

    /// Open interim entries of `payment_id`.
    std::vector<json::object> interim_of(const std::string& payment_id) {
        std::vector<json::object> out;
        auto r = erp->request({{"type", "interim.list"}, {"state", "all"}});
        EXPECT_EQ(r["ok"], json::value(true)) << dump(r);
        if (r["ok"] != json::value(true)) return out;
        for (auto& e : r["result"].as_object()["entries"].as_array())
            if (str(e.as_object(), "payment_id") == payment_id) out.push_back(e.as_object());
        return out;
    }

    /// The ledger's final word on `payment_id` against the journal of the terminal `of` (the
    /// simulator, by default `sim`): what the terminal really did is the ground truth
    /// (design.md §4). `amount` is unique to the payment within the test.
    ///  - charged once and refunded: `refunded`; charged once: `approved` with that receipt;
    ///  - reversed on the terminal: `reversed`;
    ///  - not charged: `aborted`, `declined` or `rejected`, or `unknown` and then in the
    ///    interim account with the evidence that kept it undecided;
    ///  - charged twice: never.
    void expect_ledger_agrees_with_journal(const std::string& payment_id, std::int64_t amount,
                                           const SimProcess* of = nullptr) {
        const SimProcess& terminal = of ? *of : *sim;
        auto p = erp->get_payment(payment_id);
        auto state = str(p, "state");
        auto charged = charged_by(terminal);
        std::size_t charges = 0, refunds = 0;
        std::int64_t receipt = -1;
        for (auto& [r, rec] : charged.sales)
            if (num(rec, "amount") == amount) {
                ++charges;
                receipt = r;
            }
        for (auto& rec : charged.refunds)
            if (num(rec, "amount") == amount) ++refunds;
        bool reversed = false;
        for (auto& rec : terminal.journal_events("reversed")) reversed |= num(rec, "amount") == amount;
        ASSERT_LE(charges, 1u) << "the terminal charged twice";
        ASSERT_LE(refunds, 1u) << "the terminal refunded twice";
        if (charges == 1 && refunds == 1) {
            EXPECT_EQ(state, "refunded") << "the terminal refunded but the ledger says " << dump(p);
        } else if (charges == 1) {
            EXPECT_EQ(state, "approved") << "the terminal charged but the ledger says " << dump(p);
            EXPECT_EQ(num(p, "receipt_no"), receipt) << dump(p);
        } else if (reversed) {
            EXPECT_EQ(state, "reversed") << "the terminal reversed but the ledger says " << dump(p);
        } else if (state == "unknown") {
            auto entries = interim_of(payment_id);
            ASSERT_EQ(entries.size(), 1u) << "an unresolvable payment belongs in the interim account";
            EXPECT_EQ(str(entries[0], "reason"), "unknown");
            EXPECT_FALSE(str(p, "result_text").empty()) << "no evidence on the undecided payment " << dump(p);
        } else {
            EXPECT_TRUE(state == "aborted" || state == "declined" || state == "rejected")
                << "nothing was charged but the ledger says " << dump(p);
        }
    }

    /// Sends `request` (v and id are added) on a DEALER of its own whose reply is never read:
    /// for tests that kill the daemon before it answers. Returns once the frame has left
    /// (the socket lingers until then, at most 2 s).
    void send_unanswered(json::object request) {
        request["v"] = 1;
        request["id"] = "unanswered";
        const std::string frame = json::serialize(request);
        zmq::context_t ctx;
        zmq::socket_t dealer(ctx, zmq::socket_type::dealer);
        dealer.set(zmq::sockopt::linger, 2000);
        dealer.connect(daemon->router);
        dealer.send(zmq::message_t(), zmq::send_flags::sndmore);
        dealer.send(zmq::buffer(frame), zmq::send_flags::none);
    }

    TempDir dir;
    TerminalSpec t1;  // start_tcp's terminal; tests may tune its timers first
    std::unique_ptr<SimProcess> sim;
    std::unique_ptr<DaemonProcess> daemon;
    std::unique_ptr<ErpClient> erp;
};

}  // namespace pb::daemontest
