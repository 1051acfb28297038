// Link and terminal faults (issue 6): every fault the simulator can inject (simulators/README.md
// "Faults"), on TCP and on the serial pseudo-terminal, against the real daemon. Per case:
//   - T1's simulator gets the fault and a payment runs into it;
//   - meanwhile a payment on T2 (a healthy simulator) must go through: one terminal's trouble
//     never stalls another;
//   - the fault is cleared (or, for a crash, the simulator is started again on the same port or
//     pty link), T1 comes back and takes a new payment;
//   - the invariants hold against both simulators' journals: every payment the terminal really
//     charged is approved exactly once in the ledger with its receipt, nothing is approved that
//     the terminal did not charge, every payment has a final state the ERP can query, an
//     undecided one is in the interim account, and the audit chain verifies.

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "tests/fault/invariants.hpp"
#include "tests/integration/daemon_fixture.hpp"

namespace pb::daemontest {
namespace {

enum class Link { tcp, serial };

/// What the faulted payment must end as.
enum class Expect {
    approved,     // the fault is survivable: the payment goes through
    not_charged,  // the terminal refuses or never gets it: aborted or declined, nothing charged
    consistent,   // either way, as long as the ledger agrees with the journal
};

struct FaultCase {
    const char* name;
    const char* fault;  // "fault set" argument
    Expect expect;
    bool serial_only = false;
    int t3_ms = 3000;
    int t4_ms = 5000;
    bool crashes_sim = false;  // the fault makes the simulator exit; it is started again
    bool needs_day_close = false;  // cleared by an end-of-day, not by "fault clear"
};

struct Param {
    FaultCase fault;
    Link link;
};

void PrintTo(const Param& p, std::ostream* os) { *os << p.fault.name << (p.link == Link::tcp ? "/tcp" : "/serial"); }

class LinkFaultTest : public DaemonTest, public ::testing::WithParamInterface<Param> {
protected:
    /// T1's simulator in its own directory (journal and state survive a restart there).
    void start_t1_sim() {
        std::vector<std::string> extra;
        if (GetParam().link == Link::serial)
            extra = {"--serial", "pty", "--pty-link", t1_dir.file("tty"), "--pace", "off"};
        if (t1_port != 0) {
            extra.push_back("--tcp");
            extra.push_back("127.0.0.1:" + std::to_string(t1_port));
        }
        sim = start_sim(t1_dir, 2000, 0, extra);
        ASSERT_TRUE(sim->ready);
        t1_port = sim->tcp_port;
    }

    void SetUp() override {
        const auto& f = GetParam().fault;
        ASSERT_NO_FATAL_FAILURE(start_t1_sim());
        sim2 = start_sim(t2_dir);
        ASSERT_TRUE(sim2->ready);
        t1.t3_ms = f.t3_ms;
        t1.t4_ms = f.t4_ms;
        if (GetParam().link == Link::serial)
            t1.device = t1_dir.file("tty");
        else
            t1.tcp_port = t1_port;
        TerminalSpec t2;
        t2.id = "T2";
        t2.register_id = "K2";
        t2.tcp_port = sim2->tcp_port;
        ASSERT_NO_FATAL_FAILURE(start_daemon({t1, t2}));
        // A terminal in use has a last transaction: what Repeat Receipt reports when the
        // faulted one never got stored (decide_recovery, docs/recovery.md).
        auto warm = pay("O-0", 31000);
        ASSERT_EQ(str(warm, "state"), "approved") << dump(warm);
        t1_ids.push_back(str(warm, "payment_id"));
    }

    void TearDown() override {
        // The daemon first (it stops cleanly while its terminals are still there), then the
        // simulators, all before their directories go.
        erp.reset();
        daemon.reset();
        sim.reset();
        sim2.reset();
    }

    TempDir t1_dir, t2_dir;
    std::vector<std::string> t1_ids, t2_ids;
    std::uint16_t t1_port = 0;
    std::unique_ptr<SimProcess> sim2;
};

TEST_P(LinkFaultTest, InvariantsHoldAndTheOtherTerminalKeepsServing) {
    const auto& f = GetParam().fault;
    auto set = sim->control(std::string("fault set ") + f.fault);
    ASSERT_FALSE(set.empty());
    ASSERT_EQ(set.back().rfind("OK", 0), 0u) << set.back();

    auto id = start_payment(payment_start("O-1", 31001));
    ASSERT_FALSE(id.empty());
    t1_ids.push_back(id);

    // T1 is in trouble now; T2 must not notice.
    auto other = pay("O-2", 32001, "T2", "K2");
    EXPECT_EQ(str(other, "state"), "approved") << "T2 stalled by T1's fault: " << dump(other);
    t2_ids.push_back(str(other, "payment_id"));

    if (f.crashes_sim) {
        auto rc = sim->wait_exit(20s);
        ASSERT_TRUE(rc) << "the simulator did not crash at " << f.fault;
        EXPECT_EQ(*rc, 3);
        ASSERT_NO_FATAL_FAILURE(start_t1_sim());  // same port / pty link, same journal and state
    }
    // The payment's first word (unknown is fine while the terminal cannot be asked) ...
    auto first = erp->wait_result(id, 20s, /*accept_unknown=*/true);
    EXPECT_TRUE(first) << "no payment.result for " << id;

    // ... then the fault goes away: cleared, or by an end-of-day for eod_required.
    if (f.needs_day_close) {
        auto r = erp->request({{"type", "day_close.run"}, {"terminal", "T1"}, {"operator", "lena"}});
        EXPECT_EQ(r["ok"], json::value(true)) << "day_close.run: " << dump(r);
        ASSERT_TRUE(erp->wait_event([](const ReceivedEvent& e) { return str(e.body, "type") == "day_close.done"; },
                                    20s))
            << "no day_close.done";
    } else if (!f.crashes_sim) {
        auto clear = sim->control("fault clear");
        ASSERT_EQ(clear.back().rfind("OK", 0), 0u) << clear.back();
    }
    // Online and idle means recovery is done (design.md §4): the ledger's word is final now.
    ASSERT_TRUE(erp->wait_online("T1", 20s)) << "T1 never came back after " << f.fault;
    auto state = str(erp->get_payment(id), "state");
    RecordProperty("outcome", state);  // in the XML report: what each fault ends as
    switch (f.expect) {
        case Expect::approved:
            EXPECT_EQ(state, "approved");
            break;
        case Expect::not_charged:
            EXPECT_TRUE(state == "aborted" || state == "declined") << state;
            break;
        case Expect::consistent:
            break;
    }

    auto after = pay("O-3", 31003);
    EXPECT_EQ(str(after, "state"), "approved") << "T1 does not take new work after " << f.fault << ": " << dump(after);
    t1_ids.push_back(str(after, "payment_id"));
    auto other2 = pay("O-4", 32004, "T2", "K2");
    EXPECT_EQ(str(other2, "state"), "approved") << dump(other2);
    t2_ids.push_back(str(other2, "payment_id"));

    expect_terminal_invariants(*erp, *sim, t1_ids, "T1");
    expect_terminal_invariants(*erp, *sim2, t2_ids, "T2");
    expect_audit_chain_verifies(daemon->ledger_path);
}

// T3 is the PT's answer time for a command, T4 the silence the ECR tolerates while the PT
// works (PA00P016 §5.2.5 / PA00P015 §2.2.3); tight values make slow faults bite quickly.
const FaultCase kFaults[] = {
    {"DropAfterAuthorisation", "drop_after_auth", Expect::not_charged},
    {"DropAfterStatusInformation", "drop_after_status_info", Expect::consistent},
    {"DropBeforeCompletion", "drop_before_completion", Expect::approved},
    {"NoCompletion", "no_completion", Expect::consistent, false, 3000, 1500},
    {"SimulatorCrashAfterAuthorisation", "crash=after_auth", Expect::not_charged, false, 3000, 5000, true},
    {"SimulatorCrashAfterStatusInformation", "crash=after_status_info", Expect::consistent, false, 3000, 5000, true},
    {"SimulatorCrashBeforeCompletion", "crash=before_completion", Expect::consistent, false, 3000, 5000, true},
    {"SlowMessagesPastT3", "slow_message=700", Expect::consistent, false, 300},
    {"SlowBytesPastT3", "slow_byte=150", Expect::consistent, false, 300},
    {"GarbageBetweenFrames", "garbage=1", Expect::consistent},
    {"NegativeAnswer", "negative=1", Expect::not_charged},
    {"TerminalBusy", "busy", Expect::not_charged},
    {"CardLeftInTheReader", "card_inserted", Expect::not_charged},
    {"EndOfDayRequired", "eod_required", Expect::not_charged, false, 3000, 5000, false, true},
    {"CrcErrorsRepeated", "corrupt_crc=2", Expect::approved, true},
    {"CrcErrorsPastTheRepeats", "corrupt_crc=3", Expect::consistent, true},
    {"NakStorm", "nak=8", Expect::consistent, true},
};

std::vector<Param> all_params() {
    std::vector<Param> out;
    for (const auto& f : kFaults) {
        if (!f.serial_only) out.push_back({f, Link::tcp});
        out.push_back({f, Link::serial});
    }
    return out;
}

INSTANTIATE_TEST_SUITE_P(Faults, LinkFaultTest, ::testing::ValuesIn(all_params()),
                         [](const ::testing::TestParamInfo<Param>& i) {
                             return std::string(i.param.fault.name) + (i.param.link == Link::tcp ? "Tcp" : "Serial");
                         });

}  // namespace
}  // namespace pb::daemontest
