// The randomized crash sweep (issue 6): three terminals (two on TCP, one on a pty), a payment
// on each at once, and the daemon killed in every round -- either at a random crash point of the
// payment path and a random occurrence of it (PB_CRASH_AT=<point>#<n>, n over the three
// terminals), or by the test with SIGKILL after a random number of ERP events. After each
// restart every payment so far is checked against its terminal's journal.
//
// Seeded and reproducible: the seed is printed; PB_SWEEP_SEED=<seed> repeats a run and
// PB_SWEEP_COUNT=<rounds> runs longer (default 4 rounds, a few seconds each).

#include <cstdlib>
#include <iostream>
#include <random>

#include "tests/fault/crash/crash_fixture.hpp"

namespace pb::daemontest {
namespace {

std::uint64_t env_number(const char* name, std::uint64_t fallback) {
    const char* v = std::getenv(name);
    if (!v || !*v) return fallback;
    return std::strtoull(v, nullptr, 10);
}

struct Placed {
    std::string order;
    std::int64_t amount;
    std::size_t terminal;
};

class CrashRandom : public CrashTest {};

TEST_F(CrashRandom, SeededKillsOverManyPaymentsOnThreeTerminals) {
    const std::uint64_t seed = env_number("PB_SWEEP_SEED", std::random_device{}());
    const std::uint64_t rounds = env_number("PB_SWEEP_COUNT", 4);
    std::cout << "crash sweep seed " << seed << " (PB_SWEEP_SEED=" << seed << " PB_SWEEP_COUNT=" << rounds
              << " to repeat)" << std::endl;
    RecordProperty("seed", std::to_string(seed));
    SCOPED_TRACE("PB_SWEEP_SEED=" + std::to_string(seed));
    std::mt19937_64 rng(seed);

    // The sale path's points: each is reached once per payment on every terminal.
    std::vector<std::string_view> points;
    for (const auto& p : crash::kCrashPoints)
        if (p.flow == crash::Flow::sale) points.push_back(p.name);

    const std::vector<bool> serial = {false, false, true};
    std::vector<std::unique_ptr<TempDir>> sim_dirs;  // a journal and state file each
    std::vector<std::unique_ptr<SimProcess>> sims;
    std::vector<TerminalSpec> specs;
    std::vector<std::string> ids;
    for (std::size_t i = 0; i < serial.size(); ++i) {
        sim_dirs.push_back(std::make_unique<TempDir>());
        sims.push_back(terminal_sim(serial[i], sim_dirs.back().get()));
        ASSERT_TRUE(sims.back()->ready);
        ids.push_back("T" + std::to_string(i + 1));
        specs.push_back(spec_of(*sims.back(), serial[i], ids.back(), "K" + std::to_string(i + 1)));
    }
    ASSERT_NO_FATAL_FAILURE(start_daemon(specs));

    std::vector<Placed> placed;
    for (std::uint64_t round = 0; round < rounds; ++round) {
        const bool at_point = rng() % 2 == 0;
        std::string what;
        if (at_point) {
            const auto point = points[rng() % points.size()];
            // Intermediate status: three per payment; the others once per payment.
            const std::uint64_t per_payment = point == "sale.after_intermediate_status" ? 3 : 1;
            const std::uint64_t n = 1 + rng() % (per_payment * sims.size());
            what = std::string(point) + "#" + std::to_string(n);
        }
        const std::uint64_t kill_after_events = 1 + rng() % 12;
        SCOPED_TRACE("round " + std::to_string(round) + ": " +
                     (at_point ? "PB_CRASH_AT=" + what : "SIGKILL after " + std::to_string(kill_after_events) + " events"));
        // The daemon of this round (a clean one is already running for round 0 without a point).
        erp.reset();
        ASSERT_EQ(daemon->stop(), std::optional<int>(0));
        daemon->env = at_point ? std::vector<std::string>{"PB_CRASH_AT=" + what} : std::vector<std::string>{};
        daemon->start();
        connect();
        for (const auto& id : ids) ASSERT_TRUE(erp->wait_online(id, 20s)) << id;

        // One payment on every terminal at once; amounts unique over the run.
        for (std::size_t t = 0; t < sims.size(); ++t) {
            Placed p{"R" + std::to_string(round) + "-" + ids[t],
                     static_cast<std::int64_t>(40000 + 1000 * round + 100 * t + rng() % 40), t};
            auto req = payment_start(p.order, p.amount, ids[t], specs[t].register_id);
            erp->send(req);
            placed.push_back(p);
        }
        if (at_point) {
            ASSERT_NO_FATAL_FAILURE(expect_killed(what));
        } else {
            std::uint64_t seen = 0;
            while (seen < kill_after_events && erp->wait_event([](const ReceivedEvent&) { return true; }, 5s)) ++seen;
            daemon->kill9();
        }
        ASSERT_NO_FATAL_FAILURE(restart(ids));
        for (const auto& p : placed) {
            SCOPED_TRACE(p.order);
            expect_order_settled(p.order, p.amount, sims[p.terminal].get());
        }
        if (HasFatalFailure()) return;
    }

    // Over the whole run: every terminal charged exactly what the ledger holds approved.
    for (std::size_t t = 0; t < sims.size(); ++t) {
        std::size_t approved = 0;
        for (const auto& p : placed)
            if (p.terminal == t)
                for (auto& v : order_payments(p.order)) approved += str(v, "state") == "approved";
        EXPECT_EQ(charged_by(*sims[t]).sales.size(), approved) << ids[t];
    }
    ASSERT_NO_FATAL_FAILURE(stop_and_verify_ledger());
}

}  // namespace
}  // namespace pb::daemontest
