#pragma once
// The invariants every fault test and the soak check at the end (issue 6), with the terminal's
// own record -- the simulator's journal -- as ground truth:
//   - every payment the terminal really charged is `approved` exactly once in the ledger, with
//     that receipt and amount;
//   - nothing is approved that the terminal did not charge;
//   - every payment has a final state the ERP can query (none left `requested` or `sent`);
//   - an undecided (`unknown`) payment is in the interim account;
//   - the ledger's audit chain verifies (`paybridge ledger verify`).
// Amounts must be unique per terminal within a test: the journal is matched by amount.

#include <gtest/gtest.h>

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "tests/integration/daemon_harness.hpp"

namespace pb::daemontest {

/// Counts of the final states seen, for the report of a soak or sweep.
struct Outcomes {
    std::map<std::string, std::size_t> by_state;
    std::size_t total() const {
        std::size_t n = 0;
        for (auto& [s, c] : by_state) n += c;
        return n;
    }
};

/// Open and resolved interim entries of `payment_id`.
inline std::vector<json::object> interim_entries(ErpClient& erp, const std::string& payment_id) {
    std::vector<json::object> out;
    auto r = erp.request({{"type", "interim.list"}, {"state", "all"}});
    EXPECT_EQ(r["ok"], json::value(true)) << dump(r);
    if (r["ok"] != json::value(true)) return out;
    for (auto& e : r["result"].as_object()["entries"].as_array())
        if (str(e.as_object(), "payment_id") == payment_id) out.push_back(e.as_object());
    return out;
}

/// Checks the invariants of one terminal over every payment started on it (`ids`).
inline Outcomes expect_terminal_invariants(ErpClient& erp, const SimProcess& sim, const std::vector<std::string>& ids,
                                           const std::string& terminal) {
    SCOPED_TRACE("terminal " + terminal);
    Outcomes seen;
    auto charged = charged_by(sim);
    std::map<std::int64_t, int> approved_receipts;  // receipt -> approved payments with it
    for (const auto& id : ids) {
        auto p = erp.get_payment(id);
        auto state = str(p, "state");
        ++seen.by_state[state];
        EXPECT_NE(state, "") << "the ERP cannot query " << id;
        EXPECT_NE(state, "requested") << dump(p);
        EXPECT_NE(state, "sent") << "left in flight: " << dump(p);
        const auto amount = num(p, "amount");
        std::size_t charges = 0;
        for (auto& [receipt, rec] : charged.sales)
            if (num(rec, "amount") == amount) ++charges;
        EXPECT_LE(charges, 1u) << "the terminal charged " << amount << " twice";
        if (state == "approved") {
            ++approved_receipts[num(p, "receipt_no")];
            EXPECT_EQ(charges, 1u) << "approved in the ledger, not charged by the terminal: " << dump(p);
            auto it = charged.sales.find(num(p, "receipt_no"));
            if (it == charged.sales.end()) {
                ADD_FAILURE() << "no such receipt in the journal: " << dump(p);
                continue;
            }
            EXPECT_EQ(num(it->second, "amount"), amount) << dump(p);
        } else if (state == "unknown") {
            auto entries = interim_entries(erp, id);
            EXPECT_EQ(entries.size(), 1u) << "an undecided payment belongs in the interim account: " << dump(p);
            if (!entries.empty()) {
                EXPECT_EQ(str(entries[0], "reason"), "unknown");
            }
        } else {
            EXPECT_EQ(charges, 0u) << "charged by the terminal but " << state << " in the ledger: " << dump(p);
        }
    }
    for (auto& [receipt, n] : approved_receipts) EXPECT_EQ(n, 1) << "receipt " << receipt << " approved twice";
    // Every charge of the terminal belongs to exactly one of our payments.
    EXPECT_EQ(charged.sales.size(), approved_receipts.size()) << "a charge the ledger does not know";
    return seen;
}

/// `paybridge ledger verify` on the daemon's ledger (it may be running: WAL readers are fine).
inline void expect_audit_chain_verifies(const std::string& ledger_path) {
    const std::string cmd = std::string(PB_BINARY_DIR) + "/daemon/paybridge ledger verify --ledger " + ledger_path + " 2>&1";
    std::string out;
    FILE* p = ::popen(cmd.c_str(), "r");
    ASSERT_NE(p, nullptr) << cmd;
    std::array<char, 4096> buf;
    while (std::fgets(buf.data(), buf.size(), p)) out += buf.data();
    int rc = ::pclose(p);
    EXPECT_TRUE(WIFEXITED(rc) && WEXITSTATUS(rc) == 0) << "ledger verify failed: " << out;
}

}  // namespace pb::daemontest
