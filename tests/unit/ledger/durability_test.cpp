// Durability: a child process appends payments and is SIGKILLed at random points, many times.
// After each kill the ledger reopens with every acknowledged append present, nothing
// half-written visible, and an intact audit chain (style.md point 12).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <random>
#include <sstream>
#include <thread>

#include "ledger_test_support.hpp"

namespace pb::ledger {
namespace {
using namespace testing;

int rank(PaymentState s) {
    switch (s) {
        case PaymentState::requested: return 0;
        case PaymentState::sent: return 1;
        case PaymentState::approved: return 2;
        default: return -1;
    }
}

void ack(int fd, const std::string& key, PaymentState s) {
    const std::string line = key + " " + std::string(state_id(s)) + "\n";
    // One write below PIPE_BUF is atomic: the parent never sees half a line.
    if (::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) ::_exit(3);
}

// Runs in the child: four threads each take payments through requested -> sent -> approved,
// acknowledging each step only after the ledger reports it durable. Never returns.
[[noreturn]] void child(const std::string& path, int round, int fd) {
    auto l = Ledger::open([&] { auto o = file_options(path); o.max_batch = 64; return o; }());
    if (!l) ::_exit(2);
    Ledger& ledger = **l;
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
            const std::string terminal = "R" + std::to_string(round) + "T" + std::to_string(t);
            for (int i = 0;; ++i) {
                const std::string key = terminal + "-" + std::to_string(i);
                auto b = ledger.run<Begun>([&](Tx& tx) { return tx.begin_payment(request(key, key, 100 + i, Tender::card, terminal)); });
                if (!b) ::_exit(4);
                ack(fd, key, PaymentState::requested);
                const auto id = b->payment.id;
                if (!ledger.run<Payment>([&](Tx& tx) { return tx.mark_sent(id); })) ::_exit(5);
                ack(fd, key, PaymentState::sent);
                if (!ledger.run<Payment>([&](Tx& tx) { return tx.record_result(id, PaymentState::approved, visa_data()); }))
                    ::_exit(6);
                ack(fd, key, PaymentState::approved);
            }
        });
    for (auto& th : threads) th.join();
    ::_exit(0);
}

TEST(Durability, AcknowledgedAppendsSurviveSigkillAtRandomPoints) {
    TempDir dir;
    const std::string path = dir.file("ledger.db");
    std::mt19937 rng(20261123);
    std::map<std::string, int> acked;  // key -> highest acknowledged rank, over all rounds
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(4);
    int rounds = 0;
    int kills_mid_run = 0;
    for (; rounds < 40 && std::chrono::steady_clock::now() < deadline; ++rounds) {
        int fds[2];
        ASSERT_EQ(::pipe(fds), 0);
        const pid_t pid = ::fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            ::close(fds[0]);
            child(path, rounds, fds[1]);
        }
        ::close(fds[1]);
        // Kill after a random number of acknowledgements: the other threads' appends are then
        // at arbitrary points (queued, mid-batch, mid-fsync).
        const int kill_after = std::uniform_int_distribution<int>(1, 60)(rng);
        std::string pending;
        int lines = 0;
        bool killed = false;
        char buf[4096];
        for (;;) {
            const ssize_t n = ::read(fds[0], buf, sizeof buf);
            if (n <= 0) break;  // EOF once the child is gone
            pending.append(buf, static_cast<std::size_t>(n));
            std::size_t nl;
            while ((nl = pending.find('\n')) != std::string::npos) {
                std::istringstream line(pending.substr(0, nl));
                pending.erase(0, nl + 1);
                std::string key, state;
                line >> key >> state;
                auto s = state_from_id(state);
                ASSERT_TRUE(s) << state;
                int& best = acked[key];
                best = std::max(best, rank(*s));
                ++lines;
            }
            if (!killed && lines >= kill_after) {
                ::kill(pid, SIGKILL);
                killed = true;
            }
        }
        ::close(fds[0]);
        int status = 0;
        ASSERT_EQ(::waitpid(pid, &status, 0), pid);
        ASSERT_TRUE(WIFSIGNALED(status)) << "child ended by itself, status " << status;
        if (WTERMSIG(status) == SIGKILL) ++kills_mid_run;

        auto l = Ledger::open(file_options(path));
        ASSERT_TRUE(l) << l.error().message;
        auto r = (*l)->reader();
        for (const auto& [key, best] : acked) {
            auto p = r->by_request_key(key);
            ASSERT_TRUE(p) << "acknowledged payment " << key << " lost after round " << rounds;
            EXPECT_GE(rank(p->state), best) << key << " went back to " << state_id(p->state);
        }
        HistoryFilter all;
        all.limit = 1'000'000;
        auto payments = r->history(all);
        ASSERT_TRUE(payments);
        for (const auto& p : *payments)
            ASSERT_GE(rank(p.state), 0) << "payment " << p.id.value << " in state " << state_id(p.state);
        auto v = r->verify();
        ASSERT_TRUE(v);
        ASSERT_TRUE(v->ok) << "round " << rounds << ": " << v->problem;
    }
    std::printf("durability: %d SIGKILL rounds, %zu acknowledged payments checked\n", rounds, acked.size());
    EXPECT_GE(rounds, 5);
    EXPECT_EQ(kills_mid_run, rounds);
    EXPECT_GT(acked.size(), 20u);
}

}  // namespace
}  // namespace pb::ledger
