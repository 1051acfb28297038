// The crash-point sweep (issue 6): for every point of adapters/crash_point.hpp's table, over
// TCP and over the simulator's pseudo-terminal, run the operation with PB_CRASH_AT naming the
// point, see the daemon die of SIGKILL there, restart it on the same ledger, let recovery run,
// and check against the simulator's journal (the terminal's own record is the ground truth):
//  - what the terminal charged is `approved` exactly once, and nothing else is approved;
//  - what it refunded or reversed is `refunded` / `reversed`;
//  - the ERP can query the final state (order.get / payment.get), never `sent`;
//  - an undecidable payment is `unknown` in the interim account with its evidence;
//  - the terminal takes new work afterwards;
//  - `paybridge ledger verify` accepts the ledger (audit chain intact).

#include <set>

#include "tests/fault/crash/crash_fixture.hpp"

namespace pb::daemontest {
namespace {

struct Case {
    crash::Point point;
    bool serial = false;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.point.name << (c.serial ? " serial" : " tcp"); }

std::vector<Case> all_cases() {
    std::vector<Case> out;
    for (const auto& p : crash::kCrashPoints) {
        out.push_back({p, false});
        // Cash never touches a terminal: one transport is enough.
        if (p.flow != crash::Flow::cash) out.push_back({p, true});
    }
    return out;
}

std::string case_name(const ::testing::TestParamInfo<Case>& i) {
    std::string n;
    for (char c : i.param.point.name) n.push_back(c == '.' ? '_' : c);
    return n + (i.param.serial ? "_serial" : "_tcp");
}

constexpr std::int64_t kFirst = 10100;   // the payment before the crash (refund/reversal/day-close act on it)
constexpr std::int64_t kCrashed = 20200;  // the payment the crash hits (sale, recovery, cash)
constexpr std::int64_t kAfter = 30300;    // the payment after the restart

class CrashSweep : public CrashTest, public ::testing::WithParamInterface<Case> {
protected:
    json::object sale_request() { return payment_start("O-2", kCrashed); }
};

TEST_P(CrashSweep, InvariantsHoldAfterSigkillAndRestart) {
    const Case c = GetParam();
    const std::string point(c.point.name);
    sim = terminal_sim(c.serial);
    ASSERT_TRUE(sim->ready);
    if (c.serial) {
        ASSERT_FALSE(sim->serial_path.empty());
    }
    t1 = spec_of(*sim, c.serial, "T1", "K1");

    // A payment that stands before anything crashes: what refund, reversal and day-close act
    // on, and the terminal's "previous transaction" for recovery. The daemon that makes it is
    // the one that will crash (its driver points are named by operation, and the sale ones
    // are asked for the second time they are reached).
    const bool sale_point = c.point.flow == crash::Flow::sale;
    std::string at = "PB_CRASH_AT=" + (c.point.flow == crash::Flow::recovery ? std::string("sale.after_status_information#2")
                                                                              : point + (sale_point ? "#2" : ""));
    // An intermediate status occurs three times per sale (PA00P015 §3.7: insert card, PIN,
    // please wait): #4 is the second sale's first.
    if (point == "sale.after_intermediate_status") at = "PB_CRASH_AT=" + point + "#4";
    ASSERT_NO_FATAL_FAILURE(start_daemon({t1}, {at}));
    auto first = pay("O-1", kFirst);
    ASSERT_EQ(str(first, "state"), "approved") << dump(first);
    const std::string first_id = str(first, "payment_id");

    // The operation the point belongs to; the daemon may die before it answers.
    json::object req;
    switch (c.point.flow) {
        case crash::Flow::sale:
        case crash::Flow::recovery: req = sale_request(); break;
        case crash::Flow::refund:
            req = {{"type", "payment.refund"}, {"payment_id", first_id}, {"request_key", "O-1#r1"},
                   {"operator", "erik"},       {"reason", "returned"}};
            break;
        case crash::Flow::reversal:
            req = {{"type", "payment.reverse"}, {"payment_id", first_id}, {"operator", "erik"}, {"reason", "wrong"}};
            break;
        case crash::Flow::cash:
            req = {{"type", "cash.record"}, {"order_id", "O-2"}, {"request_key", "O-2#cash"}, {"amount", kCrashed},
                   {"currency", "SEK"},     {"register", "K1"},  {"operator", "carl"}};
            break;
        case crash::Flow::day_close:
            req = {{"type", "day_close.run"}, {"terminal", "T1"}, {"operator", "lena"}};
            break;
    }
    erp->send(req);
    ASSERT_NO_FATAL_FAILURE(expect_killed(at.substr(std::string("PB_CRASH_AT=").size())));

    if (c.point.flow == crash::Flow::recovery) {
        // Killed in the middle of the sale; now killed again in the recovery of it.
        ASSERT_NO_FATAL_FAILURE(restart({"T1"}, {"PB_CRASH_AT=" + point}));
        ASSERT_NO_FATAL_FAILURE(expect_killed(point));
    }
    ASSERT_NO_FATAL_FAILURE(restart({"T1"}));

    // The terminal's record against the ledger's.
    expect_ledger_agrees_with_journal(first_id, kFirst);
    if (c.point.flow == crash::Flow::sale || c.point.flow == crash::Flow::recovery) {
        expect_order_settled("O-2", kCrashed);
        // The ERP asks again with the same request key (it never heard the outcome): the
        // same payment, never a second charge.
        auto again = erp->request(sale_request());
        ASSERT_EQ(again["ok"], json::value(true)) << dump(again);
        auto id = str(again["result"].as_object(), "payment_id");
        auto state = str(again["result"].as_object(), "state");
        if (state == "sent" || state == "requested") {
            // Nothing was written before the crash: this is the first attempt that counts.
            ASSERT_TRUE(erp->wait_result(id)) << "no result for the retried payment";
        }
        EXPECT_EQ(expect_order_settled("O-2", kCrashed), 1u);
    } else if (c.point.flow == crash::Flow::cash) {
        auto list = order_payments("O-2");
        ASSERT_LE(list.size(), 1u);
        if (!list.empty()) {
            EXPECT_EQ(str(list[0], "state"), "approved") << dump(list[0]);
        }
        auto again = erp->request(req);  // same request key: the same cash payment
        ASSERT_EQ(again["ok"], json::value(true)) << dump(again);
        EXPECT_EQ(order_payments("O-2").size(), 1u);
    } else if (c.point.flow == crash::Flow::day_close) {
        // The first payment is untouched and a day-close can be run again.
        auto r = erp->request({{"type", "day_close.run"}, {"terminal", "T1"}, {"operator", "lena"}});
        ASSERT_EQ(r["ok"], json::value(true)) << dump(r);
        auto done = erp->wait_event([](const ReceivedEvent& e) { return str(e.body, "type") == "day_close.done"; }, 15s);
        ASSERT_TRUE(done) << "no day_close.done after the restart";
        EXPECT_EQ(done->body.at("ok"), json::value(true)) << dump(done->body);
        // The close after the restart covers the day and agrees with the terminal, whether or
        // not the terminal had closed its batch before the kill (daemon/eod_batch.hpp), and
        // when the ledger had closed already it is that close again (the ERP may never have
        // heard of it).
        EXPECT_EQ(done->body.at("matches"), json::value(true)) << dump(done->body);
        // The batch the terminal closed is shown, whichever close it came from.
        EXPECT_FALSE(done->body.at("terminal_totals").as_array().empty()) << dump(done->body);
    }
    EXPECT_TRUE(sim->journal_events("approved").size() <= 2u) << "more charges than payments";

    // The terminal takes new work.
    ASSERT_TRUE(wait_sim_idle(*sim)) << "the simulator never became idle";
    auto after = pay("O-3", kAfter);
    EXPECT_EQ(str(after, "state"), "approved") << dump(after);
    expect_ledger_agrees_with_journal(str(after, "payment_id"), kAfter);

    ASSERT_NO_FATAL_FAILURE(stop_and_verify_ledger());
}

INSTANTIATE_TEST_SUITE_P(Points, CrashSweep, ::testing::ValuesIn(all_cases()), case_name);

// PB_CRASH_TRACE=1 names every point a run passes: one approved sale passes all of the sale's.
TEST_F(CrashTest, TraceNamesEverySalePointOfOneApprovedPayment) {
    sim = terminal_sim(false);
    ASSERT_TRUE(sim->ready);
    t1 = spec_of(*sim, false, "T1", "K1");
    ASSERT_NO_FATAL_FAILURE(start_daemon({t1}, {"PB_CRASH_TRACE=1"}));
    auto r = pay("O-1", kFirst);
    ASSERT_EQ(str(r, "state"), "approved") << dump(r);
    for (const auto& p : crash::kCrashPoints) {
        if (p.flow != crash::Flow::sale) continue;
        EXPECT_TRUE(daemon->wait_log("PB_CRASH_POINT reached " + std::string(p.name) + "\n", 5s)) << p.name;
    }
    EXPECT_EQ(journal_count(*sim, "approved", kFirst), 1u);
}

// The table and the code agree: every listed point is reached (and so kills) in a traced run
// of the flows above -- checked by the sweep itself, which fails for a point never reached.
// Here: names are unique and each flow has the points the issue asks for.
TEST(CrashPointTable, NamesAreUniqueAndEveryFlowIsCovered) {
    std::set<std::string_view> names;
    for (const auto& p : crash::kCrashPoints) {
        EXPECT_TRUE(names.insert(p.name).second) << "duplicate " << p.name;
        EXPECT_EQ(p.name.substr(0, crash::flow_prefix(p.flow).size()), crash::flow_prefix(p.flow)) << p.name;
        EXPECT_FALSE(p.where.empty()) << p.name;
    }
    for (auto flow : {"sale", "refund", "reversal", "day_close"})
        for (auto step : {"after_request_read", "after_command_sent", "after_status_information",
                          "after_result_durable", "after_ack_sent", "after_completion", "after_outcome_durable",
                          "after_event_published"})
            EXPECT_TRUE(names.count(std::string(flow) + "." + step)) << flow << "." << step;
    for (auto flow : {"sale", "refund", "reversal"}) {
        EXPECT_TRUE(names.count(std::string(flow) + ".after_intent_durable")) << flow;
        EXPECT_TRUE(names.count(std::string(flow) + ".after_intermediate_status")) << flow;
    }
}

}  // namespace
}  // namespace pb::daemontest
